// The netlink ops that turn one plane into another: replaces for what is missing or different,
// deletes for what is extra (only when the desired plane is authoritative). Pure. Order inside the
// batch matters because the kernel runs its messages in order: deletes first (an FDB entry moving
// to a new agent IP must lose its old remote before the replace), then addresses (a gateway must
// be on-link before a route uses it), neighbours, FDB, routes, table 42, rules.
import type { Op } from '../../../netlink/index.js';
import { OVERLAY_TABLE, type Plane } from './plane.js';

const familyOf = (ip: string): 4 | 6 => (ip.includes(':') ? 6 : 4);

function changed<K, V>(want: Map<K, V>, have: Map<K, V>): [K, V][] {
  return [...want].filter(([k, v]) => have.get(k) !== v);
}

const extra = <K>(have: Iterable<K>, want: { has(k: K): boolean }): K[] => [...have].filter((k) => !want.has(k));

/**
 * Ops taking the kernel from `actual` to `desired` on the VTEP `dev` (its ifindex). With
 * `deletions: false` nothing is removed (a view that may be stale must never withdraw a route).
 */
export function diffPlanes(actual: Plane, desired: Plane, dev: number, deletions: boolean): Op[] {
  const ops: Op[] = [];
  if (deletions) {
    for (const k of extra(actual.rules, desired.rules)) ops.push({ op: 'rule.del', spec: { from: k, table: OVERLAY_TABLE } });
    for (const [dst, gw] of actual.routes42) if (!desired.routes42.has(dst)) ops.push({ op: 'route.del', spec: { dst, gw, dev, table: OVERLAY_TABLE } });
    for (const [dst, gw] of actual.routes) if (!desired.routes.has(dst)) ops.push({ op: 'route.del', spec: { dst, gw, dev } });
    for (const k of extra(actual.fdb, desired.fdb)) {
      const [lladdr, dst] = k.split('>') as [string, string];
      ops.push({ op: 'neigh.del', spec: { family: 'bridge', dev, lladdr, dst } });
    }
    for (const ip of extra(actual.neigh.keys(), desired.neigh)) ops.push({ op: 'neigh.del', spec: { dev, address: ip } });
    for (const a of extra(actual.addrs, desired.addrs)) ops.push({ op: 'addr.del', spec: { dev, address: a } });
  }
  for (const a of extra(desired.addrs, actual.addrs)) ops.push({ op: 'addr.replace', spec: { dev, address: a } });
  for (const [address, lladdr] of changed(desired.neigh, actual.neigh)) ops.push({ op: 'neigh.replace', spec: { dev, address, lladdr, state: 'permanent' } });
  for (const k of extra(desired.fdb, actual.fdb)) {
    const [lladdr, dst] = k.split('>') as [string, string];
    ops.push({ op: 'neigh.replace', spec: { family: 'bridge', dev, lladdr, dst, self: true, state: 'permanent' } });
  }
  for (const [dst, gw] of changed(desired.routes, actual.routes)) ops.push({ op: 'route.replace', spec: { dst, gw, dev, family: familyOf(gw) } });
  for (const [dst, gw] of changed(desired.routes42, actual.routes42)) ops.push({ op: 'route.replace', spec: { dst, gw, dev, table: OVERLAY_TABLE } });
  for (const k of extra(desired.rules, actual.rules)) ops.push({ op: 'rule.add', spec: { from: k, table: OVERLAY_TABLE } });
  return ops;
}
