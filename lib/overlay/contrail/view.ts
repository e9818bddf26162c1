// What one endpoint's host must enforce, resolved from the records: its network, its floating
// IPs with their pools' interfaces, the other networks it is isolated from (with what network
// policies attached to both let through), and its security
// groups' rules with every remote group turned into the addresses of that group's members. The
// master answers an attach with it and the agent recomputes it on every change, with this one
// function, so the plugin's first rules and the agent's later ones cannot disagree.
import type { ContrailRecord, EndpointRec, GroupRec, NetworkRec, PolicyRec, PoolRec, SgProtocol } from './model.js';

/** Records by kind, as both the master's state and the agent's view hold them. */
export class RecordIndex {
  readonly networks = new Map<string, NetworkRec>();
  readonly pools = new Map<string, PoolRec>();
  readonly groups = new Map<string, GroupRec>();
  readonly policies = new Map<string, PolicyRec>();
  readonly endpoints = new Map<string, EndpointRec>();

  static of(records: Iterable<ContrailRecord>): RecordIndex {
    const x = new RecordIndex();
    for (const r of records) x.put(r);
    return x;
  }

  put(r: ContrailRecord): void {
    if (r.kind === 'network') this.networks.set(r.fq, r);
    else if (r.kind === 'pool') this.pools.set(r.fq, r);
    else if (r.kind === 'group') this.groups.set(r.fq, r);
    else if (r.kind === 'policy') this.policies.set(r.fq, r);
    else this.endpoints.set(`${r.container_id}/${r.ifname}`, r);
  }

  /** The fixed addresses of every endpoint in `group`, sorted (stable rule order). */
  members(group: string): string[] {
    return [...this.endpoints.values()].filter((e) => e.groups.includes(group)).map((e) => e.ip).sort();
  }
}

/** A rule with its remote resolved to CIDRs (none: the remote group has no member, so it matches nothing). */
export interface ResolvedRule {
  protocol: SgProtocol;
  ports?: string;
  /** undefined: anywhere. */
  remotes?: string[];
}

/** What crosses to or from another network: new connections of this protocol (and destination ports). */
export interface PolicyAllow {
  protocol: SgProtocol;
  ports?: string;
}

/** Another network: dropped both ways, except the connections `allow` lets through (egress: to it; ingress: from it). */
export interface OtherNetwork {
  subnet: string;
  egress: PolicyAllow[];
  ingress: PolicyAllow[];
}

export interface FipView {
  pool: string;
  ip: string;
  interface: string;
  /** The pool's prefix length (the address's subnet on that interface). */
  prefix: number;
}

export interface EndpointView {
  network: NetworkRec;
  ip: string;
  mac: string;
  fips: FipView[];
  /** Every other network, by subnet: traffic to or from it is dropped but for what policies allow. */
  others: OtherNetwork[];
  /** Security groups apply (the endpoint names at least one): only what a rule allows passes. */
  enforced: boolean;
  ingress: ResolvedRule[];
  egress: ResolvedRule[];
}

export class ViewError extends Error {
  override name = 'ViewError';
}

export function endpointView(x: RecordIndex, ep: EndpointRec): EndpointView {
  const network = x.networks.get(ep.network);
  if (!network) throw new ViewError(`endpoint ${ep.container_id}/${ep.ifname}: its network ${ep.network} is not known`);
  const fips = ep.fips.map((f) => {
    const pool = x.pools.get(f.pool);
    if (!pool) throw new ViewError(`endpoint ${ep.container_id}/${ep.ifname}: its pool ${f.pool} is not known`);
    return { pool: f.pool, ip: f.ip, interface: pool.interface, prefix: Number(pool.subnet.split('/')[1]) };
  });
  const others = [...x.networks.values()]
    .filter((n) => n.fq !== network.fq)
    .sort((a, b) => (a.subnet < b.subnet ? -1 : a.subnet > b.subnet ? 1 : 0))
    .map((n) => ({ subnet: n.subnet, egress: allowed(x, network.fq, n.fq), ingress: allowed(x, n.fq, network.fq) }));
  const ingress: ResolvedRule[] = [];
  const egress: ResolvedRule[] = [];
  for (const g of ep.groups) {
    // A group deleted while in use denies what it allowed (fail closed), as a group with no rules.
    for (const r of x.groups.get(g)?.rules ?? []) {
      const remote = r.remote;
      const remotes = remote === undefined ? undefined : 'cidr' in remote ? [remote.cidr] : x.members(remote.group).map((ip) => `${ip}/32`);
      (r.direction === 'ingress' ? ingress : egress).push({ protocol: r.protocol, ...(r.ports !== undefined && { ports: r.ports }), ...(remotes !== undefined && { remotes }) });
    }
  }
  return { network, ip: ep.ip, mac: ep.mac, fips, others, enforced: ep.groups.length > 0, ingress, egress };
}

const matches = (side: string, fq: string) => side === 'any' || side === fq;

/**
 * New connections from network `from` to network `to` that policies let through: Contrail's rule
 * that a policy joins two networks only when it is attached to both, then each of its rules whose
 * src and dst (either way for `<>`) match. Sorted and unique, so the chains are stable.
 */
export function allowed(x: RecordIndex, from: string, to: string): PolicyAllow[] {
  const out = new Map<string, PolicyAllow>();
  for (const p of [...x.policies.values()].sort((a, b) => (a.fq < b.fq ? -1 : 1))) {
    if (!p.networks.includes(from) || !p.networks.includes(to)) continue;
    for (const r of p.rules) {
      const forward = matches(r.src, from) && matches(r.dst, to);
      const back = r.direction === '<>' && matches(r.src, to) && matches(r.dst, from);
      if (!forward && !back) continue;
      const a: PolicyAllow = { protocol: r.protocol, ...(r.ports !== undefined && { ports: r.ports }) };
      out.set(JSON.stringify(a), a);
    }
  }
  return [...out.values()];
}
