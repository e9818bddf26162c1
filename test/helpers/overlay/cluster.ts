// A ZooKeeper ensemble (Debian's zookeeper jars, java run directly) and overlay masters, all on
// loopback ports inside a network namespace the helper makes, with their own data under a temp
// dir. The test process reaches them through unix sockets (relay.ts). Everything is removed by
// close(), also after a failure. Shared by the integration tests and the benchmark.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as netns from '../../../lib/netns/index.js';
import { NetlinkHandle } from '../../../lib/netlink/index.js';

const execFileP = promisify(execFile);
const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));
export const MASTER_BIN = fileURLToPath(new URL('../../../bin/mesos-overlay-master.cjs', import.meta.url));
const ZK_CP = ['/etc/zookeeper/conf', '/usr/share/java/zookeeper.jar', '/usr/share/java/slf4j-nop.jar'].filter(existsSync).join(':');

export const zookeeperInstalled = (): boolean => existsSync('/usr/share/java/zookeeper.jar') && existsSync('/usr/bin/java');

const zkPort = (i: number) => 2181 + i;

/**
 * Member i's zoo.cfg (its myid written into `dataDir`): tickTime 500, so sessions as short as 1 s
 * are allowed (ZooKeeper's minimum is 2 ticks). `servers`: "host:quorumPort:electionPort" each.
 */
export function zooConfig(i: number, dataDir: string, clientPort: number, servers: string[], clientAddress?: string): string {
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(join(dataDir, 'myid'), `${i + 1}\n`);
  const lines = [`tickTime=500`, `initLimit=40`, `syncLimit=10`, `dataDir=${dataDir}`, `clientPort=${clientPort}`, ...(clientAddress ? [`clientPortAddress=${clientAddress}`] : []), `admin.enableServer=false`, `4lw.commands.whitelist=srvr,ruok`, `minSessionTimeout=1000`, `maxSessionTimeout=60000`];
  return [...lines, ...servers.map((s, j) => `server.${j + 1}=${s}`)].join('\n') + '\n';
}

/** The command running one ZooKeeper member from Debian's jars (to run inside a namespace). */
export function zkJava(cfgFile: string, logDir: string): string[] {
  return ['java', '-Xms32m', '-Xmx192m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', `-Dzookeeper.log.dir=${logDir}`, '-cp', ZK_CP, 'org.apache.zookeeper.server.quorum.QuorumPeerMain', cfgFile];
}

export const masterPort = (i: number) => 5061 + i;

export interface HttpReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json: () => any;
}

export class Cluster {
  readonly zk: (ChildProcess | undefined)[] = [];
  readonly masters: (ChildProcess | undefined)[] = [];
  #relay: ChildProcess | undefined;

  private constructor(
    readonly ns: string,
    readonly dir: string,
    readonly size: number,
  ) {}

  /** A namespace with lo up, a relay, and (size > 0) a ZooKeeper ensemble of `size` members. */
  static async start(prefix: string, size: number, opts: { masters?: number } = {}): Promise<Cluster> {
    const ns = `${prefix}${process.pid.toString(36)}`.slice(0, 15);
    const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
    const c = new Cluster(ns, dir, size);
    try {
      await netns.add(ns);
      const h = await netns.open(ns);
      const nl = await NetlinkHandle.open(h);
      await nl.link.set({ name: 'lo', up: true });
      nl.close();
      h.close();
      const ports = [...Array.from({ length: size }, (_, i) => zkPort(i)), ...Array.from({ length: opts.masters ?? 3 }, (_, i) => masterPort(i))];
      c.#relay = spawn('ip', ['netns', 'exec', ns, process.execPath, here('./relay.js'), dir, ...ports.map(String)], { stdio: ['pipe', 'pipe', 'inherit'] });
      await new Promise<void>((resolve, reject) => {
        c.#relay!.stdout!.once('data', () => resolve());
        c.#relay!.once('exit', (code) => reject(new Error(`relay exited ${code}`)));
      });
      for (let i = 0; i < size; i++) c.#writeZkConfig(i);
      for (let i = 0; i < size; i++) c.startZk(i);
      if (size > 0) await c.waitQuorum(60_000);
    } catch (e) {
      await c.close();
      throw e;
    }
    return c;
  }

  get zkConnect(): string {
    return Array.from({ length: this.size }, (_, i) => `127.0.0.1:${zkPort(i)}`).join(',');
  }

  #writeZkConfig(i: number): void {
    const data = join(this.dir, `zk${i}`);
    const servers = Array.from({ length: this.size }, (_, j) => `127.0.0.1:${2888 + j}:${3888 + j}`);
    writeFileSync(join(this.dir, `zoo${i}.cfg`), zooConfig(i, data, zkPort(i), servers, '127.0.0.1'));
  }

  startZk(i: number): void {
    const log = join(this.dir, `zk${i}.log`);
    const args = ['netns', 'exec', this.ns, ...zkJava(join(this.dir, `zoo${i}.cfg`), this.dir)];
    const p = spawn('ip', args, { stdio: ['ignore', 'ignore', 'ignore'], env: { ...process.env, JAVA_TOOL_OPTIONS: '' } });
    p.on('error', () => {});
    writeFileSync(log, `started pid ${p.pid}\n`);
    this.zk[i] = p;
  }

  /** kill -9 a ZooKeeper member. */
  async killZk(i: number): Promise<void> {
    const p = this.zk[i];
    this.zk[i] = undefined;
    if (p && p.exitCode === null) {
      const gone = new Promise((r) => p.once('exit', r));
      p.kill('SIGKILL');
      await gone;
    }
  }

  sock(port: number): string {
    return join(this.dir, `${port}.sock`);
  }

  /** A ZooKeeper four-letter word through the relay ("srvr" → mode etc.). */
  fourLetter(i: number, word: string): Promise<string> {
    return new Promise((resolve) => {
      const s = connect(this.sock(zkPort(i)));
      let out = '';
      s.on('connect', () => s.write(word));
      s.on('data', (d) => (out += d));
      s.on('close', () => resolve(out));
      s.on('error', () => resolve(''));
      s.setTimeout(2000, () => s.destroy());
    });
  }

  async waitQuorum(timeoutMs: number, members = Array.from({ length: this.size }, (_, i) => i)): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      const modes = await Promise.all(members.map((i) => this.fourLetter(i, 'srvr')));
      if (modes.every((m) => /Mode: (leader|follower|standalone)/.test(m))) return;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`ZooKeeper ensemble in ${this.ns} not serving after ${timeoutMs} ms (logs in ${this.dir})`);
  }

  /** Write master i's config (listen on its loopback port inside the namespace) and start it. */
  startMaster(i: number, extra: Record<string, unknown>): ChildProcess {
    const cfgFile = join(this.dir, `master${i}.json`);
    writeFileSync(cfgFile, JSON.stringify({ listen: `127.0.0.1:${masterPort(i)}`, ...extra }));
    const p = spawn('ip', ['netns', 'exec', this.ns, process.execPath, MASTER_BIN, '--config', cfgFile, '--log-file', join(this.dir, `master${i}.log`)], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr!.on('data', (d) => (err += d));
    p.on('close', (code, sig) => {
      if (code) writeFileSync(join(this.dir, `master${i}.exit`), `${code} ${sig} ${err}`);
    });
    this.masters[i] = p;
    return p;
  }

  async killMaster(i: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const p = this.masters[i];
    this.masters[i] = undefined;
    if (p && p.exitCode === null && p.signalCode === null) {
      const gone = new Promise((r) => p.once('exit', r));
      p.kill(signal);
      await gone;
    }
  }

  /** HTTP to master i through the relay. */
  http(i: number, method: string, path: string, body?: unknown, timeoutMs = 10_000): Promise<HttpReply> {
    return new Promise((resolve, reject) => {
      const text = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
      const req = request({ socketPath: this.sock(masterPort(i)), method, path, headers: text ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) } : {}, timeout: timeoutMs }, (res) => {
        let b = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (b += d));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: b, json: () => JSON.parse(b) }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${path} on master ${i}: no answer in ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(text);
    });
  }

  /** The index of the master that says it leads, or undefined. */
  async leader(count: number): Promise<number | undefined> {
    for (let i = 0; i < count; i++) {
      if (!this.masters[i]) continue;
      const r = await this.http(i, 'GET', '/overlay-master/leader', undefined, 2000).catch(() => undefined);
      if (r?.status === 200 && r.json().role === 'leader') return i;
    }
    return undefined;
  }

  async waitLeader(count: number, timeoutMs: number): Promise<number> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const l = await this.leader(count);
      if (l !== undefined) return l;
      if (Date.now() > end) throw new Error(`no master leads after ${timeoutMs} ms (logs in ${this.dir})`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** When master i last started to lead (epoch ms, from its log). */
  ledAt(i: number): number {
    const lines = readFileSync(join(this.dir, `master${i}.log`), 'utf8').trim().split('\n');
    const led = lines.map((l) => JSON.parse(l) as { msg: string; time: string }).filter((l) => l.msg.startsWith('leading: recovered'));
    if (led.length === 0) throw new Error(`master ${i} never led (log in ${this.dir})`);
    return Date.parse(led.at(-1)!.time);
  }

  /** Wait until master i reports `role` on /overlay-master/leader. */
  async waitRole(i: number, role: string, timeoutMs: number): Promise<void> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const r = await this.http(i, 'GET', '/overlay-master/leader', undefined, 2000).catch(() => undefined);
      if (r?.status === 200 && r.json().role === role) return;
      if (Date.now() > end) throw new Error(`master ${i} not ${role} after ${timeoutMs} ms (logs in ${this.dir})`);
      await new Promise((res) => setTimeout(res, 20));
    }
  }

  /** What the ZooKeeper store holds (read from inside the namespace). */
  async zkDump(root = '/overlay-master'): Promise<{ agents: Record<string, any>; claims: Record<string, string[]> }> {
    const { stdout } = await execFileP('ip', ['netns', 'exec', this.ns, process.execPath, here('./zk-dump.js'), this.zkConnect, root], { timeout: 30_000 });
    return JSON.parse(stdout);
  }

  async close(): Promise<void> {
    for (let i = 0; i < this.masters.length; i++) await this.killMaster(i);
    for (let i = 0; i < this.zk.length; i++) await this.killZk(i);
    if (this.#relay) {
      const gone = new Promise((r) => this.#relay!.once('exit', r));
      this.#relay.kill('SIGKILL');
      await gone;
    }
    await netns.del(this.ns).catch(() => {});
    if (!process.env.KEEP_CLUSTER_DIR) rmSync(this.dir, { recursive: true, force: true });
  }
}
