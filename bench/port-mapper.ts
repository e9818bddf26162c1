// Port mapping per container, ADD and DEL, 2 mappings each: our mesos-cni-port-mapper → bridge →
// host-local, exec'd exactly as the Mesos agent execs it (installed launcher, Mesos' env and stout
// stdin, the same stdin replayed at DEL), against the reference Go chain bridge + portmap run the
// libcni way (bridge, then portmap with prevResult and runtimeConfig.portMappings; DEL in reverse).
// Calls alternate between the sides container by container. Two layouts: `shared` (the headline)
// puts both sides' bridges, containers and rules in one fake host, as a real agent host holds
// Docker's and others' chains, so each side's iptables work meets the other's rules; `separate`
// gives each side a host of its own.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PLUGIN_MARKER } from '../lib/cni/invoke.js';
import * as netns from '../lib/netns/index.js';
import { install } from '../lib/cli/install.js';
import { mesosStdin, networkInfo, type PortMapping } from '../lib/cni/mesos.js';
import { addContainers, fakeHost, removeHosts, type FakeHost } from './fakehost.js';
import { median, ms, p95, since, table } from './stats.js';
import { benchDir, removeBenchDir } from './attach.js';

const REFERENCE_DIR = '/usr/lib/cni';
const PATH = process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin';

export type HostLayout = 'shared' | 'separate';

export interface PortMapperBench {
  layout: HostLayout;
  rows: string[][];
  /** ours / Go, medians per container. */
  addRatio: number;
  delRatio: number;
  totalRatio: number;
  /** With BENCH_PM_BEFORE: the older build's ADD+DEL / Go, measured in the same run. */
  beforeRatio?: number;
  /** Median start-up (CNI_COMMAND=VERSION) of our launcher and of Go's portmap, for scale. */
  floorOurs: number;
  floorGo: number;
}

interface Side {
  host?: FakeHost;
  add: number[];
  del: number[];
}

/** Container i's two mappings; `base` moves the host ports (the Go side's, in a shared host). */
export const mappings = (i: number, base = 10000): PortMapping[] => [
  { host_port: base + 2 * i, container_port: 80, protocol: 'tcp' },
  { host_port: base + 1 + 2 * i, container_port: 443, protocol: 'tcp' },
];

export async function exec(host: netns.Netns, bin: string, env: Record<string, string>, stdin: string, what: string): Promise<{ ms: number; stdout: string }> {
  const t = performance.now();
  const r = await netns.execInNetns(host, bin, [], { stdin, env: { PATH, ...env }, check: false });
  const took = since(t);
  if (r.status !== 0) throw new Error(`${what}: exit ${r.status}: ${r.stdout}${r.stderr}`);
  return { ms: took, stdout: r.stdout };
}

/**
 * The Mesos network config (no cniVersion, as DC/OS writes them), functionally like portmap's
 * defaults: no excluded device, hairpin SNAT on.
 */
export function ourConfig(dataDir: string): Record<string, unknown> {
  return {
    name: 'benchpm',
    type: 'mesos-cni-port-mapper',
    chain: 'MESOS-BENCH-PORT-MAPPER',
    snat: true,
    delegate: { type: 'bridge', bridge: 'mcnpb0', isGateway: true, ipMasq: true, ipam: { type: 'host-local', subnet: '10.211.0.0/16', dataDir } },
  };
}

export function goBridgeConfig(dataDir: string, bridge = 'mcnpb0'): Record<string, unknown> {
  return { cniVersion: '1.0.0', name: 'benchpm', type: 'bridge', bridge, isGateway: true, ipMasq: true, ipam: { type: 'host-local', subnet: '10.212.0.0/16', dataDir } };
}

export function goPortmapConfig(i: number, prevResult: unknown, base = 10000): Record<string, unknown> {
  return {
    cniVersion: '1.0.0',
    name: 'benchpm',
    type: 'portmap',
    capabilities: { portMappings: true },
    runtimeConfig: { portMappings: mappings(i, base).map((m) => ({ hostPort: m.host_port, containerPort: m.container_port, protocol: m.protocol })) },
    prevResult,
  };
}

/** Launcher scripts (as `mesos-cni install` writes them) for another build's bundled entries. */
function installFrom(root: string, bin: string, types: string[]): void {
  mkdirSync(bin, { recursive: true });
  for (const type of types) {
    const file = join(bin, type);
    writeFileSync(file, `#!${process.execPath}\n// ${PLUGIN_MARKER} ${type}\nrequire(${JSON.stringify(join(root, 'dist', 'bin', `${type}.cjs`))});\n`);
    chmodSync(file, 0o755);
  }
}

/**
 * `before`: the package root of an older build (BENCH_PM_BEFORE), run as a third side with its own
 * chain, bridge and addresses, alternating with the other two container by container, so that a
 * before/after comparison meets the same machine load.
 */
export async function benchPortMapper(prefix: string, n: number, layout: HostLayout = 'shared', before = process.env.BENCH_PM_BEFORE): Promise<PortMapperBench> {
  const shared = layout === 'shared';
  const dir = benchDir('mcni-bench-pm-');
  const bin = join(dir, 'bin');
  const ours: Side = { add: [], del: [] };
  const old: Side = { add: [], del: [] };
  const binOld = join(dir, 'bin-before');
  const go: Side & { bridgeAdd: number[]; portmapAdd: number[]; bridgeDel: number[]; portmapDel: number[] } = {
    add: [], del: [], bridgeAdd: [], portmapAdd: [], bridgeDel: [], portmapDel: [],
  };
  const ourConf = ourConfig(join(dir, 'ipam-ours'));
  // One host: the Go side gets its own bridge and host ports, as another network on the agent would.
  const goBridge = goBridgeConfig(join(dir, 'ipam-go'), shared ? 'mcnpb1' : 'mcnpb0');
  const goBase = shared ? 30000 : 10000;
  const prev: unknown[] = [];
  try {
    await install(bin, ['mesos-cni-port-mapper', 'bridge', 'host-local']);
    if (before) installFrom(before, binOld, ['mesos-cni-port-mapper', 'bridge', 'host-local']);
    const sides = before ? [ours, go, old] : [ours, go];
    if (shared) {
      const host = await fakeHost(`${prefix}h`, `${prefix}c0x`, n);
      ours.host = host;
      go.host = { ...host, ctrs: await addContainers(host, `${prefix}c1x`, n) };
      if (before) old.host = { ...host, ctrs: await addContainers(host, `${prefix}c2x`, n) };
    } else {
      for (const [k, side] of sides.entries()) side.host = await fakeHost(`${prefix}h${k}`, `${prefix}c${k}x`, n);
    }
    const oldConf = { ...ourConf, chain: 'MESOS-BENCH-PM-BEFORE', delegate: { type: 'bridge', bridge: 'mcnpb2', isGateway: true, ipMasq: true, ipam: { type: 'host-local', subnet: '10.213.0.0/16', dataDir: join(dir, 'ipam-before') } } };
    // Distinct IDs per side: in one host, the two bridges' ipMasq chains (CNI-<hash of network and
    // ID>) would otherwise be the same chain.
    const env = (side: Side, command: string, i: number) => ({ CNI_COMMAND: command, CNI_CONTAINERID: `bench${side === ours ? 'pm' : side === go ? 'go' : 'pb'}${i}`, CNI_NETNS: side.host!.ctrs[i]!, CNI_IFNAME: 'eth0' });
    const runOurs = async (command: 'ADD' | 'DEL', i: number) => {
      // Mesos checkpoints this stdin at ADD and replays it at DEL.
      const stdin = mesosStdin(ourConf, networkInfo('benchpm', {}, mappings(i)));
      const r = await exec(ours.host!.ns, join(bin, 'mesos-cni-port-mapper'), { ...env(ours, command, i), CNI_PATH: bin }, stdin, `ours ${command} ${i}`);
      (command === 'ADD' ? ours.add : ours.del).push(r.ms);
    };
    const runOld = async (command: 'ADD' | 'DEL', i: number) => {
      const stdin = mesosStdin(oldConf, networkInfo('benchpm', {}, mappings(i, 50000)));
      const r = await exec(old.host!.ns, join(binOld, 'mesos-cni-port-mapper'), { ...env(old, command, i), CNI_PATH: binOld }, stdin, `before ${command} ${i}`);
      (command === 'ADD' ? old.add : old.del).push(r.ms);
    };
    const runGo = async (command: 'ADD' | 'DEL', i: number) => {
      const e = { ...env(go, command, i), CNI_PATH: REFERENCE_DIR };
      const b = `${REFERENCE_DIR}/bridge`;
      const pm = `${REFERENCE_DIR}/portmap`;
      if (command === 'ADD') {
        const br = await exec(go.host!.ns, b, e, JSON.stringify(goBridge), `go bridge ADD ${i}`);
        prev[i] = JSON.parse(br.stdout);
        const p = await exec(go.host!.ns, pm, e, JSON.stringify(goPortmapConfig(i, prev[i], goBase)), `go portmap ADD ${i}`);
        go.bridgeAdd.push(br.ms), go.portmapAdd.push(p.ms), go.add.push(br.ms + p.ms);
      } else {
        const p = await exec(go.host!.ns, pm, e, JSON.stringify(goPortmapConfig(i, prev[i], goBase)), `go portmap DEL ${i}`);
        const br = await exec(go.host!.ns, b, e, JSON.stringify({ ...goBridge, prevResult: prev[i] }), `go bridge DEL ${i}`);
        go.bridgeDel.push(br.ms), go.portmapDel.push(p.ms), go.del.push(br.ms + p.ms);
      }
    };
    for (const command of ['ADD', 'DEL'] as const) {
      for (let i = 0; i < n; i++) {
        const fns = before ? [runOurs, runGo, runOld] : [runOurs, runGo];
        const order = fns.map((_, k) => fns[(i + k) % fns.length]!); // each side first in turn
        for (const fn of order) await fn(command, i);
      }
    }
    // Start-up floor of each executable (VERSION: no config, no kernel work).
    const floor = { ours: [] as number[], go: [] as number[] };
    for (let i = 0; i < 20; i++) {
      floor.ours.push((await exec(ours.host!.ns, join(bin, 'mesos-cni-port-mapper'), { CNI_COMMAND: 'VERSION' }, '', 'ours VERSION')).ms);
      floor.go.push((await exec(go.host!.ns, `${REFERENCE_DIR}/portmap`, { CNI_COMMAND: 'VERSION' }, '', 'go VERSION')).ms);
    }
    const sum = (a: number[], b: number[]) => a.map((x, i) => x + b[i]!);
    const oursTotal = sum(ours.add, ours.del);
    const goTotal = sum(go.add, go.del);
    const r = (a: number[], b: number[], f = median) => (f(a) / f(b)).toFixed(2);
    const rows = [
      [`port mapping, per container (N=${n}, 2 mappings, ${shared ? 'both sides in one host' : 'a host per side'})`, 'ADD median', 'ADD p95', 'DEL median', 'DEL p95', 'ADD+DEL median'],
      ['ours: port-mapper → bridge → host-local (1 exec)', ms(median(ours.add)), ms(p95(ours.add)), ms(median(ours.del)), ms(p95(ours.del)), ms(median(oursTotal))],
      ['Go: bridge (+host-local) then portmap (3 execs)', ms(median(go.add)), ms(p95(go.add)), ms(median(go.del)), ms(p95(go.del)), ms(median(goTotal))],
      ['  of which Go bridge + host-local', ms(median(go.bridgeAdd)), ms(p95(go.bridgeAdd)), ms(median(go.bridgeDel)), ms(p95(go.bridgeDel)), ms(median(sum(go.bridgeAdd, go.bridgeDel)))],
      ['  of which Go portmap', ms(median(go.portmapAdd)), ms(p95(go.portmapAdd)), ms(median(go.portmapDel)), ms(p95(go.portmapDel)), ms(median(sum(go.portmapAdd, go.portmapDel)))],
      ['ratio ours / Go', r(ours.add, go.add), r(ours.add, go.add, p95), r(ours.del, go.del), r(ours.del, go.del, p95), r(oursTotal, goTotal)],
    ];
    const oldTotal = sum(old.add, old.del);
    if (before) {
      rows.push(
        ['before: the same chain from BENCH_PM_BEFORE', ms(median(old.add)), ms(p95(old.add)), ms(median(old.del)), ms(p95(old.del)), ms(median(oldTotal))],
        ['ratio before / Go', r(old.add, go.add), r(old.add, go.add, p95), r(old.del, go.del), r(old.del, go.del, p95), r(oldTotal, goTotal)],
      );
    }
    return {
      layout,
      rows,
      addRatio: median(ours.add) / median(go.add),
      delRatio: median(ours.del) / median(go.del),
      totalRatio: median(oursTotal) / median(goTotal),
      ...(before ? { beforeRatio: median(oldTotal) / median(goTotal) } : {}),
      floorOurs: median(floor.ours),
      floorGo: median(floor.go),
    };
  } finally {
    // Shared: one host, whose container list the Go side's copy extends.
    await removeHosts(shared ? [ours.host] : [ours.host, go.host]); // shared: addContainers listed the Go side's in it too
    removeBenchDir(dir);
  }
}

export function portMapperTable(b: PortMapperBench): string {
  return `${table(b.rows)}\nstart-up floor (CNI_COMMAND=VERSION, median): our launcher ${ms(b.floorOurs)} ms, Go portmap ${ms(b.floorGo)} ms`;
}
