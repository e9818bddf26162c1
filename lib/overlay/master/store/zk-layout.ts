// Where the ZooKeeper store keeps things, under <url path>/overlay-master:
//   election/n_<seq>        ephemeral sequential, one per live master; data: its advertised host:port
//   meta                    data: format; its version counts the commits (every commit sets it
//                           with the version it read: a stale leader's commit fails)
//   agents/<ip>             one agent's record (StoredAgent JSON, a few hundred bytes)
//   claims/<kind>/<name>    one per VTEP IP, VTEP IPv6, VTEP MAC, subnet and subnet6 held, created
//                           in the same multi-op as the record: ZooKeeper itself refuses a duplicate
//   records/<key>           one other record (a Contrail object; key URI-encoded), its claims under
//                           claims/record/<claim> (URI-encoded) in the same way
import type { StoredAgent } from '../types.js';
import type { StoredRecord } from './types.js';

export const CLAIM_KINDS = ['vtep', 'vtep6', 'mac', 'subnet', 'subnet6', 'record'] as const;

export const paths = (root: string) => ({
  root,
  election: `${root}/election`,
  meta: `${root}/meta`,
  agents: `${root}/agents`,
  agent: (ip: string) => `${root}/agents/${ip}`,
  records: `${root}/records`,
  record: (key: string) => `${root}/records/${encodeURIComponent(key)}`,
  claims: (kind: string) => `${root}/claims/${kind}`,
  claim: (c: string) => `${root}/claims/${c}`,
});

const bare = (cidr: string) => cidr.split('/')[0]!;

/** The claims an agent's record holds, as "<kind>/<name>". */
export function claimsOf(a: StoredAgent): string[] {
  const vx = a.backend.vxlan;
  const out = [`vtep/${bare(vx.vtep_ip)}`, `mac/${vx.vtep_mac}`];
  if (vx.vtep_ip6 !== undefined) out.push(`vtep6/${bare(vx.vtep_ip6)}`);
  for (const o of a.overlays) {
    if (o.subnet !== undefined) out.push(`subnet/${o.info.name}@${o.subnet.replace('/', '_')}`);
    if (o.subnet6 !== undefined) out.push(`subnet6/${o.info.name}@${o.subnet6.replace('/', '_')}`);
  }
  return out;
}

/** The claims of another record, as "record/<claim>" (URI-encoded: a claim may hold '/'). */
export function recordClaims(r: StoredRecord): string[] {
  return r.claims.map((c) => `record/${encodeURIComponent(c)}`);
}
