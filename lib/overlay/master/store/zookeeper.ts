// The ZooKeeper store: leader election with ephemeral sequential znodes, one znode per agent
// record and one per claimed address or subnet (zk-layout.ts), every commit one multi-op that also
// checks this master's election znode and bumps `meta` from the version it read. A master that lost
// its session, or whose view is stale, cannot write; any doubt about a write ends its leadership,
// and it reads everything again before it leads again.
import type { Logger } from 'pino';
import type { ZkSpec } from '../config.js';
import type { StoredAgent } from '../types.js';
import { StoreError, type RecordChange, type Store, type StoreChange, type StoreHooks, type StoredRecord } from './types.js';
import { CreateMode, Exception, Zk, ZkError, type MultiOp } from './zk-client.js';
import { CLAIM_KINDS, claimsOf, paths, recordClaims } from './zk-layout.js';

const META = Buffer.from('{"format":"mesos-overlay-master/1"}');
/** Records are read this many at a time when a master takes over. */
const READ_CHUNK = 2500;

export class ZkStore implements Store {
  readonly kind = 'zookeeper' as const;
  readonly #p;
  #zk: Zk | undefined;
  #hooks: StoreHooks | undefined;
  #node: string | undefined;
  #leading = false;
  #closed = false;
  #electing: Promise<void> | undefined;
  #again = false;
  #expiry: NodeJS.Timeout | undefined;
  #metaVersion = 0;
  readonly #versions = new Map<string, number>();
  readonly #recordVersions = new Map<string, number>();

  constructor(
    readonly spec: ZkSpec,
    readonly advertise: string,
    storeTimeoutMs: number,
    readonly log: Logger,
  ) {
    this.#p = paths(spec.root);
    this.opTimeoutMs = Math.min(storeTimeoutMs, spec.sessionTimeoutMs);
  }

  readonly opTimeoutMs: number;

  get location(): string {
    return `${this.spec.display} ${this.spec.root}`;
  }

  async start(hooks: StoreHooks): Promise<void> {
    this.#hooks = hooks;
    hooks.lost(`connecting to ZooKeeper at ${this.spec.display}`);
    this.#connect();
  }

  /** A new client and session; the previous one (if any) is closed and its election node is left to expire. */
  #connect(): void {
    if (this.#closed) return;
    this.#zk?.close();
    this.#node = undefined;
    const zk = Zk.create(this.spec.servers, this.spec.sessionTimeoutMs, this.opTimeoutMs, this.spec.auth);
    this.#zk = zk;
    zk.client.on('state', (s) => {
      if (this.#zk !== zk || this.#closed) return;
      this.log.info({ zk: s.name }, 'zookeeper session state');
      if (s.name === 'SYNC_CONNECTED') {
        clearTimeout(this.#expiry);
        this.#elect();
      } else if (s.name === 'DISCONNECTED') {
        this.#demote('ZooKeeper connection lost');
        // The client does not report an expiry it cannot hear about (no server reachable): past
        // the session timeout the session is gone for the ensemble, so start a new one.
        clearTimeout(this.#expiry);
        this.#expiry = setTimeout(() => this.#zk === zk && this.#connect(), this.spec.sessionTimeoutMs);
      } else if (s.name === 'EXPIRED') {
        this.#demote('ZooKeeper session expired');
        this.#connect();
      } else if (s.name === 'AUTH_FAILED') {
        this.#demote('ZooKeeper authentication failed');
      }
    });
    zk.client.connect();
  }

  #demote(reason: string): void {
    this.#leading = false;
    this.#hooks?.lost(reason);
  }

  /** Run (or re-run) the election; concurrent triggers collapse into one more round. */
  #elect(): void {
    if (this.#electing) {
      this.#again = true;
      return;
    }
    this.#electing = (async () => {
      do {
        this.#again = false;
        const zk = this.#zk;
        if (!zk || this.#closed) return;
        try {
          await this.#round(zk);
        } catch (e) {
          this.#demote(`election: ${(e as Error).message}`);
          // A failed round is retried while the session lives (e.g. a timeout during a takeover).
          if (zk === this.#zk && !this.#closed && zk.client.getState().name === 'SYNC_CONNECTED') {
            await new Promise((r) => setTimeout(r, 500));
            this.#again = true;
          }
        }
      } while (this.#again);
    })().finally(() => (this.#electing = undefined));
  }

  async #round(zk: Zk): Promise<void> {
    const p = this.#p;
    if (!this.#node) {
      await zk.mkdirp(p.election);
      await zk.mkdirp(p.agents);
      await zk.mkdirp(p.records);
      for (const k of CLAIM_KINDS) await zk.mkdirp(p.claims(k));
      await zk.create(p.meta, META, CreateMode.PERSISTENT).catch((e: ZkError) => {
        if (e.code !== Exception.NODE_EXISTS) throw e;
      });
      this.#node = await zk.create(`${p.election}/n_`, Buffer.from(this.advertise), CreateMode.EPHEMERAL_SEQUENTIAL);
      this.log.info({ node: this.#node }, 'joined the election');
    }
    // Any change among the candidates re-runs the round: the leader we redirect to stays current.
    // (A watch fires once, for any change or a session event: either way, look again.)
    const children = await zk.getChildren(p.election, () => {
      if (zk === this.#zk) this.#elect();
    });
    const seq = (n: string) => Number(n.slice(n.lastIndexOf('_') + 1));
    children.sort((a, b) => seq(a) - seq(b));
    const mine = this.#node.slice(this.#node.lastIndexOf('/') + 1);
    if (!children.includes(mine)) {
      // Our ephemeral node is gone (the session was replaced): join again.
      this.#node = undefined;
      this.#again = true;
      return;
    }
    if (children[0] !== mine) {
      this.#leading = false;
      const leader = await zk.getData(`${p.election}/${children[0]}`).then(
        (r) => r.data.toString(),
        () => undefined,
      );
      this.#hooks?.follow(leader);
      return;
    }
    if (this.#leading) return;
    await this.#takeOver(zk);
  }

  /** Read every record and claim; lead only if they agree. */
  async #takeOver(zk: Zk): Promise<void> {
    const p = this.#p;
    const t0 = performance.now();
    const meta = await zk.getData(p.meta);
    const ips = await zk.getChildren(p.agents);
    const agents: StoredAgent[] = [];
    this.#versions.clear();
    for (let i = 0; i < ips.length; i += READ_CHUNK) {
      const part = await Promise.all(ips.slice(i, i + READ_CHUNK).map(async (ip) => ({ ip, r: await zk.getData(p.agent(ip)) })));
      for (const { ip, r } of part) {
        let a: StoredAgent;
        try {
          a = JSON.parse(r.data.toString()) as StoredAgent;
        } catch (e) {
          return this.#hooks?.refuse(`${p.agent(ip)}: not valid JSON: ${(e as Error).message}`);
        }
        if (a?.ip !== ip) return this.#hooks?.refuse(`${p.agent(ip)}: holds the record of ${JSON.stringify(a?.ip)}`);
        agents.push(a);
        this.#versions.set(ip, r.stat.version);
      }
    }
    const records: StoredRecord[] = [];
    this.#recordVersions.clear();
    const names = await zk.getChildren(p.records);
    for (let i = 0; i < names.length; i += READ_CHUNK) {
      const part = await Promise.all(names.slice(i, i + READ_CHUNK).map(async (n) => ({ n, r: await zk.getData(`${p.records}/${n}`) })));
      for (const { n, r } of part) {
        let rec: StoredRecord;
        try {
          rec = JSON.parse(r.data.toString()) as StoredRecord;
        } catch (e) {
          return this.#hooks?.refuse(`${p.records}/${n}: not valid JSON: ${(e as Error).message}`);
        }
        if (typeof rec?.key !== 'string' || encodeURIComponent(rec.key) !== n || !Array.isArray(rec.claims)) return this.#hooks?.refuse(`${p.records}/${n}: holds another record (${JSON.stringify(rec?.key)})`);
        records.push(rec);
        this.#recordVersions.set(rec.key, r.stat.version);
      }
    }
    const held = [...agents.flatMap(claimsOf), ...records.flatMap(recordClaims)];
    const want = new Set(held);
    const have = new Set<string>();
    for (const k of CLAIM_KINDS) for (const c of await zk.getChildren(p.claims(k))) have.add(`${k}/${c}`);
    const orphan = [...have].filter((c) => !want.has(c));
    const missing = [...want].filter((c) => !have.has(c));
    if (orphan.length || missing.length) {
      return this.#hooks?.refuse(`claims and records disagree: ${orphan.length} claim(s) without a record (${orphan.slice(0, 3).join(', ')}), ${missing.length} record claim(s) without a znode (${missing.slice(0, 3).join(', ')})`);
    }
    // A duplicate inside the records themselves shows as fewer claims than records hold.
    if (want.size !== held.length) return this.#hooks?.refuse('two records hold the same claim');
    this.#metaVersion = meta.stat.version;
    this.#leading = true;
    this.log.info({ agents: agents.length, records: records.length, claims: have.size, ms: Math.round(performance.now() - t0) }, 'elected: read the stored state');
    this.#hooks?.lead(agents, records);
  }

  async commit(changes: StoreChange[], records: RecordChange[] = []): Promise<void> {
    const zk = this.#zk;
    if (!zk || !this.#leading || !this.#node) throw new StoreError('zookeeper: not leading');
    const p = this.#p;
    const ops: MultiOp[] = [{ op: 'check', path: this.#node, version: 0 }];
    for (const c of changes) {
      const before = new Set(c.before ? claimsOf(c.before) : []);
      const after = new Set(c.after ? claimsOf(c.after) : []);
      if (c.after && !c.before) ops.push({ op: 'create', path: p.agent(c.ip), data: Buffer.from(JSON.stringify(c.after)) });
      else if (c.after) ops.push({ op: 'set', path: p.agent(c.ip), data: Buffer.from(JSON.stringify(c.after)), version: this.#versions.get(c.ip) ?? -1 });
      else ops.push({ op: 'remove', path: p.agent(c.ip), version: this.#versions.get(c.ip) ?? -1 });
      for (const x of after) if (!before.has(x)) ops.push({ op: 'create', path: p.claim(x), data: Buffer.from(c.ip) });
      for (const x of before) if (!after.has(x)) ops.push({ op: 'remove', path: p.claim(x) });
    }
    for (const c of records) {
      const before = new Set(c.before ? recordClaims(c.before) : []);
      const after = new Set(c.after ? recordClaims(c.after) : []);
      const data = c.after && Buffer.from(JSON.stringify(c.after));
      if (c.after && !c.before) ops.push({ op: 'create', path: p.record(c.key), data: data! });
      else if (c.after) ops.push({ op: 'set', path: p.record(c.key), data: data!, version: this.#recordVersions.get(c.key) ?? -1 });
      else ops.push({ op: 'remove', path: p.record(c.key), version: this.#recordVersions.get(c.key) ?? -1 });
      for (const x of after) if (!before.has(x)) ops.push({ op: 'create', path: p.claim(x), data: Buffer.from(c.key) });
      for (const x of before) if (!after.has(x)) ops.push({ op: 'remove', path: p.claim(x) });
    }
    ops.push({ op: 'set', path: p.meta, data: META, version: this.#metaVersion });
    try {
      await zk.multi(ops);
    } catch (e) {
      // Refused (a duplicate claim, a stale version, our election node gone) or unknown (timeout,
      // connection loss): either way our view may be wrong. Stop leading; read everything again.
      this.#demote(`store write failed: ${(e as Error).message}`);
      this.#elect();
      throw new StoreError((e as Error).message);
    }
    this.#metaVersion++;
    for (const c of changes) {
      if (!c.after) this.#versions.delete(c.ip);
      else this.#versions.set(c.ip, c.before ? (this.#versions.get(c.ip) ?? -1) + 1 : 0);
    }
    for (const c of records) {
      if (!c.after) this.#recordVersions.delete(c.key);
      else this.#recordVersions.set(c.key, c.before ? (this.#recordVersions.get(c.key) ?? -1) + 1 : 0);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#expiry);
    this.#leading = false;
    const zk = this.#zk;
    this.#zk = undefined;
    if (zk && this.#node) await zk.remove(this.#node).catch(() => {});
    zk?.close();
  }
}
