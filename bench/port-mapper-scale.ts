// ADD latency of the ~10th against the ~Nth container (default 500) on the same bridge, ours and the
// Go chain, each side filling its own fake host. The kernel's own cost grows with the bridge's port
// count (techniques.md §4.3), so it is probed separately at both points — one bare veth created
// into the same bridge with the library, right before the measured ADD — and reported apart from
// the part the plugins control (ADD minus that probe). The delegate alone (bridge + host-local) is
// timed at the same points too, so the port mapping's own share shows: for Go the portmap exec,
// for ours the chain minus our bridge exec'd alone for an extra container.
import { join } from 'node:path';
import { NetlinkHandle } from '../lib/netlink/index.js';
import { install } from '../lib/cli/install.js';
import { mesosStdin, networkInfo } from '../lib/cni/mesos.js';
import { exec, goBridgeConfig, goPortmapConfig, mappings, ourConfig } from './port-mapper.js';
import { addContainers, fakeHost, removeHosts, type FakeHost } from './fakehost.js';
import { median, ms, since, table } from './stats.js';
import { benchDir, removeBenchDir } from './attach.js';

const REFERENCE_DIR = '/usr/lib/cni';
const WINDOW = 10; // containers measured around each point

export interface ScaleBench {
  rows: string[][];
  oursGrowth: number;
  goGrowth: number;
  /** Growth of ADD minus the kernel probe, ours. */
  oursControlledGrowth: number;
  /** Growth of our port mapper's own share (chain minus the delegate alone). */
  portMapGrowth: number;
}

interface Side {
  name: string;
  /** Its first n containers are the measured ones. */
  host?: FakeHost;
  nl?: NetlinkHandle;
  bridge?: number;
  early: number[];
  late: number[];
  probeEarly: number[];
  probeLate: number[];
  delegateEarly: number[];
  delegateLate: number[];
  /** Namespaces for the extra delegate-only containers (ours; also in host.ctrs, after the n). */
  extra: string[];
}

export async function benchPortMapperScale(prefix: string, n: number): Promise<ScaleBench> {
  const dir = benchDir('mcni-bench-pms-');
  const bin = join(dir, 'bin');
  const side = (name: string): Side => ({ name, early: [], late: [], probeEarly: [], probeLate: [], delegateEarly: [], delegateLate: [], extra: [] });
  const ours = side('ours');
  const go = side('Go');
  const ourConf = ourConfig(join(dir, 'ipam-ours'));
  const goBridge = JSON.stringify(goBridgeConfig(join(dir, 'ipam-go')));
  const early = (i: number) => i >= 5 && i < 5 + WINDOW; // the 6th .. 15th
  const late = (i: number) => i >= n - WINDOW;
  let probes = 0;
  try {
    await install(bin, ['mesos-cni-port-mapper', 'bridge', 'host-local']);
    for (const [k, s] of [ours, go].entries()) {
      s.host = await fakeHost(`${prefix}h${k}`, `${prefix}c${k}x`, n);
      s.nl = await NetlinkHandle.open(s.host.ns);
      if (k === 0) s.extra = await addContainers(s.host, `${prefix}d`, 2 * WINDOW);
    }
    // The kernel's share at this bridge size: one veth pair, host end enslaved and up.
    const probe = async (s: Side): Promise<number> => {
      s.bridge ??= (await s.nl!.link.get('mcnpb0')).index;
      const t = performance.now();
      await s.nl!.link.add({ kind: 'veth', name: `pmprobe${probes}`, master: s.bridge, up: true, peer: { name: `pmpeer${probes}` } });
      probes++;
      return since(t);
    };
    const env = (s: Side, i: number) => ({ CNI_COMMAND: 'ADD', CNI_CONTAINERID: `benchpm${i}`, CNI_NETNS: s.host!.ctrs[i]!, CNI_IFNAME: 'eth0' });
    const bridgeConf = JSON.stringify({ ...(ourConf.delegate as object), name: 'benchpm' });
    // Our bridge exec'd alone for an extra container on the same bridge: the delegate's share.
    const delegateOurs = async (slot: number) =>
      (await exec(ours.host!.ns, join(bin, 'bridge'), { CNI_COMMAND: 'ADD', CNI_CONTAINERID: `benchdel${slot}`, CNI_NETNS: ours.extra[slot]!, CNI_IFNAME: 'eth0', CNI_PATH: bin }, bridgeConf, `ours bridge ADD ${slot}`)).ms;
    let slot = 0;
    const addOurs = async (i: number, where?: 'early' | 'late') => {
      if (where) (where === 'early' ? ours.delegateEarly : ours.delegateLate).push(await delegateOurs(slot++));
      const stdin = mesosStdin(ourConf, networkInfo('benchpm', {}, mappings(i)));
      return (await exec(ours.host!.ns, join(bin, 'mesos-cni-port-mapper'), { ...env(ours, i), CNI_PATH: bin }, stdin, `ours ADD ${i}`)).ms;
    };
    const addGo = async (i: number, where?: 'early' | 'late') => {
      const e = { ...env(go, i), CNI_PATH: REFERENCE_DIR };
      const br = await exec(go.host!.ns, `${REFERENCE_DIR}/bridge`, e, goBridge, `go bridge ADD ${i}`);
      const pm = await exec(go.host!.ns, `${REFERENCE_DIR}/portmap`, e, JSON.stringify(goPortmapConfig(i, JSON.parse(br.stdout))), `go portmap ADD ${i}`);
      if (where) (where === 'early' ? go.delegateEarly : go.delegateLate).push(br.ms);
      return br.ms + pm.ms;
    };
    for (let i = 0; i < n; i++) {
      const pairs: [Side, (i: number, where?: 'early' | 'late') => Promise<number>][] = [[ours, addOurs], [go, addGo]];
      for (const [s, add] of i % 2 === 0 ? pairs : pairs.reverse()) {
        const where = early(i) ? 'early' : late(i) ? 'late' : undefined;
        if (where && s.bridge !== undefined) (where === 'early' ? s.probeEarly : s.probeLate).push(await probe(s));
        const took = await add(i, where);
        if (where) (where === 'early' ? s.early : s.late).push(took);
        if (i === 0) await probe(s); // the bridge exists now: learn its index (and pay the first probe)
      }
    }
    const growth = (a: number[], b: number[]) => median(b) / median(a);
    const minus = (xs: number[], ys: number[]) => xs.map((x) => x - median(ys));
    const row = (label: string, a: number[], b: number[]) => [label, ms(median(a)), ms(median(b)), `x${growth(a, b).toFixed(2)}`];
    const rows = [
      [`ADD on one bridge (medians, ${WINDOW} containers each)`, `~10th ms`, `~${n}th ms`, 'growth'],
      row('ours: port-mapper → bridge → host-local', ours.early, ours.late),
      row('Go: bridge + portmap', go.early, go.late),
      row('  kernel: veth into that bridge (our host)', ours.probeEarly, ours.probeLate),
      row('  kernel: veth into that bridge (Go host)', go.probeEarly, go.probeLate),
      row('ours minus kernel', minus(ours.early, ours.probeEarly), minus(ours.late, ours.probeLate)),
      row('Go minus kernel', minus(go.early, go.probeEarly), minus(go.late, go.probeLate)),
      row('  delegate alone: our bridge + host-local (exec)', ours.delegateEarly, ours.delegateLate),
      row('  delegate alone: Go bridge + host-local', go.delegateEarly, go.delegateLate),
      row('  port mapping share: ours (chain - delegate alone)', minus(ours.early, ours.delegateEarly), minus(ours.late, ours.delegateLate)),
      row('  port mapping share: Go portmap', minus(go.early, go.delegateEarly), minus(go.late, go.delegateLate)),
    ];
    return {
      rows,
      oursGrowth: growth(ours.early, ours.late),
      goGrowth: growth(go.early, go.late),
      oursControlledGrowth: growth(minus(ours.early, ours.probeEarly), minus(ours.late, ours.probeLate)),
      portMapGrowth: growth(minus(ours.early, ours.delegateEarly), minus(ours.late, ours.delegateLate)),
    };
  } finally {
    for (const s of [ours, go]) s.nl?.close();
    // Deleting the namespaces takes the bridges, veths and rules with them; nothing was DELeted.
    await removeHosts([ours.host, go.host]);
    removeBenchDir(dir);
  }
}

export function scaleTable(b: ScaleBench): string {
  return table(b.rows);
}
