// The port-mapper chain (mesos-cni-port-mapper → bridge → host-local, 2 mappings), ADD then DEL per
// container, three ways: (a) the Go reference chain bridge + portmap run the libcni way, (b) our
// standalone executables (Node launchers) exec'd as Mesos execs them, (c) our native launchers
// served by `mesos-cni daemon`. Sequential (alternating sides container by container) and with 8
// concurrent runtimes per side; then the daemon's RSS with BENCH_DAEMON_RSS_N containers attached.
// Each way pays the kernel waits its own calls leave behind (see the sequential loop).
// Two layouts, as bench/port-mapper.ts: `shared` (the headline) puts the three ways' bridges,
// containers and rules in one fake host, as a real agent holds every network's chains; `separate`
// gives each way a host of its own.
import { spawn } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { install } from '../lib/cli/install.js';
import { DAEMON_NODE_FLAGS } from '../lib/daemon/server.js';
import { mesosStdin, networkInfo } from '../lib/cni/mesos.js';
import { exec, goBridgeConfig, goPortmapConfig, mappings, ourConfig, type HostLayout } from './port-mapper.js';
import { benchDir, children, cleanupOnSignals, removeBenchDir } from './attach.js';
import { addContainers, fakeHost, removeHosts, type FakeHost } from './fakehost.js';
import { median, ms, p95, since, table } from './stats.js';

const REFERENCE_DIR = '/usr/lib/cni';
const CLI = fileURLToPath(new URL('../bin/mesos-cni.js', import.meta.url));
const CONCURRENCY = 8;
const BLOCK = 5;
/** Longer than any RCU grace period a call leaves running (15-30 ms here). */
const SETTLE_MS = 100;

type Way = 'go' | 'node' | 'daemon';
const LABEL: Record<Way, string> = {
  go: '(a) Go: bridge+host-local, portmap (libcni way)',
  node: '(b) ours standalone (Node launchers)',
  daemon: '(c) ours: native launcher + daemon',
};

export interface DaemonBench {
  layout: HostLayout;
  rows: string[][];
  /** (c) / (a), median ADD+DEL per container, sequential. */
  seqRatio: number;
  /** (c) / (a), containers per second with 8 concurrent runtimes. */
  cpsRatio: number;
  /** The daemon way's ADD alone (launcher exec to answer), median, sequential. */
  daemonAddMs: number;
  /** The same with no kernel wait pending (each block's first ADD). */
  daemonIdleAddMs: number;
  rssMb: number;
  rssN: number;
}

/**
 * In one host each way needs its own bridge, subnet, chain and host ports (another network on the
 * agent); apart, the three are configured alike.
 */
const PLACE: Record<Way, { bridge: string; subnet: string; chain: string; portBase: number }> = {
  go: { bridge: 'mcnpb1', subnet: '10.212.0.0/16', chain: '', portBase: 30000 },
  node: { bridge: 'mcnpb0', subnet: '10.211.0.0/16', chain: 'MESOS-BENCH-PORT-MAPPER', portBase: 10000 },
  daemon: { bridge: 'mcnpb2', subnet: '10.213.0.0/16', chain: 'MESOS-BENCH-PM-DAEMON', portBase: 20000 },
};

export async function benchDaemon(prefix: string, n: number, rssN: number, layout: HostLayout = 'shared'): Promise<DaemonBench> {
  const shared = layout === 'shared';
  const dir = benchDir('mcni-bench-d-');
  const hosts: Partial<Record<Way, FakeHost>> = {};
  let daemon: ReturnType<typeof spawn> | undefined;
  try {
    const nodeBin = join(dir, 'node-bin');
    const nativeBin = join(dir, 'native-bin');
    const socket = join(dir, 'run', 'daemon.sock');
    await mkdir(join(dir, 'run'), { mode: 0o700 });
    await install(nodeBin, ['mesos-cni-port-mapper', 'bridge', 'host-local']);
    await install(nativeBin, ['mesos-cni-port-mapper', 'bridge', 'host-local'], { socket });
    const total = Math.max(n, rssN);
    const count = (way: Way) => (way === 'daemon' ? total : n);
    if (shared) {
      const host = await fakeHost(`${prefix}h`, `${prefix}d`, count('daemon'));
      hosts.daemon = host;
      // Copies sharing the host's container list, so removeHosts([daemon]) removes them all.
      for (const way of ['go', 'node'] as Way[]) hosts[way] = { ...host, ctrs: await addContainers(host, `${prefix}${way[0]}`, count(way)) };
    } else {
      for (const way of ['go', 'node', 'daemon'] as Way[]) hosts[way] = await fakeHost(`${prefix}h${way[0]}`, `${prefix}${way[0]}`, count(way));
    }
    // `ip netns exec` execs node in place, so the pid is the daemon's. Detached (its own process
    // group) because the SIGINT/SIGTERM handler (attach.ts) kills `children` by group.
    const d = spawn('ip', ['netns', 'exec', shared ? `${prefix}h` : `${prefix}hd`, process.execPath, ...DAEMON_NODE_FLAGS, CLI, 'daemon', '--socket', socket, '--log-level', 'warn'], { stdio: 'ignore', detached: true });
    daemon = d;
    children.add(d);
    d.once('exit', () => children.delete(d));
    for (let i = 0; i < 200; i++) {
      if (await readFile(socket).catch((e: NodeJS.ErrnoException) => e.code !== 'ENOENT')) break;
      await sleep(25);
    }
    const place = (way: Way) => (shared ? PLACE[way] : PLACE.node);
    const ourConf = (way: Way) => {
      const c = ourConfig(join(dir, `ipam-${way}`));
      const { bridge, subnet, chain } = place(way);
      return { ...c, chain, delegate: { ...(c.delegate as object), bridge, ipam: { type: 'host-local', subnet, dataDir: join(dir, `ipam-${way}`) } } };
    };
    const goBridge = goBridgeConfig(join(dir, 'ipam-go'), place('go').bridge);
    // Distinct IDs per way: in one host, the bridges' ipMasq chains (CNI-<hash of network and ID>)
    // would otherwise be one chain.
    const env = (way: Way, command: string, i: number) => ({ CNI_COMMAND: command, CNI_CONTAINERID: `bench${way[0]}${i}`, CNI_NETNS: hosts[way]!.ctrs[i]!, CNI_IFNAME: 'eth0' });
    const base = (way: Way) => place(way).portBase;
    const prev: unknown[] = [];
    const step = async (way: Way, command: 'ADD' | 'DEL', i: number) => {
      if (way === 'go') {
        const e = { ...env(way, command, i), CNI_PATH: REFERENCE_DIR };
        if (command === 'ADD') {
          prev[i] = JSON.parse((await exec(hosts.go!.ns, `${REFERENCE_DIR}/bridge`, e, JSON.stringify(goBridge), `go bridge ADD ${i}`)).stdout);
          await exec(hosts.go!.ns, `${REFERENCE_DIR}/portmap`, e, JSON.stringify(goPortmapConfig(i, prev[i], base('go'))), `go portmap ADD ${i}`);
        } else {
          await exec(hosts.go!.ns, `${REFERENCE_DIR}/portmap`, e, JSON.stringify(goPortmapConfig(i, prev[i], base('go'))), `go portmap DEL ${i}`);
          await exec(hosts.go!.ns, `${REFERENCE_DIR}/bridge`, e, JSON.stringify({ ...goBridge, prevResult: prev[i] }), `go bridge DEL ${i}`);
        }
        return;
      }
      const bin = way === 'node' ? nodeBin : nativeBin;
      const stdin = mesosStdin(ourConf(way), networkInfo('benchpm', {}, mappings(i, base(way))));
      await exec(hosts[way]!.ns, join(bin, 'mesos-cni-port-mapper'), { ...env(way, command, i), CNI_PATH: bin }, stdin, `${way} ${command} ${i}`);
    };
    // Each half timed on its own too: the daemon's ADD has a goal of its own (<= 8 ms).
    // `idle`: ADDs that found no kernel wait pending (each block's first, after the pause).
    const adds: Record<Way, number[]> = { go: [], node: [], daemon: [] };
    const idleAdds: Record<Way, number[]> = { go: [], node: [], daemon: [] };
    const dels: Record<Way, number[]> = { go: [], node: [], daemon: [] };
    const addDel = async (way: Way, i: number, record?: 'idle' | 'counted') => {
      const t = performance.now();
      await step(way, 'ADD', i);
      const added = performance.now();
      await step(way, 'DEL', i);
      if (record) (record === 'idle' ? idleAdds : adds)[way].push(added - t);
      if (record === 'counted') dels[way].push(since(added));
      return since(t);
    };
    // Sequential: one container at a time, in blocks of BLOCK back to back per way, the ways taking
    // turns block by block so drift hits all three alike. An answer does not mean the kernel is
    // idle: a DEL's deleted rules and veth leave RCU grace periods running (15-30 ms here), and the
    // next nf_tables rule write of anyone waits for them. Back to back, each way's ADD pays what its
    // own previous DEL left; a pause before each block keeps one way from paying for another, and
    // the block's first container (which followed the pause) is not counted.
    const seq: Record<Way, number[]> = { go: [], node: [], daemon: [] };
    const ways: Way[] = ['go', 'node', 'daemon'];
    for (let b = 0; b * BLOCK < n; b++) for (let k = 0; k < 3; k++) {
      const way = ways[(b + k) % 3]!;
      await sleep(SETTLE_MS);
      for (let i = b * BLOCK; i < Math.min(n, (b + 1) * BLOCK); i++) {
        const counted = i > b * BLOCK;
        const took = await addDel(way, i, counted ? 'counted' : 'idle');
        if (counted) seq[way].push(took);
      }
    }
    // Concurrent: 8 runtimes per way pulling containers from one list.
    const cps: Record<Way, number> = { go: 0, node: 0, daemon: 0 };
    for (const way of ways) {
      let next = 0;
      await sleep(SETTLE_MS);
      const t = performance.now();
      await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
        for (let i = next++; i < n; i = next++) await addDel(way, i);
      }));
      cps[way] = (n / since(t)) * 1000;
    }
    // RSS with rssN containers attached through the daemon (8 at a time), then detached.
    let next = 0;
    const attachAll = (command: 'ADD' | 'DEL') =>
      Promise.all(Array.from({ length: CONCURRENCY }, async () => {
        for (let i = next++; i < rssN; i = next++) await step('daemon', command, i);
      }));
    await attachAll('ADD');
    const status = await readFile(`/proc/${daemon.pid}/status`, 'utf8');
    const rssMb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN) / 1024;
    next = 0;
    await attachAll('DEL');
    const r = (x: number, y: number) => (x / y).toFixed(2);
    const rows = [
      [`port-mapper chain, ADD+DEL per container (N=${n}, ${BLOCK} back to back, ${shared ? 'the three ways in one host' : 'a host per way'})`, 'seq median ms', 'seq p95 ms', 'ADD median', 'DEL median', 'ADD, kernel idle', `${CONCURRENCY} concurrent: containers/s`, 'vs (a): seq median', 'vs (a): containers/s'],
      ...ways.map((w) => [LABEL[w], ms(median(seq[w])), ms(p95(seq[w])), ms(median(adds[w])), ms(median(dels[w])), ms(median(idleAdds[w])), cps[w].toFixed(1), r(median(seq[w]), median(seq.go)), `x${r(cps[w], cps.go)}`]),
    ];
    return { layout, rows, seqRatio: median(seq.daemon) / median(seq.go), cpsRatio: cps.daemon / cps.go, daemonAddMs: median(adds.daemon), daemonIdleAddMs: median(idleAdds.daemon), rssMb, rssN };
  } finally {
    daemon?.kill('SIGTERM');
    await removeHosts(shared ? [hosts.daemon] : Object.values(hosts));
    removeBenchDir(dir);
  }
}

export function daemonTable(b: DaemonBench): string {
  const rss = b.rssN > 0 ? `\ndaemon RSS with ${b.rssN} containers attached: ${b.rssMb.toFixed(1)} MB` : '';
  return table(b.rows) + rss;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  cleanupOnSignals();
  for (const layout of ['shared', 'separate'] as const) {
    const b = await benchDaemon(`mcbd${layout[0]}${process.pid.toString(36)}`, Number(process.env.BENCH_DAEMON_N ?? 50), layout === 'shared' ? Number(process.env.BENCH_DAEMON_RSS_N ?? 1000) : 0, layout);
    console.log(daemonTable(b) + '\n');
  }
}
