// The Contrail-style objects the overlay master keeps for local mode (networks, floating-IP pools,
// security groups, and the endpoints containers hold), as the JSON records its store writes, with
// their keys and the claims (VNIs, addresses) that must be unique across the cluster. Pure; shared by
// the master (which changes them), the agent (which programs hosts from them) and the plugin.
import { isIPv4 } from '../../ip.js';

/** One part of an fq-name: Contrail allows more, but these end up in files, tags and messages. */
export const FQ_PART = /^[A-Za-z0-9_.-]{1,64}$/;

export const DEFAULT_DOMAIN = 'default-domain';
export const DEFAULT_PROJECT = 'default';
/** The network a task without a `networks` label joins (the deprecated manager's name for it). */
export const DEFAULT_NETWORK = 'default-network';

export type Direction = 'ingress' | 'egress';
export const PROTOCOLS = ['any', 'tcp', 'udp', 'icmp'] as const;
export type SgProtocol = (typeof PROTOCOLS)[number];

/** One rule of a security group: traffic it allows (everything else of that direction is dropped). */
export interface SgRule {
  direction: Direction;
  protocol: SgProtocol;
  /** tcp/udp only: "80" or "8000-8100"; absent: every port. */
  ports?: string;
  /** Absent: anywhere. */
  remote?: { cidr: string } | { group: string };
}

export interface NetworkRec {
  kind: 'network';
  fq: string;
  /** IPv4 CIDR, canonical (host bits clear). */
  subnet: string;
  /** The subnet's first address: every host answers for it (the vRouter's role). */
  gateway: string;
  vni: number;
}

export interface PoolRec {
  kind: 'pool';
  /** domain:project:network:pool */
  fq: string;
  subnet: string;
  /** The host interface the pool's addresses are reachable on (same name on every agent). */
  interface: string;
  /** Inclusive range of the addresses handed out (default: the subnet's hosts). */
  first: string;
  last: string;
}

export interface GroupRec {
  kind: 'group';
  fq: string;
  rules: SgRule[];
}

/**
 * One rule of a network policy: new connections it lets cross between two networks (isolation
 * drops everything else between them). `>`: from `src` to `dst`; `<>`: either way. `src`/`dst`
 * are network fq-names or `any`; `ports` (tcp/udp) are the destination ports of the connection.
 */
export interface PolicyRule {
  direction: '>' | '<>';
  protocol: SgProtocol;
  src: string;
  dst: string;
  ports?: string;
}

/** Contrail's network policy: its rules apply between networks it is attached to (both ends). */
export interface PolicyRec {
  kind: 'policy';
  fq: string;
  /** The networks it is attached to (Contrail's network_policy_refs, kept on the policy). */
  networks: string[];
  rules: PolicyRule[];
}

export interface FloatingIp {
  pool: string;
  ip: string;
}

export interface EndpointRec {
  kind: 'endpoint';
  container_id: string;
  ifname: string;
  /** The agent (its overlay IP) the container runs on. */
  agent: string;
  network: string;
  ip: string;
  mac: string;
  groups: string[];
  fips: FloatingIp[];
}

export type ContrailRecord = NetworkRec | PoolRec | GroupRec | PolicyRec | EndpointRec;

export const endpointId = (containerId: string, ifname: string): string => `${containerId}/${ifname}`;

/** The store key of a record: "<kind>/<fq or container/ifname>". */
export function recordKey(r: ContrailRecord): string {
  return r.kind === 'endpoint' ? `endpoint/${endpointId(r.container_id, r.ifname)}` : `${r.kind}/${r.fq}`;
}

/** What a record holds that no other record may hold: checked by the store (ZooKeeper: a znode each). */
export function claimsOf(r: ContrailRecord): string[] {
  if (r.kind === 'network') return [`vni/${r.vni}`];
  if (r.kind === 'endpoint') return [`ip/${r.ip}`, ...r.fips.map((f) => `fip/${f.ip}`)];
  return [];
}

export class FqError extends Error {
  override name = 'FqError';
}

/**
 * An fq-name of `parts` parts from `text`, with missing leading parts taken from `defaults` (for
 * a network: "blue" → default-domain:default:blue, "p:blue" → default-domain:p:blue).
 */
export function parseFq(text: string, parts: number, defaults: string[], what: string): string {
  const got = text.trim().split(':');
  const min = parts - defaults.length;
  if (got.length < min || got.length > parts || got.some((p) => !FQ_PART.test(p))) {
    const form = ['domain', 'project', ...(parts === 4 ? ['network'] : []), what].slice(-parts).join(':');
    throw new FqError(`expected ${form}${min < parts ? ` (the first ${parts - min} part(s) may be left out)` : ''}, each part 1-64 of A-Z a-z 0-9 _ . -, got ${JSON.stringify(text)}`);
  }
  return [...defaults.slice(0, parts - got.length), ...got].join(':');
}

/** An IPv4 address as a number (validated by the caller). */
export function ip4ToNum(ip: string): number {
  return ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

export function numToIp4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

export interface Cidr4 {
  base: number;
  prefix: number;
  /** Canonical text. */
  text: string;
  /** The address as written (host bits kept). */
  addr: number;
}

/** "a.b.c.d/len" (IPv4 only: local mode is IPv4, as Contrail's Mesos path was). */
export function parseCidr4(text: string): Cidr4 | undefined {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(text.trim());
  if (!m || !isIPv4(m[1]!) || Number(m[2]) > 32) return undefined;
  const prefix = Number(m[2]);
  const addr = ip4ToNum(m[1]!);
  const size = 2 ** (32 - prefix);
  const base = addr - (addr % size);
  return { base, prefix, addr, text: `${numToIp4(base)}/${prefix}` };
}

export const cidrSize = (c: Cidr4): number => 2 ** (32 - c.prefix);
export const inCidr = (c: Cidr4, n: number): boolean => n >= c.base && n < c.base + cidrSize(c);
export const overlaps = (a: Cidr4, b: Cidr4): boolean => a.base < b.base + cidrSize(b) && b.base < a.base + cidrSize(a);
