// ADD latency of the ~10th against the ~Nth container (default 500) on one bridge, ours and the Go
// chain. Each side has two fake hosts, one holding 10 containers and one holding N, and the measured
// ADDs alternate between them (and between the sides), so both points are measured in the same
// minutes: measured one after the other, minutes apart, the VM's speed phases (±30%) moved the
// ratio more than the container count did. The kernel's own cost grows with the bridge's port count
// (techniques.md §4.3), so it is probed separately at both points — one bare veth created into the
// same bridge with the library, right before the measured ADD — and reported apart from the part the
// plugins control (ADD minus that probe). The delegate alone (bridge + host-local) is timed at the
// same points too, so the port mapping's own share shows: for Go the portmap exec, for ours the
// chain minus our bridge exec'd alone for an extra container.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { CONTAINER_LOCK_DIR } from '../lib/cni/container-lock.js';
import { NetlinkHandle } from '../lib/netlink/index.js';
import { install } from '../lib/cli/install.js';
import { mesosStdin, networkInfo } from '../lib/cni/mesos.js';
import { exec, goBridgeConfig, goPortmapConfig, mappings, ourConfig } from './port-mapper.js';
import { addContainers, fakeHost, removeHosts, type FakeHost } from './fakehost.js';
import { median, ms, since, table } from './stats.js';
import { benchDir, removeBenchDir } from './attach.js';

const REFERENCE_DIR = '/usr/lib/cni';
const SMALL = 10; // containers on the host of the "~10th" point
// Containers measured at each point: with 10 the growth moved by ±0.1 between runs of one build
// (docs/performance.md, issue 17's tenth session).
const WINDOW = 20;

export interface ScaleBench {
  rows: string[][];
  oursGrowth: number;
  goGrowth: number;
  /** Growth of ADD minus the kernel probe, ours. */
  oursControlledGrowth: number;
  /** Growth of our port mapper's own share (chain minus the delegate alone). */
  portMapGrowth: number;
}

/** One side (ours or Go) at one point: a host holding `fill` containers before the measured ones. */
interface Point {
  host: FakeHost;
  nl: NetlinkHandle;
  bridge?: number;
  ipam: string;
  /** ADD of the whole chain, the kernel probe and the delegate alone, per measured container. */
  add: number[];
  probe: number[];
  delegate: number[];
  next: number;
}

export async function benchPortMapperScale(prefix: string, n: number): Promise<ScaleBench> {
  const dir = benchDir('mcni-bench-pms-');
  const bin = join(dir, 'bin');
  const points: Point[] = []; // ours small, ours big, Go small, Go big
  const hosts: FakeHost[] = [];
  const ids = new Set<string>(); // ours, attached and never detached: their lock files go at the end
  let probes = 0;
  try {
    await install(bin, ['mesos-cni-port-mapper', 'bridge', 'host-local']);
    for (const [k, fill] of [SMALL, n, SMALL, n].entries()) {
      // ours: every measured container twice (the chain, and the delegate alone on an extra one)
      const host = await fakeHost(`${prefix}h${k}`, `${prefix}c${k}x`, fill + (k < 2 ? 2 : 1) * WINDOW);
      hosts.push(host);
      points.push({ host, nl: await NetlinkHandle.open(host.ns), ipam: join(dir, `ipam${k}`), add: [], probe: [], delegate: [], next: 0 });
    }
    const ours = (p: Point) => points.indexOf(p) < 2;
    const env = (p: Point, i: number, id: string) => ({ CNI_COMMAND: 'ADD', CNI_CONTAINERID: id, CNI_NETNS: p.host.ctrs[i]!, CNI_IFNAME: 'eth0' });
    // The kernel's share at this bridge size: one veth pair, host end enslaved and up.
    const probe = async (p: Point): Promise<number> => {
      p.bridge ??= (await p.nl.link.get('mcnpb0')).index;
      const t = performance.now();
      await p.nl.link.add({ kind: 'veth', name: `pmprobe${probes}`, master: p.bridge, up: true, peer: { name: `pmpeer${probes}` } });
      probes++;
      return since(t);
    };
    /** The next container's ADD on this point's host: the chain's time, and the delegate's part. */
    const add = async (p: Point, measured: boolean): Promise<{ chain: number; delegate?: number }> => {
      const i = p.next++;
      const id = `benchpm${i}`;
      if (ours(p)) {
        const conf = ourConfig(p.ipam);
        let delegate: number | undefined;
        if (measured) {
          // Our bridge exec'd alone for an extra container on the same bridge: the delegate's share.
          const j = p.next++;
          ids.add(`benchdel${j}`);
          const bridgeConf = JSON.stringify({ ...(conf.delegate as object), name: 'benchpm' });
          delegate = (await exec(p.host.ns, join(bin, 'bridge'), { ...env(p, j, `benchdel${j}`), CNI_PATH: bin }, bridgeConf, `ours bridge ADD ${j}`)).ms;
        }
        ids.add(id);
        const stdin = mesosStdin(conf, networkInfo('benchpm', {}, mappings(i)));
        return { chain: (await exec(p.host.ns, join(bin, 'mesos-cni-port-mapper'), { ...env(p, i, id), CNI_PATH: bin }, stdin, `ours ADD ${i}`)).ms, delegate };
      }
      const e = { ...env(p, i, id), CNI_PATH: REFERENCE_DIR };
      const br = await exec(p.host.ns, `${REFERENCE_DIR}/bridge`, e, JSON.stringify(goBridgeConfig(p.ipam)), `go bridge ADD ${i}`);
      const pm = await exec(p.host.ns, `${REFERENCE_DIR}/portmap`, e, JSON.stringify(goPortmapConfig(i, JSON.parse(br.stdout))), `go portmap ADD ${i}`);
      return { chain: br.ms + pm.ms, delegate: br.ms };
    };
    // Fill: the hosts of each point in turn, ours and Go alternating.
    for (let i = 0; i < n; i++) {
      for (const p of i % 2 === 0 ? points : [...points].reverse()) if (i < (points.indexOf(p) % 2 === 0 ? SMALL : n)) await add(p, false);
    }
    // Measure: the four points alternating, the order turned each round.
    for (let k = 0; k < WINDOW; k++) {
      for (const p of k % 2 === 0 ? points : [...points].reverse()) {
        p.probe.push(await probe(p));
        const r = await add(p, true);
        p.add.push(r.chain);
        p.delegate.push(r.delegate!);
      }
    }
    const [os, ob, gs, gb] = points as [Point, Point, Point, Point];
    const growth = (a: number[], b: number[]) => median(b) / median(a);
    const minus = (xs: number[], ys: number[]) => xs.map((x) => x - median(ys));
    const row = (label: string, a: number[], b: number[]) => [label, ms(median(a)), ms(median(b)), `x${growth(a, b).toFixed(2)}`];
    const rows = [
      [`ADD on one bridge (medians, ${WINDOW} containers each, both points interleaved)`, `~${SMALL}th ms`, `~${n}th ms`, 'growth'],
      row('ours: port-mapper → bridge → host-local', os.add, ob.add),
      row('Go: bridge + portmap', gs.add, gb.add),
      row('  kernel: veth into that bridge (our host)', os.probe, ob.probe),
      row('  kernel: veth into that bridge (Go host)', gs.probe, gb.probe),
      row('ours minus kernel', minus(os.add, os.probe), minus(ob.add, ob.probe)),
      row('Go minus kernel', minus(gs.add, gs.probe), minus(gb.add, gb.probe)),
      row('  delegate alone: our bridge + host-local (exec)', os.delegate, ob.delegate),
      row('  delegate alone: Go bridge + host-local', gs.delegate, gb.delegate),
      row('  port mapping share: ours (chain - delegate alone)', minus(os.add, os.delegate), minus(ob.add, ob.delegate)),
      row('  port mapping share: Go portmap', minus(gs.add, gs.delegate), minus(gb.add, gb.delegate)),
    ];
    return {
      rows,
      oursGrowth: growth(os.add, ob.add),
      goGrowth: growth(gs.add, gb.add),
      oursControlledGrowth: growth(minus(os.add, os.probe), minus(ob.add, ob.probe)),
      portMapGrowth: growth(minus(os.add, os.delegate), minus(ob.add, ob.delegate)),
    };
  } finally {
    for (const p of points) p.nl.close();
    // Deleting the namespaces takes the bridges, veths and rules with them; nothing was DELeted,
    // so each container of ours still has its lock file (kept while attached; docs/reliability.md).
    await removeHosts(hosts);
    for (const id of ids) rmSync(join(CONTAINER_LOCK_DIR, id), { force: true });
    removeBenchDir(dir);
  }
}

export function scaleTable(b: ScaleBench): string {
  return table(b.rows);
}
