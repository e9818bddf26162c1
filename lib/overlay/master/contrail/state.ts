// The master's Contrail state for local mode as pure code on a value cloned before each batch (the
// shape of allocate.ts): networks (one subnet, gateway and VNI each; subnets never overlap, because
// every host routes all of them in one table), network policies joining them, floating-IP pools,
// security groups, and endpoints —
// each a container's interface with its address, floating IPs and groups, allocated here so an
// address is unique across the cluster. Every refusal names the label (or field) and changes nothing.
import { cidrSize, claimsOf, DEFAULT_NETWORK, inCidr, ip4ToNum, numToIp4, overlaps, parseCidr4, recordKey, type ContrailRecord, type EndpointRec, type GroupRec, type NetworkRec, type PolicyRec, type PoolRec } from '../../contrail/model.js';
import { endpointView, RecordIndex, type EndpointView } from '../../contrail/view.js';
import { sha256Hex } from '../../../util/digest.js';

export interface ContrailConfig {
  /** The subnet of `<domain>:<project>:default-network` when a task names no network and no subnet. */
  defaultSubnet: string;
  /** VNIs handed to networks, lowest free first. */
  vniFirst: number;
  vniLast: number;
}

export const CONTRAIL_DEFAULTS: ContrailConfig = { defaultSubnet: '10.32.0.0/16', vniFirst: 4096, vniLast: 16_777_215 };

/** A refused change: `status` is the HTTP answer, `label` the task label that caused it (attach). */
export class ContrailError extends Error {
  override name = 'ContrailError';
  constructor(
    message: string,
    readonly status: 400 | 404 | 409,
    readonly label?: string,
  ) {
    super(label ? `label ${label}: ${message}` : message);
  }
}

/** A stored state that cannot be served (a duplicate address or VNI, a dangling reference). */
export class ContrailRecoveryError extends Error {
  override name = 'ContrailRecoveryError';
}

export interface AttachRequest {
  agent: string;
  container_id: string;
  ifname: string;
  network: string;
  /** The subnet the labels gave, and which label gave it (for errors). */
  subnet?: { cidr: string; label: string };
  /** network-ip as an address. */
  ip?: string;
  fips: { pool: string; ip?: string }[];
  groups: string[];
}

export interface AttachResult {
  endpoint: EndpointRec;
  view: EndpointView;
  /** false when the endpoint existed already (a repeated ADD): nothing was allocated. */
  created: boolean;
}

const macOf = (key: string): string => ['02', ...sha256Hex(key).slice(0, 10).match(/../g)!].join(':');

export class ContrailState {
  /** Keys added, changed or removed since this value was made. */
  readonly touched = new Set<string>();

  private constructor(
    readonly cfg: ContrailConfig,
    readonly records: Map<string, ContrailRecord>,
    readonly x: RecordIndex,
  ) {}

  static empty(cfg: ContrailConfig = CONTRAIL_DEFAULTS): ContrailState {
    return new ContrailState(cfg, new Map(), new RecordIndex());
  }

  /** Rebuild from stored records; anything two records claim, or a dangling reference, throws. */
  static recover(cfg: ContrailConfig, stored: readonly ContrailRecord[]): ContrailState {
    const s = ContrailState.empty(cfg);
    const claims = new Map<string, string>();
    for (const r of stored) {
      const key = recordKey(r);
      if (s.records.has(key)) throw new ContrailRecoveryError(`record ${key} stored twice`);
      for (const c of claimsOf(r)) {
        const other = claims.get(c);
        if (other) throw new ContrailRecoveryError(`${key} and ${other} both hold ${c}`);
        claims.set(c, key);
      }
      s.records.set(key, r);
      s.x.put(r);
    }
    for (const p of s.x.policies.values()) {
      const missing = p.networks.find((n) => !s.x.networks.has(n));
      if (missing) throw new ContrailRecoveryError(`policy ${p.fq}: its network ${missing} is not known`);
    }
    for (const e of s.x.endpoints.values()) {
      try {
        endpointView(s.x, e);
      } catch (err) {
        throw new ContrailRecoveryError((err as Error).message);
      }
    }
    return s;
  }

  clone(): ContrailState {
    return new ContrailState(this.cfg, new Map(this.records), RecordIndex.of(this.records.values()));
  }

  #set(r: ContrailRecord): void {
    const key = recordKey(r);
    this.records.set(key, r);
    this.x.put(r);
    this.touched.add(key);
  }

  #drop(key: string): void {
    const r = this.records.get(key);
    if (!r) return;
    this.records.delete(key);
    if (r.kind === 'network') this.x.networks.delete(r.fq);
    else if (r.kind === 'pool') this.x.pools.delete(r.fq);
    else if (r.kind === 'group') this.x.groups.delete(r.fq);
    else if (r.kind === 'policy') this.x.policies.delete(r.fq);
    else this.x.endpoints.delete(`${r.container_id}/${r.ifname}`);
    this.touched.add(key);
  }

  #freeVni(): number {
    const used = new Set([...this.x.networks.values()].map((n) => n.vni));
    for (let v = this.cfg.vniFirst; v <= this.cfg.vniLast; v++) if (!used.has(v)) return v;
    throw new ContrailError(`no VNI left in ${this.cfg.vniFirst}-${this.cfg.vniLast}`, 409);
  }

  /** The network `fq` with `subnetText`: the one stored, or a new record (not stored yet). */
  #network(fq: string, subnetText: string, label?: string): { rec: NetworkRec; isNew: boolean } {
    const c = parseCidr4(subnetText);
    if (!c || c.prefix > 30) throw new ContrailError(`expected an IPv4 subnet a.b.c.d/len with len at most 30, got ${JSON.stringify(subnetText)}`, 400, label);
    const have = this.x.networks.get(fq);
    if (have) {
      if (have.subnet !== c.text) throw new ContrailError(`network ${fq} has subnet ${have.subnet}, not ${c.text}`, 409, label);
      return { rec: have, isNew: false };
    }
    for (const n of this.x.networks.values()) {
      if (overlaps(parseCidr4(n.subnet)!, c)) throw new ContrailError(`subnet ${c.text} overlaps network ${n.fq}'s ${n.subnet} (every host routes all networks in one table)`, 409, label);
    }
    return { rec: { kind: 'network', fq, subnet: c.text, gateway: numToIp4(c.base + 1), vni: this.#freeVni() }, isNew: true };
  }

  /** Declare a network (or find it): the same subnet again is fine, another one is a conflict. */
  putNetwork(fq: string, subnetText: string): NetworkRec {
    const { rec, isNew } = this.#network(fq, subnetText, undefined);
    if (isNew) this.#set(rec);
    return rec;
  }

  deleteNetwork(fq: string): boolean {
    if (!this.x.networks.has(fq)) return false;
    const users = [...this.x.endpoints.values()].filter((e) => e.network === fq);
    if (users.length) throw new ContrailError(`network ${fq} still has ${users.length} endpoint(s) (e.g. ${users[0]!.container_id})`, 409);
    const policy = [...this.x.policies.values()].find((p) => p.networks.includes(fq));
    if (policy) throw new ContrailError(`network ${fq} is attached to policy ${policy.fq}`, 409);
    this.#drop(`network/${fq}`);
    return true;
  }

  putPool(fq: string, subnetText: string, iface: string, first?: string, last?: string): PoolRec {
    const c = parseCidr4(subnetText);
    if (!c || c.prefix > 31) throw new ContrailError(`subnet: expected an IPv4 subnet a.b.c.d/len, got ${JSON.stringify(subnetText)}`, 400);
    const host = (t: string | undefined, dflt: number, field: string) => {
      if (t === undefined) return dflt;
      const n = /^\d{1,3}(\.\d{1,3}){3}$/.test(t) ? ip4ToNum(t) : NaN;
      if (!inCidr(c, n)) throw new ContrailError(`${field}: expected an address of ${c.text}, got ${JSON.stringify(t)}`, 400);
      return n;
    };
    const lo = host(first, c.prefix >= 31 ? c.base : c.base + 1, 'first');
    const hi = host(last, c.prefix >= 31 ? c.base + cidrSize(c) - 1 : c.base + cidrSize(c) - 2, 'last');
    if (lo > hi) throw new ContrailError(`first: ${numToIp4(lo)} comes after last ${numToIp4(hi)}`, 400);
    const rec: PoolRec = { kind: 'pool', fq, subnet: c.text, interface: iface, first: numToIp4(lo), last: numToIp4(hi) };
    for (const e of this.x.endpoints.values()) {
      for (const f of e.fips) {
        const n = ip4ToNum(f.ip);
        if (f.pool === fq && (n < lo || n > hi)) throw new ContrailError(`pool ${fq}: ${f.ip} (held by ${e.container_id}) would fall outside ${rec.first}-${rec.last}`, 409);
      }
    }
    this.#set(rec);
    return rec;
  }

  deletePool(fq: string): boolean {
    if (!this.x.pools.has(fq)) return false;
    const user = [...this.x.endpoints.values()].find((e) => e.fips.some((f) => f.pool === fq));
    if (user) throw new ContrailError(`pool ${fq} still has floating IPs in use (e.g. by ${user.container_id})`, 409);
    this.#drop(`pool/${fq}`);
    return true;
  }

  /** Create or replace a group: every endpoint holding it is re-filtered (the agents see the change). */
  putGroup(g: Omit<GroupRec, 'kind'>): GroupRec {
    for (const [i, r] of g.rules.entries()) {
      if (r.remote && 'group' in r.remote && r.remote.group !== g.fq && !this.x.groups.has(r.remote.group)) {
        throw new ContrailError(`rules[${i}].remote.group: no security group ${r.remote.group}`, 404);
      }
    }
    const rec: GroupRec = { kind: 'group', fq: g.fq, rules: g.rules };
    this.#set(rec);
    return rec;
  }

  deleteGroup(fq: string): boolean {
    if (!this.x.groups.has(fq)) return false;
    const user = [...this.x.endpoints.values()].find((e) => e.groups.includes(fq));
    if (user) throw new ContrailError(`security group ${fq} is still used by ${user.container_id}/${user.ifname}`, 409);
    const ref = [...this.x.groups.values()].find((o) => o.fq !== fq && o.rules.some((r) => r.remote && 'group' in r.remote && r.remote.group === fq));
    if (ref) throw new ContrailError(`security group ${fq} is the remote of a rule of ${ref.fq}`, 409);
    this.#drop(`group/${fq}`);
    return true;
  }

  /**
   * Create or replace a network policy: its networks must exist, and each rule may only name
   * them (or `any`) — a rule naming another network could never apply, so it is refused rather
   * than kept as a silent no-op. Every endpoint of those networks is re-filtered.
   */
  putPolicy(p: Omit<PolicyRec, 'kind'>): PolicyRec {
    for (const [i, n] of p.networks.entries()) if (!this.x.networks.has(n)) throw new ContrailError(`networks[${i}]: no network ${n}`, 404);
    for (const [i, r] of p.rules.entries()) {
      for (const side of ['src', 'dst'] as const) {
        if (r[side] !== 'any' && !p.networks.includes(r[side])) throw new ContrailError(`rules[${i}].${side}: ${r[side]} is not a network this policy is attached to (networks: ${p.networks.join(', ') || 'none'})`, 400);
      }
    }
    const rec: PolicyRec = { kind: 'policy', fq: p.fq, networks: [...new Set(p.networks)], rules: p.rules };
    this.#set(rec);
    return rec;
  }

  deletePolicy(fq: string): boolean {
    if (!this.x.policies.has(fq)) return false;
    this.#drop(`policy/${fq}`);
    return true;
  }

  #takenAddresses(): Map<number, string> {
    const m = new Map<number, string>();
    for (const e of this.x.endpoints.values()) {
      m.set(ip4ToNum(e.ip), `${e.container_id}/${e.ifname}`);
      for (const f of e.fips) m.set(ip4ToNum(f.ip), `${e.container_id}/${e.ifname}`);
    }
    return m;
  }

  /**
   * A container's interface joins a network: the network made on first use (from the labels'
   * subnet), its address (asked for, or the lowest free after the gateway), its floating IPs
   * (asked for, or the lowest free of the pool) and its groups, all or nothing.
   */
  attach(q: AttachRequest): AttachResult {
    const key = `endpoint/${q.container_id}/${q.ifname}`;
    const known = this.records.get(key) as EndpointRec | undefined;
    if (known) {
      // A repeated ADD (a runtime retrying): the same attachment, unless it asks for another network.
      if (known.network !== q.network) throw new ContrailError(`${q.container_id}/${q.ifname} is attached to ${known.network} already`, 409, 'networks');
      return { endpoint: known, view: endpointView(this.x, known), created: false };
    }
    // Nothing is stored until every check passed: a refused attach changes nothing.
    if (!this.x.networks.has(q.network) && !q.subnet && !q.network.endsWith(`:${DEFAULT_NETWORK}`)) {
      throw new ContrailError(`network ${q.network} does not exist and no subnet was given for it (label network-subnets, pod-subnets or a CIDR network-ip)`, 404, 'networks');
    }
    const { rec: net, isNew } = this.#network(q.network, q.subnet?.cidr ?? this.x.networks.get(q.network)?.subnet ?? this.cfg.defaultSubnet, q.subnet?.label ?? 'networks');
    const subnet = parseCidr4(net.subnet)!;
    const taken = this.#takenAddresses();
    const gw = ip4ToNum(net.gateway);
    const lastHost = subnet.base + cidrSize(subnet) - 2;
    let ip: number;
    if (q.ip !== undefined) {
      ip = ip4ToNum(q.ip);
      if (!inCidr(subnet, ip) || ip === subnet.base || ip > lastHost) throw new ContrailError(`${q.ip} is not a host address of network ${net.fq}'s ${net.subnet}`, 400, 'network-ip');
      if (ip === gw) throw new ContrailError(`${q.ip} is network ${net.fq}'s gateway`, 409, 'network-ip');
      const owner = taken.get(ip);
      if (owner) throw new ContrailError(`${q.ip} is taken (by ${owner})`, 409, 'network-ip');
    } else {
      ip = gw + 1;
      while (ip <= lastHost && taken.has(ip)) ip++;
      if (ip > lastHost) throw new ContrailError(`network ${net.fq} (${net.subnet}) has no free address`, 409, 'networks');
    }
    taken.set(ip, key);
    const fips = q.fips.map((f) => {
      const pool = this.x.pools.get(f.pool);
      if (!pool) throw new ContrailError(`no floating-IP pool ${f.pool}`, 404, 'floating-ips');
      const lo = ip4ToNum(pool.first);
      const hi = ip4ToNum(pool.last);
      let n: number;
      if (f.ip !== undefined) {
        n = ip4ToNum(f.ip);
        if (n < lo || n > hi) throw new ContrailError(`${f.ip} is outside pool ${f.pool} (${pool.first}-${pool.last})`, 400, 'floating-ips');
        const owner = taken.get(n);
        if (owner) throw new ContrailError(`${f.ip} of pool ${f.pool} is taken (by ${owner})`, 409, 'floating-ips');
      } else {
        n = lo;
        while (n <= hi && taken.has(n)) n++;
        if (n > hi) throw new ContrailError(`pool ${f.pool} has no free address`, 409, 'floating-ips');
      }
      taken.set(n, key);
      return { pool: f.pool, ip: numToIp4(n) };
    });
    for (const g of q.groups) if (!this.x.groups.has(g)) throw new ContrailError(`no security group ${g}`, 404, 'security-groups');
    if (isNew) this.#set(net);
    const endpoint: EndpointRec = { kind: 'endpoint', container_id: q.container_id, ifname: q.ifname, agent: q.agent, network: net.fq, ip: numToIp4(ip), mac: macOf(key), groups: [...new Set(q.groups)], fips };
    this.#set(endpoint);
    return { endpoint, view: endpointView(this.x, endpoint), created: true };
  }

  /** The interface leaves: its addresses go back. False when it was not attached. */
  detach(containerId: string, ifname: string): boolean {
    const key = `endpoint/${containerId}/${ifname}`;
    if (!this.records.has(key)) return false;
    this.#drop(key);
    return true;
  }

  /** Agents deleted at the master take their endpoints with them (their addresses go back). */
  dropAgents(ips: readonly string[]): number {
    const gone = [...this.x.endpoints.values()].filter((e) => ips.includes(e.agent));
    for (const e of gone) this.#drop(recordKey(e));
    return gone.length;
  }
}
