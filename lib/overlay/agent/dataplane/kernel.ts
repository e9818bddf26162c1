// The kernel's side of the plane: the VTEP made to match (dcos-net's rule: created with learning,
// ttl 0, no proxy/miss notifications, no UDP checksum, the master's MAC and MTU; recreated when
// its kind, VNI, port, MAC or MTU differ), and what is there now read back into a Plane. Only
// entries of the shapes we write count as ours: permanent neighbours and FDB entries with a remote
// on the VTEP, gatewayed `proto boot` routes on it, table-42 rules with only a source.
import { isErrno } from '../../../native/index.js';
import type { Link, NetlinkHandle } from '../../../netlink/index.js';
import type { Netns } from '../../../netns/index.js';
import { sysctl } from '../../../netns/index.js';
import { canon, canonCidr, emptyPlane, fdbKey, OVERLAY_TABLE, type Plane, type VtepSpec } from './plane.js';

/** Why an existing link cannot serve as the VTEP ('' when it can). */
export function vtepMismatch(l: Link, want: VtepSpec): string {
  const diffs: string[] = [];
  if (l.kind !== 'vxlan') diffs.push(`kind ${l.kind ?? 'none'}`);
  else {
    if (l['vni'] !== want.vni) diffs.push(`id ${String(l['vni'])}`);
    if (l['port'] !== want.port) diffs.push(`dstport ${String(l['port'])}`);
  }
  if (l.mac?.toLowerCase() !== want.mac) diffs.push(`address ${l.mac ?? 'none'}`);
  if (want.mtu !== undefined && l.mtu !== want.mtu) diffs.push(`mtu ${l.mtu ?? '?'}`);
  return diffs.join(', ');
}

export interface VtepResult {
  index: number;
  /** 'created', 'recreated (…)', 'up' (it was down) or '' (as it was). */
  change: string;
}

/** Make `want` exist as specified and up; returns its ifindex. */
export async function ensureVtep(nl: NetlinkHandle, ns: Netns | undefined, want: VtepSpec, ipv6: boolean): Promise<VtepResult> {
  const have = await nl.link.find(want.name);
  let change = '';
  if (have) {
    const why = vtepMismatch(have, want);
    if (!why) {
      if (!have.up) await nl.link.set({ index: have.index, up: true });
      return { index: have.index, change: have.up ? '' : 'up' };
    }
    await nl.link.del({ index: have.index });
    change = `recreated (was ${why})`;
  }
  await nl.link.add({
    kind: 'vxlan',
    name: want.name,
    vni: want.vni,
    port: want.port,
    learning: true,
    ttl: 0,
    tos: 0,
    proxy: false,
    l2miss: false,
    l3miss: false,
    udpCsum: false,
    mac: want.mac,
    ...(want.mtu !== undefined && { mtu: want.mtu }),
    up: true,
  });
  // IPv6 may be off on new devices (disable_ipv6 inherited from default): dcos-net turns it on first.
  if (ipv6) await enableIpv6(ns, want.name);
  return { index: (await nl.link.get(want.name)).index, change: change || 'created' };
}

export async function enableIpv6(ns: Netns | undefined, dev: string): Promise<void> {
  try {
    await sysctl.set(ns, `net.ipv6.conf.${dev}.disable_ipv6`, '0');
  } catch (e) {
    // A kernel without IPv6 has no such file; the address op then says why.
    if (!isErrno(e, 'ENOENT')) throw e;
  }
}

/** What the kernel holds now, in the plane's shape (only the entries we own). */
export async function readPlane(nl: NetlinkHandle, dev: number): Promise<Plane> {
  const p = emptyPlane();
  const [addrs, neighs, fdb, routes4, routes6, routes42, rules] = await Promise.all([
    nl.addr.list({ dev }),
    nl.neigh.list({ dev }),
    nl.neigh.list({ family: 'bridge', dev }),
    nl.route.list({ family: 4, dev }),
    nl.route.list({ family: 6, dev }),
    nl.route.list({ family: 4, table: OVERLAY_TABLE }),
    nl.rule.list({ family: 4, table: OVERLAY_TABLE }),
  ]);
  for (const a of addrs) if (a.scope !== 'link' && a.scope !== 'host') p.addrs.add(`${canon(a.local)}/${a.prefixlen}`);
  for (const n of neighs) if (n.address && n.lladdr && n.state.includes('permanent')) p.neigh.set(canon(n.address), n.lladdr.toLowerCase());
  for (const f of fdb) if (f.dst && f.lladdr && f.state.includes('permanent')) p.fdb.add(fdbKey(f.lladdr, f.dst));
  for (const r of [...routes4, ...routes6]) if (r.gw && r.proto === 'boot' && r.table !== OVERLAY_TABLE) p.routes.set(canonCidr(r.dst), canon(r.gw));
  for (const r of routes42) if (r.gw && r.dev === dev && r.proto === 'boot') p.routes42.set(canonCidr(r.dst), canon(r.gw));
  for (const r of rules) if (r.from && !r.to && !r.iif && !r.oif && r.fwmark === undefined && r.action === 'table') p.rules.add(canonCidr(r.from));
  return p;
}
