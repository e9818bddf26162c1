// `mesos-cni daemon`: serves CNI requests for every plugin of this package over a unix socket by
// running the same `handle()` the executables run, in this one warm process. Requests for the same
// container run in arrival order, different containers in parallel; SIGTERM stops accepting and
// waits for what was accepted.
import { chmod } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { failure, handle } from '../cni/skel.js';
import { withContainerLock } from '../cni/container-lock.js';
import { inProcess, loadPlugin, PLUGIN_TYPES } from '../plugins/registry.js';
import { native } from '../native/index.js';
import type { Plugin } from '../cni/plugin.js';
import { ACCEPT, decodeRequest, DECLINE, encodeReply, frame, frameLength, GO, ProtocolError, type Request } from './protocol.js';
import { KeyedQueue } from '../util/keyed-queue.js';
import { prepareSocketPath } from './socket.js';
import type { DaemonLogger } from './log.js';
import { randomHex } from '../util/digest.js';

/**
 * Set in the environment of every request the daemon runs, so that a launcher it execs (a delegate
 * it did not recognise as ours) runs standalone instead of calling back into this daemon, where it
 * would queue behind its own parent under the same container ID.
 */
export const STANDALONE_ENV = 'MESOS_CNI_LAUNCHER';

export interface DaemonOptions {
  socket: string;
  log: DaemonLogger;
  /** How long a connection may take to send its request, then its go byte (default 10 s). */
  idleTimeoutMs?: number;
}

export class Daemon {
  readonly #queue = new KeyedQueue();
  readonly #conns = new Set<Socket>();
  #draining = false;
  #served = 0;
  #closed: Promise<void>;

  private constructor(
    readonly socket: string,
    private readonly server: Server,
    private readonly log: DaemonLogger,
    private readonly idleMs: number,
  ) {
    this.#closed = new Promise((resolve) => server.once('close', () => resolve()));
  }

  static async start(opts: DaemonOptions): Promise<Daemon> {
    await prepareSocketPath(opts.socket);
    // Warm every plugin's code, and load the addon (which a plugin process loads at its first
    // native call), now rather than on the first request.
    await Promise.all(PLUGIN_TYPES.map((t) => loadPlugin(t)));
    native.opNames();
    const server = createServer({ allowHalfOpen: true });
    const d = new Daemon(opts.socket, server, opts.log, opts.idleTimeoutMs ?? 10_000);
    server.on('connection', (s) => d.#serve(s));
    // umask first: the socket is never reachable by others, not even between bind and chmod.
    const old = process.umask(0o177);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(opts.socket, () => (server.off('error', reject), resolve()));
      });
    } finally {
      process.umask(old);
    }
    await chmod(opts.socket, 0o600);
    opts.log.info({ socket: opts.socket, plugins: PLUGIN_TYPES }, 'listening');
    return d;
  }

  /** Requests served since start. */
  get served(): number {
    return this.#served;
  }

  /** Stop accepting; resolves once every accepted request has been answered. */
  drain(): Promise<void> {
    if (!this.#draining) {
      this.#draining = true;
      this.log.info({ open: this.#conns.size, running: this.#queue.running }, 'draining');
      this.server.close();
      // Connections still sending a request are declined (their launchers run the plugin themselves).
      for (const s of this.#conns) s.emit('drain-check');
    }
    return this.#closed;
  }

  #serve(s: Socket): void {
    this.#conns.add(s);
    s.once('close', () => this.#conns.delete(s));
    s.on('error', () => {}); // a launcher that went away: nothing to tell it
    s.setTimeout(this.idleMs, () => s.destroy());
    let buf = Buffer.alloc(0);
    let req: Request | undefined;
    let started = false;
    const decline = (why: string) => {
      this.log.info({ why }, 'declined');
      s.end(Buffer.from([DECLINE]));
    };
    s.on('drain-check', () => {
      if (!req && !started) decline('draining');
    });
    s.on('data', (chunk: Buffer) => {
      if (started) return;
      buf = Buffer.concat([buf, chunk]);
      try {
        if (!req) {
          const n = frameLength(buf);
          if (n === undefined || buf.length < 4 + n) return;
          req = decodeRequest(buf.subarray(4, 4 + n));
          buf = buf.subarray(4 + n);
          if (this.#draining) return decline('draining');
          if (!PLUGIN_TYPES.includes(req.type)) return decline(`no plugin ${req.type}`);
          s.write(Buffer.from([ACCEPT]));
        }
        if (buf.length === 0) return;
        if (buf[0] !== GO) throw new ProtocolError(`expected go, got byte ${buf[0]}`);
        started = true;
        s.setTimeout(0); // from here the request runs to its end whatever the launcher does
        this.#run(s, req).catch((e: unknown) => {
          this.log.error({ err: String((e as Error)?.stack ?? e) }, 'request failed outside the plugin');
          s.destroy();
        });
      } catch (e) {
        this.log.warn({ err: (e as Error).message }, 'bad request');
        s.destroy();
      }
    });
  }

  async #run(s: Socket, req: Request): Promise<void> {
    const id = randomHex(6);
    const env: Record<string, string> = { ...req.env, [STANDALONE_ENV]: 'standalone' };
    const fields = { req: id, plugin: req.type, command: env.CNI_COMMAND, containerId: env.CNI_CONTAINERID, ifname: env.CNI_IFNAME };
    const queued = performance.now();
    let began = queued;
    let out;
    try {
      out = await this.#queue.run(env.CNI_CONTAINERID || undefined, async () => {
        began = performance.now();
        const plugin = (await loadPlugin(req.type)) as Plugin;
        // The same per-container lock a standalone plugin takes: a launcher that fell back to
        // running the plugin itself (daemon restarting) is kept apart from this request.
        return withContainerLock(env, (locked) => handle(plugin, locked, req.stdin, { inProcess }), (o) => o.exitCode === 0).catch((e: unknown) =>
          failure(e, req.stdin),
        );
      });
    } catch (e) {
      // handle() never throws; should anything else, the launcher's answer is "try again later".
      this.log.error({ ...fields, err: (e as Error).message }, 'request failed outside the plugin');
      s.destroy();
      return;
    }
    this.#served++;
    const done = { ...fields, mode: 'daemon', exitCode: out.exitCode, ms: +(performance.now() - began).toFixed(2), queuedMs: +(began - queued).toFixed(2) };
    if (out.exitCode === 0) this.log.info(done, 'served');
    else this.log.warn({ ...done, error: out.stdout.trim() }, 'served with a CNI error');
    if (s.destroyed || !s.writable) {
      this.log.warn(fields, 'launcher went away before the reply');
      return;
    }
    s.end(frame(encodeReply({ exitCode: out.exitCode, requestId: id, stdout: Buffer.from(out.stdout) })));
  }
}

/**
 * The Node flags the daemon is meant to run with (docs/daemon.md's unit, bench/daemon.ts). V8 sizes
 * its heap for throughput and collects late: with its defaults the daemon's RSS settled at
 * 100-110 MB after 1000 attaches here, with these at ~78 MB. The daemon keeps no per-container
 * state, so its live heap stays small and the caps only make collections come earlier.
 */
export const DAEMON_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=2', '--max-old-space-size=64'];

/**
 * A rejection nobody handled, or an exception thrown from a callback, belongs to one request at
 * most: by default Node ends the process, and with it every request in flight. Log it and go on
 * (the daemon holds no per-container state a half-run request could corrupt; the lint rule
 * no-floating-promises keeps these from arising in our code).
 */
function isolateFailures(log: DaemonLogger): void {
  process.on('unhandledRejection', (e) => log.error({ err: String((e as Error)?.stack ?? e) }, 'unhandled rejection (isolated; the daemon goes on)'));
  process.on('uncaughtException', (e) => log.error({ err: String(e?.stack ?? e) }, 'uncaught exception (isolated; the daemon goes on)'));
}

/** Run the daemon until SIGTERM/SIGINT, then drain and return. */
export async function runDaemon(opts: DaemonOptions): Promise<void> {
  const missing = DAEMON_NODE_FLAGS.filter((f) => !process.execArgv.some((a) => a.split('=')[0] === f.split('=')[0]));
  if (missing.length) opts.log.warn({ missing }, 'node flags for a small heap not given: the RSS will grow to ~110 MB (see docs/daemon.md)');
  isolateFailures(opts.log);
  const d = await Daemon.start(opts);
  await new Promise<void>((resolve) => {
    const stop = (sig: string) => {
      opts.log.info({ signal: sig }, 'stopping');
      void d.drain().then(resolve);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  opts.log.info({ served: d.served }, 'stopped');
}
