// The VXLAN data plane as data: what dcos-net programs on an agent (the VTEP, its addresses, the
// `from <overlay> lookup 42` rules, and per peer a permanent neighbour, an FDB entry, a route to
// its subnet and a /32 in table 42), computed from this agent's AgentInfo and its peers'. Pure:
// the kernel's side is read into the same shape (kernel.ts) and the two are diffed (diff.ts).
import { formatIp, parseIp } from '../../../ip.js';
import type { AgentInfo, AgentOverlayInfo } from '../../master/types.js';

/** dcos-net's constants: the VXLAN UDP port (not in the master's model) and the policy table. */
export const VXLAN_PORT = 64000;
export const OVERLAY_TABLE = 42;

export interface VtepSpec {
  name: string;
  vni: number;
  port: number;
  mac: string;
  /** Only when the master sets vtep_mtu (else the kernel's default stays, as dcos-net). */
  mtu?: number;
}

export interface Plane {
  vtep?: VtepSpec;
  /** Addresses on the VTEP, "44.128.0.1/20" (IPv6 too). */
  addrs: Set<string>;
  /** IPv4 overlay subnets that get `from <subnet> lookup 42`. */
  rules: Set<string>;
  /** Peer VTEP IP → its MAC (`ip neigh replace … nud permanent`). */
  neigh: Map<string, string>;
  /** "<mac>><agent ip>" (`bridge fdb replace MAC dev vtep dst IP self permanent`). */
  fdb: Set<string>;
  /** Peer agent subnet → its VTEP IP, main table, dev vtep. */
  routes: Map<string, string>;
  /** Peer agent IP/32 → its VTEP IP, table 42. */
  routes42: Map<string, string>;
}

export const emptyPlane = (): Plane => ({ addrs: new Set(), rules: new Set(), neigh: new Map(), fdb: new Set(), routes: new Map(), routes42: new Map() });

/** Canonical address text (the kernel's and the master's forms agree after this). */
export function canon(ip: string): string {
  return formatIp(parseIp(ip, 'address').bytes);
}

/** "44.128.0.1/20" → "44.128.0.1" canonical. */
const bare = (cidr: string): string => canon(cidr.slice(0, cidr.indexOf('/') < 0 ? undefined : cidr.indexOf('/')));

/** "a/len" with the address canonical (prefix kept as written). */
export function canonCidr(cidr: string): string {
  const at = cidr.indexOf('/');
  return at < 0 ? canon(cidr) : `${canon(cidr.slice(0, at))}/${cidr.slice(at + 1)}`;
}

export const fdbKey = (mac: string, dst: string): string => `${mac.toLowerCase()}>${canon(dst)}`;

/** Every overlay of an agent carries the same backend (one VTEP per agent). */
const backendOf = (a: AgentInfo) => a.overlays[0]?.backend.vxlan;

/**
 * The plane this agent should have: its VTEP from its own backend (nothing at all while it holds
 * no overlay: an existing VTEP is then left alone), and every peer's entries for the overlays both
 * hold. A peer counts with any allocated subnet, whatever state it last reported: states live only
 * in the master's memory, so after a master failover they are blank until agents re-register, and
 * routes must not be withdrawn meanwhile.
 */
export function desiredPlane(self: AgentInfo | undefined, peers: Iterable<AgentInfo>): Plane {
  const p = emptyPlane();
  const vx = self && backendOf(self);
  if (!self || !vx) return p;
  p.vtep = { name: vx.vtep_name, vni: vx.vni, port: VXLAN_PORT, mac: vx.vtep_mac.toLowerCase(), ...(vx.vtep_mtu !== undefined && { mtu: vx.vtep_mtu }) };
  p.addrs.add(canonCidr(vx.vtep_ip));
  if (vx.vtep_ip6 !== undefined) p.addrs.add(canonCidr(vx.vtep_ip6));
  const mine = new Map<string, AgentOverlayInfo>(self.overlays.map((o) => [o.info.name, o]));
  for (const o of self.overlays) if (o.info.subnet !== undefined) p.rules.add(canonCidr(o.info.subnet));
  for (const peer of peers) {
    if (peer.ip === self.ip) continue;
    const pvx = backendOf(peer);
    if (!pvx) continue;
    const mac = pvx.vtep_mac.toLowerCase();
    const v4 = bare(pvx.vtep_ip);
    const v6 = pvx.vtep_ip6 !== undefined && vx.vtep_ip6 !== undefined ? bare(pvx.vtep_ip6) : undefined;
    let shared = false;
    for (const o of peer.overlays) {
      if (!mine.has(o.info.name)) continue;
      if (o.subnet !== undefined) {
        p.routes.set(canonCidr(o.subnet), v4);
        p.neigh.set(v4, mac);
        p.routes42.set(`${canon(peer.ip)}/32`, v4);
        shared = true;
      }
      if (o.subnet6 !== undefined && v6 !== undefined) {
        p.routes.set(canonCidr(o.subnet6), v6);
        p.neigh.set(v6, mac);
        shared = true;
      }
    }
    // The underlay is IPv4 (the agent IP): frames for the peer's MAC go there for either family.
    if (shared) p.fdb.add(fdbKey(mac, peer.ip));
  }
  return p;
}

export const sameVtep = (a: VtepSpec | undefined, b: VtepSpec | undefined): boolean =>
  a === b || (a !== undefined && b !== undefined && a.name === b.name && a.vni === b.vni && a.port === b.port && a.mac === b.mac && a.mtu === b.mtu);

/** How many peer entries a plane holds (for logs and metrics). */
export const planeSize = (p: Plane): number => p.neigh.size + p.fdb.size + p.routes.size + p.routes42.size;
