// node-zookeeper-client (pure JavaScript, no native build) behind promises, each operation bounded
// by a timeout: the client queues requests while disconnected and would otherwise wait forever.
import zookeeper from 'node-zookeeper-client';
import type { Client, Event, Stat } from 'node-zookeeper-client';

export const { CreateMode, Exception } = zookeeper;

export class ZkError extends Error {
  override name = 'ZkError';
  constructor(
    message: string,
    /** node-zookeeper-client's Exception code (e.g. Exception.NODE_EXISTS), or undefined for a timeout. */
    readonly code: number | undefined,
  ) {
    super(message);
  }
}

export type MultiOp =
  | { op: 'create'; path: string; data: Buffer; mode?: number }
  | { op: 'set'; path: string; data: Buffer; version: number }
  | { op: 'remove'; path: string; version?: number }
  | { op: 'check'; path: string; version?: number };

export class Zk {
  private constructor(
    readonly client: Client,
    readonly timeoutMs: number,
  ) {}

  /** A client for `servers` (not yet connected: call client.connect() after adding listeners). */
  static create(servers: string, sessionTimeoutMs: number, opTimeoutMs: number, auth?: string): Zk {
    const client = zookeeper.createClient(servers, { sessionTimeout: sessionTimeoutMs, spinDelay: 200, retries: 0 });
    if (auth) client.addAuthInfo('digest', Buffer.from(auth));
    return new Zk(client, opTimeoutMs);
  }

  #call<T>(what: string, fn: (cb: (err: unknown, v?: T) => void) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const t = setTimeout(() => reject(new ZkError(`zookeeper ${what}: no answer within ${this.timeoutMs} ms`, undefined)), this.timeoutMs);
      fn((err, v) => {
        clearTimeout(t);
        if (err) {
          const e = err as { code?: number; message?: string; name?: string };
          reject(new ZkError(`zookeeper ${what}: ${e.name ?? e.message ?? String(err)}`, e.code));
        } else resolve(v as T);
      });
    });
  }

  mkdirp(path: string): Promise<string> {
    return this.#call(`mkdirp ${path}`, (cb) => this.client.mkdirp(path, cb));
  }

  create(path: string, data: Buffer, mode: number): Promise<string> {
    return this.#call(`create ${path}`, (cb) => this.client.create(path, data, mode, cb));
  }

  getChildren(path: string, watcher?: (e: Event) => void): Promise<string[]> {
    return this.#call(`get children of ${path}`, (cb) => (watcher ? this.client.getChildren(path, watcher, cb) : this.client.getChildren(path, cb)));
  }

  getData(path: string): Promise<{ data: Buffer; stat: Stat }> {
    return this.#call(`get ${path}`, (cb) => this.client.getData(path, (err, data, stat) => cb(err, { data, stat })));
  }

  exists(path: string): Promise<Stat | null> {
    return this.#call(`exists ${path}`, (cb) => this.client.exists(path, cb));
  }

  remove(path: string, version = -1): Promise<void> {
    return this.#call(`remove ${path}`, (cb) => this.client.remove(path, version, cb));
  }

  /** One atomic multi-op: every op applies or none does. */
  multi(ops: MultiOp[]): Promise<void> {
    const tx = this.client.transaction();
    for (const o of ops) {
      if (o.op === 'create') tx.create(o.path, o.data, o.mode ?? CreateMode.PERSISTENT);
      else if (o.op === 'set') tx.setData(o.path, o.data, o.version);
      else if (o.op === 'remove') tx.remove(o.path, o.version ?? -1);
      else tx.check(o.path, o.version ?? -1);
    }
    return this.#call(`multi of ${ops.length} ops`, (cb) => tx.commit((err) => cb(err)));
  }

  close(): void {
    this.client.close();
  }
}
