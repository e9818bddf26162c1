// Port mapping per container, ADD and DEL, 2 mappings each: our mesos-cni-port-mapper → bridge →
// host-local, exec'd exactly as the Mesos agent execs it (installed launcher, Mesos' env and stout
// stdin, the same stdin replayed at DEL), against the reference Go chain bridge + portmap run the
// libcni way (bridge, then portmap with prevResult and runtimeConfig.portMappings; DEL in reverse).
// Each side has its own fake host; calls alternate between the sides container by container.
import { join } from 'node:path';
import * as netns from '../lib/netns/index.js';
import { install } from '../lib/cli/install.js';
import { mesosStdin, networkInfo, type PortMapping } from '../lib/cni/mesos.js';
import { fakeHost, removeHosts, type FakeHost } from './fakehost.js';
import { median, ms, p95, since, table } from './stats.js';
import { benchDir, removeBenchDir } from './attach.js';

const REFERENCE_DIR = '/usr/lib/cni';
const PATH = process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin';

export interface PortMapperBench {
  rows: string[][];
  /** ours / Go, medians per container. */
  addRatio: number;
  delRatio: number;
  totalRatio: number;
  /** Median start-up (CNI_COMMAND=VERSION) of our launcher and of Go's portmap, for scale. */
  floorOurs: number;
  floorGo: number;
}

interface Side {
  host?: FakeHost;
  add: number[];
  del: number[];
}

export const mappings = (i: number): PortMapping[] => [
  { host_port: 10000 + 2 * i, container_port: 80, protocol: 'tcp' },
  { host_port: 10001 + 2 * i, container_port: 443, protocol: 'tcp' },
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

export function goBridgeConfig(dataDir: string): Record<string, unknown> {
  return { cniVersion: '1.0.0', name: 'benchpm', type: 'bridge', bridge: 'mcnpb0', isGateway: true, ipMasq: true, ipam: { type: 'host-local', subnet: '10.212.0.0/16', dataDir } };
}

export function goPortmapConfig(i: number, prevResult: unknown): Record<string, unknown> {
  return {
    cniVersion: '1.0.0',
    name: 'benchpm',
    type: 'portmap',
    capabilities: { portMappings: true },
    runtimeConfig: { portMappings: mappings(i).map((m) => ({ hostPort: m.host_port, containerPort: m.container_port, protocol: m.protocol })) },
    prevResult,
  };
}

export async function benchPortMapper(prefix: string, n: number): Promise<PortMapperBench> {
  const dir = benchDir('mcni-bench-pm-');
  const bin = join(dir, 'bin');
  const ours: Side = { add: [], del: [] };
  const go: Side & { bridgeAdd: number[]; portmapAdd: number[]; bridgeDel: number[]; portmapDel: number[] } = {
    add: [], del: [], bridgeAdd: [], portmapAdd: [], bridgeDel: [], portmapDel: [],
  };
  const ourConf = ourConfig(join(dir, 'ipam-ours'));
  const goBridge = goBridgeConfig(join(dir, 'ipam-go'));
  const prev: unknown[] = [];
  try {
    await install(bin, ['mesos-cni-port-mapper', 'bridge', 'host-local']);
    for (const [k, side] of [ours, go].entries()) side.host = await fakeHost(`${prefix}h${k}`, `${prefix}c${k}x`, n);
    const env = (side: Side, command: string, i: number) => ({ CNI_COMMAND: command, CNI_CONTAINERID: `benchpm${i}`, CNI_NETNS: side.host!.ctrs[i]!, CNI_IFNAME: 'eth0' });
    const runOurs = async (command: 'ADD' | 'DEL', i: number) => {
      // Mesos checkpoints this stdin at ADD and replays it at DEL.
      const stdin = mesosStdin(ourConf, networkInfo('benchpm', {}, mappings(i)));
      const r = await exec(ours.host!.ns, join(bin, 'mesos-cni-port-mapper'), { ...env(ours, command, i), CNI_PATH: bin }, stdin, `ours ${command} ${i}`);
      (command === 'ADD' ? ours.add : ours.del).push(r.ms);
    };
    const runGo = async (command: 'ADD' | 'DEL', i: number) => {
      const e = { ...env(go, command, i), CNI_PATH: REFERENCE_DIR };
      const b = `${REFERENCE_DIR}/bridge`;
      const pm = `${REFERENCE_DIR}/portmap`;
      if (command === 'ADD') {
        const br = await exec(go.host!.ns, b, e, JSON.stringify(goBridge), `go bridge ADD ${i}`);
        prev[i] = JSON.parse(br.stdout);
        const p = await exec(go.host!.ns, pm, e, JSON.stringify(goPortmapConfig(i, prev[i])), `go portmap ADD ${i}`);
        go.bridgeAdd.push(br.ms), go.portmapAdd.push(p.ms), go.add.push(br.ms + p.ms);
      } else {
        const p = await exec(go.host!.ns, pm, e, JSON.stringify(goPortmapConfig(i, prev[i])), `go portmap DEL ${i}`);
        const br = await exec(go.host!.ns, b, e, JSON.stringify({ ...goBridge, prevResult: prev[i] }), `go bridge DEL ${i}`);
        go.bridgeDel.push(br.ms), go.portmapDel.push(p.ms), go.del.push(br.ms + p.ms);
      }
    };
    for (const command of ['ADD', 'DEL'] as const) {
      for (let i = 0; i < n; i++) {
        const order = i % 2 === 0 ? [runOurs, runGo] : [runGo, runOurs];
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
      [`port mapping, per container (N=${n}, 2 mappings)`, 'ADD median', 'ADD p95', 'DEL median', 'DEL p95', 'ADD+DEL median'],
      ['ours: port-mapper → bridge → host-local (1 exec)', ms(median(ours.add)), ms(p95(ours.add)), ms(median(ours.del)), ms(p95(ours.del)), ms(median(oursTotal))],
      ['Go: bridge (+host-local) then portmap (3 execs)', ms(median(go.add)), ms(p95(go.add)), ms(median(go.del)), ms(p95(go.del)), ms(median(goTotal))],
      ['  of which Go bridge + host-local', ms(median(go.bridgeAdd)), ms(p95(go.bridgeAdd)), ms(median(go.bridgeDel)), ms(p95(go.bridgeDel)), ms(median(sum(go.bridgeAdd, go.bridgeDel)))],
      ['  of which Go portmap', ms(median(go.portmapAdd)), ms(p95(go.portmapAdd)), ms(median(go.portmapDel)), ms(p95(go.portmapDel)), ms(median(sum(go.portmapAdd, go.portmapDel)))],
      ['ratio ours / Go', r(ours.add, go.add), r(ours.add, go.add, p95), r(ours.del, go.del), r(ours.del, go.del, p95), r(oursTotal, goTotal)],
    ];
    return {
      rows,
      addRatio: median(ours.add) / median(go.add),
      delRatio: median(ours.del) / median(go.del),
      totalRatio: median(oursTotal) / median(goTotal),
      floorOurs: median(floor.ours),
      floorGo: median(floor.go),
    };
  } finally {
    await removeHosts([ours.host, go.host]);
    removeBenchDir(dir);
  }
}

export function portMapperTable(b: PortMapperBench): string {
  return `${table(b.rows)}\nstart-up floor (CNI_COMMAND=VERSION, median): our launcher ${ms(b.floorOurs)} ms, Go portmap ${ms(b.floorGo)} ms`;
}
