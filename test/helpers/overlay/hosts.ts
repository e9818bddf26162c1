// Fake hosts for overlay tests and benchmarks: N network namespaces ("hosts", eth0 = 10.213.0.i/24)
// joined by a bridge in a namespace of its own (the underlay); daemons (masters, agents, ZooKeeper)
// started inside a host, reached from the test through unix-socket relays (relay.ts); containers
// attached through the CNI config an agent wrote, exec'd as the Mesos agent does. close() kills
// every process by its pid and removes every namespace and file, also after a failure.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as netns from '../../../lib/netns/index.js';
import { execPlugin } from '../../../lib/cni/invoke.js';
import { NetlinkHandle } from '../../../lib/netlink/index.js';
import { ourBinDir } from '../cni.js';
import type { TestNs } from '../fixture.js';

const execFileP = promisify(execFile);
const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));
export const AGENT_BIN = here('../../../bin/mesos-overlay-agent.cjs');
export const MASTER_BIN = here('../../../bin/mesos-overlay-master.cjs');
const CLI = here('../../../bin/mesos-cni.js');

// Not fixture.js's (it loads ava, and the benchmark uses these hosts too): the same scheme.
let seq = 0;
const uniq = (prefix: string) => `${prefix}${process.pid.toString(36)}${(seq++).toString(36)}`.slice(0, 15);

export interface Host extends TestNs {
  i: number;
  ip: string;
  dir: string;
}

export interface Reply {
  status: number;
  body: string;
  json: () => any;
}

export class Hosts {
  readonly hosts: Host[] = [];
  readonly #procs = new Map<string, ChildProcess>();
  readonly #extra: TestNs[] = [];
  #underlay: string | undefined;

  private constructor(
    readonly prefix: string,
    readonly dir: string,
  ) {}

  /** `n` hosts on an underlay bridge; 10.213.0.(i+1) each. */
  static async create(prefix: string, n: number): Promise<Hosts> {
    const h = new Hosts(prefix, mkdtempSync(join(tmpdir(), `${prefix}-`)));
    try {
      const u = uniq(`${prefix}u`);
      await netns.add(u);
      h.#underlay = u;
      const uns = await netns.open(u);
      const unl = await NetlinkHandle.open(uns);
      await unl.link.add({ kind: 'bridge', name: 'ubr', up: true });
      for (let i = 0; i < n; i++) {
        const name = uniq(`${prefix}h`);
        const path = await netns.add(name);
        const ns = await netns.open(path);
        const nl = await NetlinkHandle.open(ns);
        const dir = join(h.dir, `h${i}`);
        mkdirSync(dir);
        const host: Host = { name, path, ns, nl, i, ip: `10.213.0.${i + 1}`, dir };
        h.hosts.push(host);
        await unl.link.add({ kind: 'veth', name: `u${i}`, master: 'ubr', up: true, peer: { name: 'eth0', netns: ns } });
        await nl.request([
          { op: 'link.set', spec: { name: 'lo', up: true } },
          { op: 'addr.add', spec: { dev: 'eth0', address: `${host.ip}/24` } },
          { op: 'link.set', spec: { name: 'eth0', up: true } },
        ]);
      }
      unl.close();
      uns.close();
    } catch (e) {
      await h.close();
      throw e;
    }
    return h;
  }

  /** Start a program inside host `h` (`ip netns exec`, so the child's pid is the program's). */
  spawn(key: string, h: Host, argv: string[], opts: { env?: Record<string, string> } = {}): ChildProcess {
    const p = spawn('ip', ['netns', 'exec', h.name, ...argv], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...opts.env } });
    let err = '';
    p.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    // On 'close' (stderr read to its end), not 'exit', which can come before its last lines.
    p.on('close', (code, sig) => writeFileSync(join(this.dir, `${key}.exit`), `${code} ${sig} ${err}`));
    this.#procs.set(key, p);
    return p;
  }

  /** kill -<signal> a started process and wait for it. */
  async kill(key: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    const p = this.#procs.get(key);
    this.#procs.delete(key);
    if (!p || p.exitCode !== null || p.signalCode !== null) return p?.exitCode ?? null;
    const gone = new Promise<number | null>((r) => p.once('exit', (code) => r(code)));
    p.kill(signal);
    return gone;
  }

  running(key: string): boolean {
    const p = this.#procs.get(key);
    return !!p && p.exitCode === null && p.signalCode === null;
  }

  /** A relay in host `h` serving <dir>/<host>-<port>.sock for each loopback or host-IP port. */
  async relay(h: Host, ports: number[]): Promise<void> {
    const dir = join(this.dir, `relay${h.i}`);
    mkdirSync(dir, { recursive: true });
    const p = spawn('ip', ['netns', 'exec', h.name, process.execPath, here('./relay.js'), dir, ...ports.map(String)], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.#procs.set(`relay${h.i}`, p);
    await new Promise<void>((resolve, reject) => {
      p.stdout!.once('data', () => resolve());
      p.once('exit', (code) => reject(new Error(`relay in ${h.name} exited ${code}`)));
    });
  }

  /** HTTP to 127.0.0.1:<port> inside host `h` (through its relay). */
  http(h: Host, port: number, method: string, path: string, body?: unknown, timeoutMs = 10_000): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const text = body === undefined ? undefined : JSON.stringify(body);
      const req = request({ socketPath: join(this.dir, `relay${h.i}`, `${port}.sock`), method, path, headers: text ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) } : {}, timeout: timeoutMs }, (res) => {
        let b = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (b += d));
        res.on('end', () => resolve({ status: res.statusCode!, body: b, json: () => JSON.parse(b) }));
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${path} in ${h.name}: no answer in ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(text);
    });
  }

  /** Write agent i's config and start `mesos-overlay-agent` in its host. */
  startAgent(h: Host, cfg: Record<string, unknown>, key = `agent${h.i}`): ChildProcess {
    const file = join(h.dir, 'agent.json');
    writeFileSync(file, JSON.stringify({ cni_dir: join(h.dir, 'cni'), cni_data_dir: join(h.dir, 'cni-data'), state_dir: join(h.dir, 'state'), ...cfg }));
    return this.spawn(key, h, [process.execPath, AGENT_BIN, '--config', file, '--log-file', join(h.dir, 'agent.log')]);
  }

  startMaster(h: Host, cfg: Record<string, unknown>, key = `master${h.i}`): ChildProcess {
    const file = join(h.dir, 'master.json');
    writeFileSync(file, JSON.stringify(cfg));
    return this.spawn(key, h, [process.execPath, MASTER_BIN, '--config', file, '--log-file', join(h.dir, 'master.log')]);
  }

  log(h: Host, what = 'agent'): string {
    try {
      return readFileSync(join(h.dir, `${what}.log`), 'utf8');
    } catch {
      return '';
    }
  }

  /** A container namespace (removed at close). */
  async containerNs(): Promise<TestNs> {
    const name = uniq(`${this.prefix}c`);
    const path = await netns.add(name);
    const ns = await netns.open(path);
    const c: TestNs = { name, path, ns, nl: await NetlinkHandle.open(ns) };
    this.#extra.push(c);
    return c;
  }

  /** `mesos-cni exec add|del --mesos` in host `h` with the CNI config the agent wrote, as the Mesos agent runs it. */
  async mesos(h: Host, command: 'add' | 'del', network: string, ctr: TestNs, id: string, ports: string[] = []): Promise<{ exitCode: number; stdout: string; stderr: string }> {
    const args = ['netns', 'exec', h.name, process.execPath, CLI, 'exec', command, '--config', join(h.dir, 'cni', `${network}.conf`), '--netns', ctr.path, '--container-id', id, '--cni-path', await ourBinDir(), '--cache-dir', join(h.dir, 'cni-cache'), '--mesos', ...ports.flatMap((p) => ['--port-mapping', p])];
    return execPlugin('/usr/sbin/ip', { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' }, '', args);
  }

  /** `ip …` / any command inside a namespace (by name). */
  async exec(ns: string, cmd: string[], timeoutMs = 15_000): Promise<string> {
    return (await execFileP('ip', ['netns', 'exec', ns, ...cmd], { timeout: timeoutMs })).stdout;
  }

  async close(): Promise<void> {
    for (const key of [...this.#procs.keys()]) await this.kill(key);
    for (const c of [...this.#extra, ...this.hosts]) {
      c.nl.close();
      c.ns.close();
      await netns.del(c.path).catch(() => {});
    }
    if (this.#underlay) await netns.del(this.#underlay).catch(() => {});
    if (!process.env.KEEP_HOSTS_DIR) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Poll `fn` until it returns a truthy value (returned), or fail with `what` after `ms`. */
export async function until<T>(what: string, ms: number, fn: () => Promise<T> | T, everyMs = 50): Promise<NonNullable<T>> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
