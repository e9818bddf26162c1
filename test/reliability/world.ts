// A world for one plugin: a fake host namespace (with what the plugin needs there: a macvtap
// master, the spartan link) and container namespaces, a state dir for every file the configs
// name, our plugins reached both ways — standalone executables and native launchers served by a
// `mesos-cni daemon` in the fake host — a valid base config, and the leak check.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import type { ExecutionContext } from 'ava';
import { namespaces, nsExec, uniq, ipJson, type TestNs } from '../helpers/fixture.js';
import { ourBinDir, REFERENCE_DIR } from '../helpers/cni.js';
import { launcherDir, startDaemon, tempDir, type RunningDaemon } from '../helpers/daemon.js';
import { AGENT_IP, fakeHost } from '../helpers/macvtap.js';
import { BOUNDED_WAITS, CALL_TIMEOUT_MS, STACK_TRACE, start, type Outcome, type Rng, type Running } from './harness.js';
import type { Json } from './mutate.js';

const execFileP = promisify(execFile);

export const PLUGINS = ['bridge', 'host-local', 'mesos-cni-port-mapper', 'dcos-l4lb', 'mesos', 'macvtap'] as const;
export type Plugin = (typeof PLUGINS)[number];
export type Side = 'standalone' | 'daemon';
export const SIDES: Side[] = ['standalone', 'daemon'];

/** The longest container ID every plugin accepts (docs/reliability.md); one more is refused. */
export const MAX_ID = 241;

/** Paths a runtime may hand a plugin as CNI_NETNS that are no container namespace. */
export interface HostilePaths {
  fifo: string;
  dir: string;
  file: string;
  symlinkToFifo: string;
  missing: string;
  /** The fake host's own namespace, by its /run/netns name. */
  ownByName: string;
}

export interface CallSpec {
  type: string;
  stdin: string | Buffer;
  /** The CNI variables (undefined: absent); CNI_PATH's `<BIN>` becomes the side's bin dir. */
  env: Record<string, string | undefined>;
  redirect?: string;
  timeoutMs?: number;
}

export class World {
  readonly hostile: HostilePaths;
  /** Names the host had before any call (bridges the plugins create are not counted: they stay by design). */
  private baseLinks = new Set<string>();
  private baseRoutes = new Set<string>();
  private baseRules = new Map<string, Set<string>>();
  daemon!: RunningDaemon;
  private daemonLogSeen = 0;
  private daemonEnv: Record<string, string>;
  bins!: Record<Side, string>;
  readonly token: string;
  readonly bridge = uniq('rlb');
  readonly chain = uniq('RL-');

  private constructor(
    readonly t: ExecutionContext,
    readonly plugin: Plugin,
    readonly host: TestNs,
    readonly ctrs: TestNs[],
    /** Removed after the test; `state` under it holds every file a config names, wiped per input side. */
    readonly root: string,
    daemonEnv: Record<string, string>,
  ) {
    this.token = uniq('rl');
    this.daemonEnv = daemonEnv;
    this.hostile = {
      fifo: join(root, 'h', 'fifo'),
      dir: join(root, 'h'),
      file: join(root, 'h', 'file'),
      symlinkToFifo: join(root, 'h', 'link'),
      missing: join(root, 'h', 'missing'),
      ownByName: `/run/netns/${host.name}`,
    };
  }

  get state(): string {
    return join(this.root, 's');
  }
  /** Where a path-traversal payload aims: anything appearing there escaped its directory. */
  get escape(): string {
    return join(this.root, 'escape');
  }

  static async create(t: ExecutionContext, plugin: Plugin, opts: { ctrs?: number; daemonEnv?: Record<string, string> } = {}): Promise<World> {
    const nctr = opts.ctrs ?? 2;
    let host: TestNs;
    let ctrs: TestNs[];
    if (plugin === 'macvtap' || plugin === 'mesos') {
      const f = await fakeHost(t, nctr, 'rm');
      host = f.host;
      ctrs = f.ctrs;
    } else {
      [host, ...ctrs] = (await namespaces(t, 1 + nctr, 'rw')) as [TestNs, ...TestNs[]];
      if (plugin === 'dcos-l4lb') {
        // dcos-net's spartan link on the host, holding the DNS addresses (as in the dcos-l4lb tests).
        // (A bridge without ports: this kernel has no dummy driver, as the dcos-l4lb fixture found.)
        await nsExec(host, ['ip', 'link', 'add', 'spartan', 'type', 'bridge']);
        await nsExec(host, ['ip', 'link', 'set', 'spartan', 'up']);
        for (const i of [1, 2, 3]) await nsExec(host, ['ip', 'addr', 'add', `198.51.100.${i}/32`, 'dev', 'spartan']);
      }
    }
    const root = await tempDir(t, 'mcni-rel-');
    const w = new World(t, plugin, host, ctrs, root, { ...BOUNDED_WAITS, ...opts.daemonEnv });
    await mkdir(w.state, { recursive: true });
    await mkdir(join(root, 'h'));
    await execFileP('mkfifo', [w.hostile.fifo]);
    await writeFile(w.hostile.file, 'not a namespace');
    await execFileP('ln', ['-s', w.hostile.fifo, w.hostile.symlinkToFifo]);
    w.daemon = await startDaemon(t, host.name, undefined, w.daemonEnv);
    w.bins = { standalone: await ourBinDir(), daemon: await launcherDir(t, w.daemon.socket) };
    await w.snapshotBaseline();
    return w;
  }

  private async snapshotBaseline(): Promise<void> {
    this.baseLinks = new Set((await this.linkList(this.host)).map((l) => l.name));
    this.baseRoutes = new Set(await this.routes());
    for (const ns of [this.host, ...this.ctrs]) this.baseRules.set(ns.name, new Set(await this.ipRules(ns)));
  }

  /** The side's own paths, masked in answers before the two sides are compared. */
  sidePaths(side: Side): string[] {
    return [this.bins[side]];
  }

  /** Start one call of `type` on `side` inside the fake host, as a runtime would exec it. */
  start(side: Side, c: CallSpec): Running {
    const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', ...BOUNDED_WAITS };
    for (const [k, v] of Object.entries(c.env)) if (v !== undefined) env[k] = v.replace(/<BIN>/g, this.bins[side]).replace(/\u0000/g, '');
    // The launcher says which way it went (served by the daemon, or why it ran the node entry).
    if (side === 'daemon') env.MESOS_CNI_LOG = 'info';
    return start({ argv: ['/usr/sbin/ip', 'netns', 'exec', this.host.name, join(this.bins[side], c.type)], env, stdin: c.stdin, redirect: c.redirect, timeoutMs: c.timeoutMs ?? CALL_TIMEOUT_MS });
  }

  async call(side: Side, c: CallSpec): Promise<Outcome> {
    return this.start(side, c).done;
  }

  /** The standard environment of a call (CNI_PATH: our side's bin dir, then the reference plugins). */
  env(command: string, containerId: string, ctr: TestNs | undefined = this.ctrs[0], ifname = 'eth0'): Record<string, string | undefined> {
    return { CNI_COMMAND: command, CNI_CONTAINERID: containerId, CNI_NETNS: ctr?.path, CNI_IFNAME: ifname, CNI_PATH: `<BIN>:${REFERENCE_DIR}` };
  }

  /**
   * Whether a daemon-side answer came from the daemon; if not, why (the daemon died, hung, or was
   * bypassed). Also reports uncaught errors the daemon logged since the last look.
   */
  async daemonProblems(o: Outcome | undefined): Promise<{ crash?: string; hang?: string; bad?: string }> {
    const out: { crash?: string; hang?: string; bad?: string } = {};
    if (this.daemon.child.exitCode !== null || this.daemon.child.signalCode !== null) out.crash = `the daemon died (${this.daemon.child.exitCode ?? this.daemon.child.signalCode})`;
    const log = await this.daemon.logText();
    const fresh = log.slice(this.daemonLogSeen);
    this.daemonLogSeen = log.length;
    const stray = /unhandled rejection|uncaught exception/i.exec(fresh) ?? STACK_TRACE.exec(fresh.replace(/"stack":"[^"]*"/g, ''));
    if (stray) out.crash ??= `the daemon logged: ${fresh.slice(Math.max(0, stray.index - 200), stray.index + 400)}`;
    // (Unreadable stdin is the one case the launcher leaves to the node entry on purpose.)
    if (o && !o.hung && !/served by the daemon|running the node entry","detail":"stdin cannot be read"/.test(o.stderr)) {
      const why = /running the node entry[^\n]*/.exec(o.stderr)?.[0] ?? `no launcher line: ${o.stderr.slice(0, 300)}`;
      if (/no answer from the daemon/.test(why)) out.hang ??= `launcher fell back: ${why}`;
      else if (!out.crash) out.bad = `not served by the daemon: ${why}`;
    }
    // A dead or wedged daemon is replaced, so that one finding does not turn into a thousand.
    if (out.crash || out.hang || o?.hung) await this.restartDaemon();
    return out;
  }

  /** A new daemon on the same socket (after it died, or was killed on purpose). */
  async restartDaemon(): Promise<void> {
    if (this.daemon.child.exitCode === null && this.daemon.child.signalCode === null) {
      this.daemon.child.kill('SIGKILL');
      await this.daemon.exited;
    }
    this.daemon = await startDaemon(this.t, this.host.name, this.daemon.socket, this.daemonEnv);
    this.daemonLogSeen = 0;
  }

  /** Empty the state dir (between the two sides of one input, so both start from the same state). */
  async wipe(): Promise<void> {
    await rm(this.state, { recursive: true, force: true });
    await rm(this.escape, { recursive: true, force: true });
    await mkdir(this.state, { recursive: true });
  }

  // ---- the leak check ------------------------------------------------------------------------------

  private async linkList(ns: TestNs): Promise<{ name: string; kind: string }[]> {
    const ls = await ipJson<{ ifname: string; linkinfo?: { info_kind?: string } }[]>(ns, ['-d', 'link', 'show']);
    return ls.map((l) => ({ name: l.ifname, kind: l.linkinfo?.info_kind ?? 'device' }));
  }

  private async routes(): Promise<string[]> {
    const out: string[] = [];
    for (const fam of ['-4', '-6']) {
      const rs = await ipJson<{ dst: string; dev?: string; table?: string; protocol?: string; type?: string; gateway?: string }[]>(this.host, [fam, 'route', 'show', 'table', 'all']);
      for (const r of rs) {
        if (r.protocol === 'kernel' || r.table === 'local' || r.type === 'multicast' || r.type === 'broadcast' || r.type === 'local') continue;
        out.push(`${fam} ${r.dst} dev ${r.dev ?? '-'} via ${r.gateway ?? '-'} table ${r.table ?? 'main'}`);
      }
    }
    return out;
  }

  private async ipRules(ns: TestNs): Promise<string[]> {
    const out: string[] = [];
    for (const fam of ['-4', '-6']) out.push(...(await nsExec(ns, ['ip', fam, 'rule', 'show'])).split('\n').filter(Boolean).map((l) => `${fam} ${l}`));
    return out;
  }

  /** Files under the state dir that outlive an attachment: anything but lock files and cursors. */
  private async files(dir: string): Promise<string[]> {
    const out: string[] = [];
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return out;
    }
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) out.push(...(await this.files(p)));
      else if (e.name !== 'lock' && !/^last_reserved_ip\.\d+$/.test(e.name)) out.push(p.slice(this.root.length));
    }
    return out;
  }

  /**
   * Everything of an attachment still there after the final DEL of `ids`: links (host, beyond the
   * baseline and the bridges, which stay by design; containers, beyond lo), host routes, ip rules,
   * rules in every table of both families that carry our tags or an ID, files in the state dir,
   * anything that escaped it, the per-container lock files, and our default directories on the
   * machine (no config of ours points there; their appearance means a mutation reached a default).
   */
  async leaks(ids: string[], settleMs = 3000): Promise<string[]> {
    // The kernel finishes some removals after the call returns (a destroyed namespace takes its
    // veth peers with it asynchronously): what is still there after `settleMs` is a leak.
    for (let waited = 0; ; waited += 250) {
      const found = await this.leaksNow(ids);
      if (!found.length || waited >= settleMs) return found;
      await sleep(250);
    }
  }

  private async leaksNow(ids: string[]): Promise<string[]> {
    const out: string[] = [];
    for (const l of await this.linkList(this.host)) if (!this.baseLinks.has(l.name) && l.kind !== 'bridge') out.push(`host link ${l.name} (${l.kind})`);
    for (const c of this.ctrs) for (const l of await this.linkList(c)) if (l.name !== 'lo') out.push(`link ${l.name} (${l.kind}) in container ${c.name}`);
    for (const r of await this.routes()) if (!this.baseRoutes.has(r)) out.push(`host route ${r}`);
    for (const ns of [this.host, ...this.ctrs]) for (const r of await this.ipRules(ns)) if (!this.baseRules.get(ns.name)!.has(r)) out.push(`ip rule in ${ns.name}: ${r}`);
    const tagged = (l: string) => /container_id: |mesos-cni|^:CNI-|-j CNI-/.test(l) || ids.some((id) => id.length >= 6 && l.includes(id));
    for (const save of ['iptables-save', 'ip6tables-save']) {
      for (const l of (await nsExec(this.host, [save])).split('\n')) if (tagged(l)) out.push(`${save}: ${l}`);
    }
    out.push(...(await this.files(this.state)).map((f) => `file ${f}`));
    if (existsSync(this.escape)) out.push(`files outside their directory: ${(await this.files(this.escape)).join(', ') || this.escape}`);
    for (const id of new Set(ids)) {
      if (id && id.length < 256 && !id.includes('/') && id !== '.' && id !== '..' && existsSync(`/run/mesos-cni/containers/${id}`)) out.push(`container lock /run/mesos-cni/containers/${id}`);
    }
    for (const f of await this.defaultDirEntries()) out.push(`in a machine default directory: ${f}`);
    return out;
  }

  /**
   * Remove what a leak left (it is counted already), so that it neither breaks nor is counted
   * again by the inputs after it: links, tagged rules and CNI- chains, lock files; whatever
   * cannot be removed becomes part of the baseline.
   */
  async heal(ids: string[]): Promise<void> {
    for (const l of await this.linkList(this.host)) if (!this.baseLinks.has(l.name) && l.kind !== 'bridge') await nsExec(this.host, ['ip', 'link', 'del', l.name]).catch(() => '');
    for (const c of this.ctrs) for (const l of await this.linkList(c)) if (l.name !== 'lo') await nsExec(c, ['ip', 'link', 'del', l.name]).catch(() => '');
    const tagged = (l: string) => /container_id: |mesos-cni|-j CNI-/.test(l) || ids.some((id) => id.length >= 6 && l.includes(id));
    for (const [save, restore] of [
      ['iptables-save', 'iptables-restore'],
      ['ip6tables-save', 'ip6tables-restore'],
    ] as const) {
      let payload = '';
      let table = '';
      let dels: string[] = [];
      let chains: string[] = [];
      for (const l of (await nsExec(this.host, [save])).split('\n')) {
        if (l.startsWith('*')) [table, dels, chains] = [l, [], []];
        else if (l.startsWith(':CNI-')) chains.push(l.slice(1).split(' ')[0]!);
        else if (l.startsWith('-A ') && tagged(l)) dels.push(`-D ${l.slice(3)}`);
        else if (l === 'COMMIT' && (dels.length || chains.length)) payload += `${table}\n${[...dels, ...chains.map((c) => `-F ${c}`), ...chains.map((c) => `-X ${c}`)].join('\n')}\nCOMMIT\n`;
      }
      if (payload) await start({ argv: ['ip', 'netns', 'exec', this.host.name, restore, '--noflush', '-w', '5'], env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin' }, stdin: payload }).done;
    }
    await this.dropLocks(ids);
    await this.wipe();
    await this.snapshotBaseline();
  }

  /**
   * Entries of ours under the plugins' default directories (/var/lib/cni, /run/dcos), which no
   * config of the suite names: a network name or container ID of this world there means a mutation
   * reached a default. (Other tests on the machine may use these directories; theirs are not counted.)
   */
  private async defaultDirEntries(): Promise<string[]> {
    const out: string[] = [];
    const mine = (p: string) => p.includes(this.token) || /fznet|kinet|hsnet|rcnet|stnet/.test(p);
    const walk = async (dir: string, depth: number): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        const p = join(dir, e.name);
        if (mine(p)) out.push(p);
        else if (e.isDirectory() && depth < 4) await walk(p, depth + 1);
      }
    };
    for (const d of ['/var/lib/cni', '/run/dcos']) await walk(d, 0);
    return out;
  }

  /** Remove the per-container lock files of `ids` (ours: the IDs are this world's). */
  async dropLocks(ids: string[]): Promise<void> {
    for (const id of ids) if (id && !id.includes('/') && id !== '.' && id !== '..' && id.length < 256) await rm(`/run/mesos-cni/containers/${id}`, { force: true }).catch(() => undefined);
  }

  // ---- valid base configs ------------------------------------------------------------------------

  hostLocal(r: Rng, dir = join(this.state, 'a', 'b', 'c', 'ipam')): Record<string, Json> {
    const ipam: Record<string, Json> = { type: 'host-local', dataDir: dir };
    if (r.chance(0.5)) ipam.subnet = '10.91.0.0/24';
    else ipam.ranges = [[{ subnet: '10.91.0.0/24', rangeStart: '10.91.0.10', rangeEnd: '10.91.0.200' }], [{ subnet: 'fd91::/64' }]];
    if (r.chance(0.4)) ipam.routes = [{ dst: '0.0.0.0/0' }];
    return ipam;
  }

  bridgeConf(r: Rng, net: string, version?: string): Record<string, Json> {
    const c: Record<string, Json> = { name: net, type: 'bridge', bridge: this.bridge, isGateway: r.chance(0.8), ipMasq: r.chance(0.6), ipam: this.hostLocal(r) };
    if (version) c.cniVersion = version;
    if (r.chance(0.2)) c.hairpinMode = true;
    if (r.chance(0.1)) c.mtu = 1400;
    return c;
  }

  macvtapConf(r: Rng, net: string | undefined, version?: string): Record<string, Json> {
    const c: Record<string, Json> = {
      type: 'macvtap',
      master: 'p0',
      dataDir: join(this.state, 'mvt'),
      ipam: {
        type: 'host-local',
        subnet: '192.168.122.0/24',
        rangeStart: '192.168.122.171',
        rangeEnd: '192.168.122.179',
        dataDir: join(this.state, 'a', 'b', 'c', 'ipam'),
        routes: [{ dst: `${AGENT_IP}/32`, gw: '0.0.0.0' }],
      },
    };
    if (net) c.name = net;
    if (version) c.cniVersion = version;
    if (r.chance(0.6)) c.hostrouteif = 'mvhost';
    if (r.chance(0.3)) c.hostrouteip = AGENT_IP;
    if (r.chance(0.3)) c.mode = r.pick(['bridge', 'private', 'vepa']);
    return c;
  }

  /** A valid config for the world's plugin, network `net`, in a random spec version (or none). */
  baseConf(r: Rng, net: string): Record<string, Json> {
    const version = r.pick([undefined, '0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0']);
    const mappings = () => Array.from({ length: r.int(0, 3) }, () => ({ host_port: r.int(1, 65535), container_port: r.int(1, 65535), ...(r.chance(0.3) ? { protocol: r.pick(['tcp', 'udp', 'sctp', 'TCP']) } : {}) }));
    switch (this.plugin) {
      case 'bridge':
        return this.bridgeConf(r, net, version);
      case 'host-local':
        return { ...(version ? { cniVersion: version } : {}), name: net, type: 'host-local', ipam: this.hostLocal(r) };
      case 'mesos-cni-port-mapper': {
        const delegate = this.bridgeConf(r, net, r.pick([undefined, '0.1.0', '0.3.1', '1.0.0']));
        delete delegate.name;
        const c: Record<string, Json> = { name: net, type: 'mesos-cni-port-mapper', chain: this.chain, delegate, args: { 'org.apache.mesos': { network_info: { name: net, port_mappings: mappings() } } } };
        if (version) c.cniVersion = version;
        if (r.chance(0.5)) c.excludeDevices = r.chance(0.5) ? [this.bridge] : [this.bridge, 'cali+', 'eth9'];
        if (r.chance(0.3)) c.snat = true;
        if (r.chance(0.3)) c.runtimeConfig = { portMappings: [{ hostPort: r.int(1, 65535), containerPort: 80, protocol: 'tcp' }] };
        return c;
      }
      case 'dcos-l4lb': {
        const delegate: Record<string, Json> = r.chance(0.3)
          ? { type: 'mesos-cni-port-mapper', chain: this.chain, delegate: { type: 'bridge', bridge: this.bridge, isGateway: true, ipMasq: true, ipam: this.hostLocal(r) } }
          : { type: 'bridge', bridge: this.bridge, isGateway: true, ipMasq: r.chance(0.5), ipam: this.hostLocal(r) };
        const c: Record<string, Json> = {
          name: net,
          type: 'dcos-l4lb',
          spartan: { enable: r.chance(0.8), dataDir: join(this.state, 'spartan') },
          minuteman: { enable: r.chance(0.8), path: join(this.state, 'mm') },
          delegate,
        };
        if (version) c.cniVersion = version;
        if (r.chance(0.3)) c.args = { 'org.apache.mesos': { network_info: { name: net, port_mappings: mappings() } } };
        return c;
      }
      case 'macvtap':
        return { name: net, ...this.macvtapConf(r, net, version) };
      case 'mesos': {
        const labels = r.chance(0.6) ? [{ key: 'CNI_ARGS', value: `IP=192.168.122.${r.int(171, 179)}` }] : [];
        if (r.chance(0.2)) labels.push({ key: r.pick(['vendorid', 'env', 'hostname', 'other']), value: 'v' });
        const c: Record<string, Json> = { name: net, type: 'mesos', delegate: this.macvtapConf(r, undefined), args: { 'org.apache.mesos': { network_info: { name: net, labels: { labels } } } } };
        if (version) c.cniVersion = version;
        return c;
      }
    }
  }
}

/** A container namespace of its own (no handle kept), removed at teardown or earlier by `gone`. */
export interface Container {
  name: string;
  path: string;
  gone: () => Promise<void>;
}

export async function container(t: ExecutionContext): Promise<Container> {
  const name = uniq('rk');
  await execFileP('ip', ['netns', 'add', name]);
  let removed = false;
  const gone = async () => {
    if (removed) return;
    removed = true;
    await execFileP('ip', ['netns', 'del', name]).catch(() => undefined);
  };
  t.teardown(gone);
  return { name, path: `/run/netns/${name}`, gone };
}

/** Links other than lo in the namespace named `ns`. */
export async function linksIn(ns: string): Promise<string[]> {
  const { stdout } = await execFileP('ip', ['-n', ns, '-j', 'link', 'show']);
  return (JSON.parse(stdout || '[]') as { ifname: string }[]).map((l) => l.ifname).filter((n) => n !== 'lo');
}

/** The path a config field names may be hostile too: always somewhere under the world's root. */
export function hostilePath(w: World, r: Rng): string {
  return r.pick([
    `${w.state}/x/../../s/y`,
    join(w.hostile.file, 'under-a-file'),
    '/dev/null/x',
    '/proc/self/x',
    `${w.state}/a\nb`,
    `${w.state}/${'d'.repeat(300)}`,
    w.hostile.fifo,
    w.hostile.file,
  ]);
}
