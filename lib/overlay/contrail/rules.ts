// An endpoint's host-side rules in local mode, as typed iptables rules: names (its tap, its two
// chains, its tag), the chains' content from its view (isolation with what network policies let
// through, then its security groups' whitelist), the jumps that send its traffic there, and its floating IPs' 1:1 NAT. Pure: the
// plugin writes them at ADD, the agent rewrites the chains when a group or a network changes.
import type { Op, PortSpec, Rule, SharedChain } from '../../iptables/index.js';
import { overlaps, parseCidr4 } from './model.js';
import type { EndpointView, PolicyAllow, ResolvedRule } from './view.js';
import { sha256Hex } from '../../util/digest.js';

const hash = (containerId: string, ifname: string, n: number) => sha256Hex(`${containerId}/${ifname}`).slice(0, n);

/** The host end of a local-mode veth: tap + 12 hex of the attachment (the container's is CNI_IFNAME). */
export const localTapName = (containerId: string, ifname: string): string => `tap${hash(containerId, ifname, 12)}`;

/** Every rule of the attachment carries this comment; DEL removes by it. */
export const endpointTag = (containerId: string, ifname: string): string => `mesos-cni contrail ${hash(containerId, ifname, 16)}`;

export interface EndpointChains {
  /** What the container sends (jumped to for -i tap). */
  egress: string;
  /** What the container receives (jumped to for -o tap). */
  ingress: string;
}

export const endpointChains = (containerId: string, ifname: string): EndpointChains => {
  const h = hash(containerId, ifname, 16);
  return { egress: `CTRL-E-${h}`, ingress: `CTRL-I-${h}` };
};

/** Shared chains (filter), each jumped to first thing from its built-in chain. */
export const FWD = 'CONTRAIL-FWD';
export const IN = 'CONTRAIL-IN';
export const OUT = 'CONTRAIL-OUT';
/** Shared chains (nat) for floating IPs. */
export const DNAT = 'CONTRAIL-DNAT';
export const SNAT = 'CONTRAIL-SNAT';

export const FILTER_SHARED: SharedChain[] = [
  { name: FWD, onCreate: [{ op: 'insert', rule: { chain: 'FORWARD', target: { kind: 'jump', chain: FWD } }, position: 1 }] },
  { name: IN, onCreate: [{ op: 'insert', rule: { chain: 'INPUT', target: { kind: 'jump', chain: IN } }, position: 1 }] },
  { name: OUT, onCreate: [{ op: 'insert', rule: { chain: 'OUTPUT', target: { kind: 'jump', chain: OUT } }, position: 1 }] },
];

export const NAT_SHARED: SharedChain[] = [
  {
    name: DNAT,
    onCreate: [
      { op: 'insert', rule: { chain: 'PREROUTING', target: { kind: 'jump', chain: DNAT } }, position: 1 },
      { op: 'insert', rule: { chain: 'OUTPUT', target: { kind: 'jump', chain: DNAT } }, position: 1 },
    ],
  },
  // First in POSTROUTING: a floating IP's source wins over any masquerade rule after it.
  { name: SNAT, onCreate: [{ op: 'insert', rule: { chain: 'POSTROUTING', target: { kind: 'jump', chain: SNAT } }, position: 1 }] },
];

function portSpec(ports: string): PortSpec {
  const [lo, hi] = ports.split('-').map(Number);
  return hi === undefined ? lo! : [lo!, hi];
}

/** One allowed-traffic rule as iptables rules (one per remote; none when a remote group is empty). */
function allow(chain: string, r: ResolvedRule, side: 'source' | 'destination'): Rule[] {
  const base: Omit<Rule, 'chain' | 'target'> = {
    ...(r.protocol !== 'any' && { protocol: r.protocol }),
    ...(r.ports !== undefined && { dport: portSpec(r.ports) }),
  };
  const remotes = r.remotes ?? [undefined];
  return remotes.map((cidr) => ({ chain, ...base, ...(cidr !== undefined && { [side]: cidr }), target: { kind: 'RETURN' } }));
}

/** The smaller of two CIDRs when one holds the other (IPv4 CIDRs always nest or are disjoint). */
function cidrMeet(a: string, b: string): string | undefined {
  const x = parseCidr4(a)!;
  const y = parseCidr4(b)!;
  if (!overlaps(x, y)) return undefined;
  return x.prefix >= y.prefix ? x.text : y.text;
}

function portsMeet(a: string | undefined, b: string | undefined): string | undefined | null {
  if (a === undefined || b === undefined) return a ?? b;
  const [alo, ahi = alo] = a.split('-').map(Number) as [number, number?];
  const [blo, bhi = blo] = b.split('-').map(Number) as [number, number?];
  const lo = Math.max(alo, blo);
  const hi = Math.min(ahi, bhi);
  if (lo > hi) return null;
  return lo === hi ? String(lo) : `${lo}-${hi}`;
}

/**
 * What a policy allowance to or from `subnet` and a security-group rule both let through, as one
 * rule (undefined: nothing): traffic between networks must pass the policy and, where groups
 * apply, a group too — one RETURN cannot say "and", so the two are intersected here.
 */
export function meet(a: PolicyAllow, r: ResolvedRule, subnet: string): ResolvedRule | undefined {
  const protocol = a.protocol === 'any' ? r.protocol : r.protocol === 'any' || r.protocol === a.protocol ? a.protocol : undefined;
  if (protocol === undefined) return undefined;
  const ports = portsMeet(a.ports, r.ports);
  if (ports === null) return undefined;
  const remotes = (r.remotes ?? [subnet]).map((cidr) => cidrMeet(cidr, subnet)).filter((c) => c !== undefined);
  if (remotes.length === 0) return undefined;
  return { protocol, ...(ports !== undefined && { ports }), remotes };
}

const ANYTHING: ResolvedRule = { protocol: 'any' };

/**
 * The two chains' rules: replies of allowed connections pass; traffic to or from another network
 * is dropped but for what policies joining the two allow (and, with groups, a group allows too);
 * then, with security groups, each rule allows (RETURN) and the rest is dropped. A chain only
 * subtracts: what it lets through meets the host's own policy after it.
 */
export function chainRules(c: EndpointChains, v: EndpointView): Rule[] {
  const out: Rule[] = [];
  for (const [chain, side, rules, dir] of [
    [c.egress, 'destination', v.egress, 'egress'],
    [c.ingress, 'source', v.ingress, 'ingress'],
  ] as const) {
    out.push({ chain, ctState: ['RELATED', 'ESTABLISHED'], target: { kind: 'RETURN' } });
    for (const o of v.others) {
      for (const a of o[dir]) {
        for (const r of v.enforced ? rules : [ANYTHING]) {
          const m = meet(a, r, o.subnet);
          if (m) out.push(...allow(chain, m, side));
        }
      }
      out.push({ chain, [side]: o.subnet, target: { kind: 'DROP' } });
    }
    if (!v.enforced) continue;
    for (const r of rules) out.push(...allow(chain, r, side));
    out.push({ chain, target: { kind: 'DROP' } });
  }
  return out;
}

/** The jumps into the endpoint's chains, tagged (in the shared chains). */
export function jumpRules(c: EndpointChains, tap: string, tag: string): Rule[] {
  return [
    { chain: FWD, inInterface: tap, comment: tag, target: { kind: 'jump', chain: c.egress } },
    { chain: FWD, outInterface: tap, comment: tag, target: { kind: 'jump', chain: c.ingress } },
    { chain: IN, inInterface: tap, comment: tag, target: { kind: 'jump', chain: c.egress } },
    { chain: OUT, outInterface: tap, comment: tag, target: { kind: 'jump', chain: c.ingress } },
  ];
}

/** The filter table's transaction for an endpoint's ADD: its chains (declared: they are its own) and jumps. */
export function filterOps(c: EndpointChains, v: EndpointView, tap: string, tag: string): Op[] {
  return [...chainRules(c, v), ...jumpRules(c, tap, tag)].map((rule) => ({ op: 'append', rule }));
}

/** 1:1 NAT per floating IP: inbound to the fixed address, outbound via the pool's interface from the floating one. */
export function natRules(v: EndpointView, tag: string): Rule[] {
  return v.fips.flatMap((f): Rule[] => [
    { chain: DNAT, destination: `${f.ip}/32`, comment: tag, target: { kind: 'DNAT', ip: v.ip } },
    { chain: SNAT, source: `${v.ip}/32`, outInterface: f.interface, comment: tag, target: { kind: 'SNAT', ip: f.ip } },
  ]);
}
