// What the macvtap plugin asks of the kernel, as netlink ops built from the IPAM result: the one
// container batch, the hostrouteip source routing, the hostrouteif host routes. Pure builders
// plus the few helpers that read kernel state to decide (a rule priority, what DEL removes).
import type { IpConfig, Route as CniRoute } from '../../cni/result.js';
import type { NetlinkHandle } from '../../netlink/handle.js';
import { formatIp, networkOf, parseIp, parsePrefix, type Family, type IpAddr } from '../../ip.js';
import type { Op } from '../../netlink/ops.js';
import type { RouteSpec } from '../../netlink/route.js';
import type { Rule, RuleSpec } from '../../netlink/rule.js';

export const familyOf = (cidr: string): Family => (cidr.includes(':') ? 6 : 4);

/** "10.0.0.5/24" → "10.0.0.5/32" (and /128 for IPv6): the route to exactly that address. */
export function hostPrefix(address: string): string {
  const p = parsePrefix(address, 'ips.address');
  return `${formatIp(p.bytes)}/${p.family === 4 ? 32 : 128}`;
}

/** A route destination in one canonical form, so prevResult and kernel dumps compare equal. */
export function canonicalDst(dst: string): string {
  if (dst === 'default') return dst;
  const n = networkOf(parsePrefix(dst, 'route.dst'));
  return n.prefix === 0 ? 'default' : `${formatIp(n.bytes)}/${n.prefix}`;
}

const isUnspecified = (gw: string) => parseIp(gw, 'route.gw').bytes.every((b) => b === 0);

/**
 * The kernel route for one IPAM route on the container link. As ipam.ConfigureIface does, a route
 * without `gw` goes via the address's gateway of its family; `gw` 0.0.0.0 or :: (upstream's
 * README uses it for the route to the agent) means on-link, no gateway.
 */
export function containerRoute(r: CniRoute, ips: IpConfig[], dev: number): RouteSpec {
  const family = familyOf(r.dst);
  const gw = r.gw !== undefined ? (isUnspecified(r.gw) ? undefined : r.gw) : ips.find((ip) => familyOf(ip.address) === family)?.gateway;
  const dst = canonicalDst(r.dst);
  return { dst, family, dev, ...(gw ? { gw } : {}) };
}

/** Whether this interface carries a route through a gateway (it then owns the route to the host). */
export function hasGatewayRoute(routes: CniRoute[], ips: IpConfig[]): boolean {
  return routes.some((r) => containerRoute(r, ips, 1).gw !== undefined);
}

export interface ContainerPlan {
  /** The new link's index (it still has its temporary name when the batch is built). */
  index: number;
  ifname: string;
  ips: IpConfig[];
  routes: CniRoute[];
  hostRouteIp: IpAddr | undefined;
}

/**
 * The container side in one round trip: rename to CNI_IFNAME, lo up, addresses, link up (with
 * arp_notify set, the kernel sends the gratuitous ARP for every address right here), IPAM routes,
 * the hostrouteip route in the interface's own table, then the link read back. Links are named
 * by index: the batch's names are resolved before it is sent, when the link has its temp name.
 */
export function containerOps(p: ContainerPlan): Op[] {
  const ops: Op[] = [
    { op: 'link.set', spec: { index: p.index, newName: p.ifname } },
    { op: 'link.set', spec: { name: 'lo', up: true } },
  ];
  for (const ip of p.ips) ops.push({ op: 'addr.add', spec: { dev: p.index, address: ip.address } });
  ops.push({ op: 'link.set', spec: { index: p.index, up: true } });
  for (const r of p.routes) ops.push({ op: 'route.add', spec: containerRoute(r, p.ips, p.index) });
  if (p.hostRouteIp) ops.push({ op: 'route.add', spec: { dst: hostPrefix(p.hostRouteIp.text), dev: p.index, table: routeTable(p.index) } });
  ops.push({ op: 'link.get', spec: { index: p.index } });
  return ops;
}

/**
 * The routing table of the interface with this index: the index itself, as upstream numbers it,
 * except where that would alias the kernel's default/main/local tables (253-255).
 */
export function routeTable(index: number): number {
  return index >= 253 && index <= 255 ? 0x10000 + index : index;
}

/**
 * Priority for a new source rule, as upstream picks it: just before the first rule above 5
 * (on a fresh namespace: main at 32766 → 32765), or 99 when there is none. Each further
 * interface's rule lands before the previous ones.
 */
export function sourceRulePriority(rules: Rule[]): number {
  const above = rules.map((r) => r.priority).filter((p) => p > 5).sort((a, b) => a - b);
  return (above[0] ?? 100) - 1;
}

/** `from <addr>/32 lookup <ifindex>` for each container address of the host address's family. */
export function sourceRules(ips: IpConfig[], hostRouteIp: IpAddr, table: number, priority: number): RuleSpec[] {
  return ips
    .filter((ip) => familyOf(ip.address) === hostRouteIp.family)
    .map((ip) => ({ from: hostPrefix(ip.address), table, priority }));
}

/** Rules this plugin made for an interface: source rules (from one address) into its table. */
export async function ownSourceRules(h: NetlinkHandle, table: number): Promise<Rule[]> {
  const rules = await h.rule.list({ table });
  return rules.filter((r) => r.action === 'table' && r.from !== undefined && /\/(32|128)$/.test(r.from));
}

/** Host routes `<ip>/32 dev <hostrouteif>`, one per container address (and /128 for IPv6). */
export function hostRoutes(dsts: string[], dev: number): RouteSpec[] {
  return dsts.map((dst) => ({ dst, dev }));
}
