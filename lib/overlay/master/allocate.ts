// Allocation, exactly as upstream's master (reference §4), as pure code on a value that is cloned
// before each batch of changes: VTEP IP (lowest free, no network/broadcast), MAC (OUI + octets
// 2-4), IPv6 VTEP (added lazily), one /prefix block per enabled overlay (lowest free, first and
// last block included), and its /prefix+1 halves for the bridges the agent asked for.
import type { NetworkSpec, OverlaySpec } from './config.js';
import { bigToIp, bitsOf, hostMask, parseNet, type Net } from './net.js';
import { Pool } from './pool.js';
import { DOCKER_BRIDGE_PREFIX, MESOS_BRIDGE_PREFIX, VTEP_NAME, VXLAN_VNI, type AgentNetworkConfig, type AgentOverlayInfo, type BackendInfo, type StoredAgent } from './types.js';

/** A registration that cannot be served (upstream drops it and logs this). */
export class AllocationError extends Error {
  override name = 'AllocationError';
}

/** Stored state that cannot be reserved again: the master refuses to serve it. */
export class RecoveryError extends Error {
  override name = 'RecoveryError';
}

/** Something upstream logs and skips (an exhausted overlay): the registration goes on. */
export interface AllocationEvent {
  msg: string;
  overlay: string;
  family: 4 | 6;
}

export interface RegisterResult {
  agent: StoredAgent;
  /** What the store has to write: nothing when the agent was known and nothing was added. */
  change?: 'add' | 'modify';
  events: AllocationEvent[];
}

/** Addresses of a network excluding network and broadcast, as pool slots. */
function hostPool(n: Net): Pool {
  return new Pool((1n << BigInt(bitsOf(n.family) - n.prefix)) - 2n);
}

/** The /prefix blocks of a network, first and last included. */
function blockPool(n: Net, prefix: number): Pool {
  return new Pool(1n << BigInt(prefix - n.prefix));
}

const blockSize = (n: Net, prefix: number) => 1n << BigInt(bitsOf(n.family) - prefix);

export function vtepMac(oui: readonly number[], vtepIp: bigint): string {
  const b = [...oui, Number((vtepIp >> 16n) & 0xffn), Number((vtepIp >> 8n) & 0xffn), Number(vtepIp & 0xffn)];
  return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
}

export class Allocation {
  /** Agents added, changed or removed since this value was made (by clone or recover). */
  readonly touched = new Set<string>();

  private constructor(
    readonly net: NetworkSpec,
    readonly agents: Map<string, StoredAgent>,
    private readonly vtep: Pool,
    private readonly vtep6: Pool | undefined,
    private readonly subnets: Map<string, Pool>,
    private readonly subnets6: Map<string, Pool>,
  ) {}

  static empty(net: NetworkSpec): Allocation {
    const subnets = new Map<string, Pool>();
    const subnets6 = new Map<string, Pool>();
    for (const o of net.overlays) {
      if (o.net) subnets.set(o.name, blockPool(o.net, o.prefix!));
      if (o.net6) subnets6.set(o.name, blockPool(o.net6, o.prefix6!));
    }
    return new Allocation(net, new Map(), hostPool(net.vtep), net.vtep6 && hostPool(net.vtep6), subnets, subnets6);
  }

  /** Re-reserve every stored allocation under the current config; any conflict throws. */
  static recover(net: NetworkSpec, stored: readonly StoredAgent[]): Allocation {
    const a = Allocation.empty(net);
    for (const s of stored) a.#reserveAgent(s);
    a.touched.clear();
    return a;
  }

  clone(): Allocation {
    const copy = (m: Map<string, Pool>) => new Map([...m].map(([k, p]) => [k, p.clone()]));
    return new Allocation(this.net, new Map(this.agents), this.vtep.clone(), this.vtep6?.clone(), copy(this.subnets), copy(this.subnets6));
  }

  /** Free slots per pool, for metrics: vtep, vtep6, and per overlay subnet/subnet6. */
  pools(): { pool: string; overlay?: string; free: bigint; used: number }[] {
    const out: { pool: string; overlay?: string; free: bigint; used: number }[] = [{ pool: 'vtep_ip', free: this.vtep.free, used: this.vtep.used }];
    if (this.vtep6) out.push({ pool: 'vtep_ip6', free: this.vtep6.free, used: this.vtep6.used });
    for (const [overlay, p] of this.subnets) out.push({ pool: 'subnet', overlay, free: p.free, used: p.used });
    for (const [overlay, p] of this.subnets6) out.push({ pool: 'subnet6', overlay, free: p.free, used: p.used });
    return out;
  }

  #hostSlot(n: Net, text: string, what: string): bigint {
    let p: Net;
    try {
      p = parseNet(text, n.family);
    } catch (e) {
      throw new RecoveryError(`${what} ${JSON.stringify(text)}: ${(e as Error).message}`);
    }
    if (p.prefix !== n.prefix || p.base !== n.base) throw new RecoveryError(`${what} ${text} is not in the configured VTEP subnet ${n.text}`);
    return p.addr - n.base - 1n;
  }

  #blockSlot(o: OverlaySpec, text: string, v6: boolean): bigint {
    const n = v6 ? o.net6 : o.net;
    const prefix = v6 ? o.prefix6 : o.prefix;
    const what = `overlay '${o.name}' ${v6 ? 'subnet6' : 'subnet'}`;
    if (!n || prefix === undefined) throw new RecoveryError(`${what} ${text}: the overlay no longer has ${v6 ? 'an IPv6' : 'an IPv4'} subnet configured`);
    let p: Net;
    try {
      p = parseNet(text, n.family);
    } catch (e) {
      throw new RecoveryError(`${what} ${JSON.stringify(text)}: ${(e as Error).message}`);
    }
    if (p.prefix !== prefix || p.addr !== p.base || (p.base & ~hostMask(n.family, n.prefix)) !== n.base) {
      throw new RecoveryError(`${what} ${text} is not a /${prefix} block of ${n.text}`);
    }
    return (p.base - n.base) / blockSize(n, prefix);
  }

  #reserveAgent(s: StoredAgent): void {
    const ctx = `recover agent ${s.ip}`;
    try {
      if (this.agents.has(s.ip)) throw new RecoveryError('stored twice');
      const vx = s.backend?.vxlan;
      if (!vx || typeof vx.vtep_ip !== 'string') throw new RecoveryError('no VTEP in its record');
      const slot = this.#hostSlot(this.net.vtep, vx.vtep_ip, 'VTEP IP');
      if (!this.vtep.reserve(slot)) throw new RecoveryError(`VTEP IP ${vx.vtep_ip} is already taken or outside the pool`);
      const mac = vtepMac(this.net.oui, this.net.vtep.base + 1n + slot);
      if (vx.vtep_mac !== mac) throw new RecoveryError(`VTEP MAC ${vx.vtep_mac} is not the one derived from its VTEP IP (${mac})`);
      if (vx.vtep_ip6 !== undefined) {
        if (!this.net.vtep6 || !this.vtep6) throw new RecoveryError(`VTEP IPv6 ${vx.vtep_ip6}: vtep_subnet6 is no longer configured`);
        const s6 = this.#hostSlot(this.net.vtep6, vx.vtep_ip6, 'VTEP IPv6');
        if (!this.vtep6.reserve(s6)) throw new RecoveryError(`VTEP IPv6 ${vx.vtep_ip6} is already taken or outside the pool`);
      }
      const names = new Set<string>();
      for (const o of s.overlays) {
        const spec = this.net.overlays.find((x) => x.name === o.info?.name);
        // Upstream CHECK-fails here: an overlay removed from the config while agents hold it.
        if (!spec) throw new RecoveryError(`holds overlay '${o.info?.name}', which is no longer configured`);
        if (names.has(spec.name)) throw new RecoveryError(`holds overlay '${spec.name}' twice`);
        names.add(spec.name);
        if (o.subnet !== undefined && !this.subnets.get(spec.name)?.reserve(this.#blockSlot(spec, o.subnet, false))) {
          throw new RecoveryError(`overlay '${spec.name}' subnet ${o.subnet} is already taken`);
        }
        if (o.subnet6 !== undefined && !this.subnets6.get(spec.name)?.reserve(this.#blockSlot(spec, o.subnet6, true))) {
          throw new RecoveryError(`overlay '${spec.name}' subnet6 ${o.subnet6} is already taken`);
        }
      }
      this.agents.set(s.ip, s);
    } catch (e) {
      throw new RecoveryError(`${ctx}: ${(e as Error).message}`);
    }
  }

  #takeHost(pool: Pool, n: Net): string | undefined {
    const slot = pool.take();
    return slot === undefined ? undefined : `${bigToIp(n.base + 1n + slot, n.family)}/${n.prefix}`;
  }

  /** Allocate the overlays the agent lacks (enabled ones, in config order). Mutates `overlays`. */
  #addOverlays(ip: string, overlays: AgentOverlayInfo[], backend: BackendInfo, cfg: AgentNetworkConfig, events: AllocationEvent[]): boolean {
    let added = false;
    for (const o of this.net.overlays) {
      if (!o.enabled || overlays.some((x) => x.info.name === o.name)) continue;
      const entry: AgentOverlayInfo = { info: o.info, backend };
      if (cfg.allocate_subnet) {
        let slot: bigint | undefined;
        let slot6: bigint | undefined;
        if (o.net) {
          slot = this.subnets.get(o.name)!.take();
          if (slot === undefined) {
            events.push({ overlay: o.name, family: 4, msg: `Cannot allocate subnet from overlay ${o.name} to Agent ${ip}: No free subnets available in the ${o.name} overlay` });
            continue;
          }
        }
        if (o.net6) {
          slot6 = this.subnets6.get(o.name)!.take();
          if (slot6 === undefined) {
            // Upstream kept the IPv4 block taken here (a leak until restart); it goes back.
            if (slot !== undefined) this.subnets.get(o.name)!.release(slot);
            events.push({ overlay: o.name, family: 6, msg: `Cannot allocate IPv6 subnet from overlay ${o.name} to Agent ${ip}: No free IPv6 subnets available in the ${o.name} overlay` });
            continue;
          }
        }
        const block = (n: Net, prefix: number, s: bigint, half: bigint) => `${bigToIp(n.base + s * blockSize(n, prefix) + half * blockSize(n, prefix + 1), n.family)}/${prefix + (half < 0n ? 0 : 1)}`;
        const whole = (n: Net, prefix: number, s: bigint) => `${bigToIp(n.base + s * blockSize(n, prefix), n.family)}/${prefix}`;
        if (slot !== undefined) entry.subnet = whole(o.net!, o.prefix!, slot);
        if (cfg.mesos_bridge) {
          entry.mesos_bridge = { name: MESOS_BRIDGE_PREFIX + o.name };
          if (slot !== undefined) entry.mesos_bridge.ip = block(o.net!, o.prefix!, slot, 0n);
          if (slot6 !== undefined) entry.mesos_bridge.ip6 = block(o.net6!, o.prefix6!, slot6, 0n);
        }
        if (cfg.docker_bridge) {
          entry.docker_bridge = { name: DOCKER_BRIDGE_PREFIX + o.name };
          if (slot !== undefined) entry.docker_bridge.ip = block(o.net!, o.prefix!, slot, 1n);
          if (slot6 !== undefined) entry.docker_bridge.ip6 = block(o.net6!, o.prefix6!, slot6, 1n);
        }
        if (slot6 !== undefined) entry.subnet6 = whole(o.net6!, o.prefix6!, slot6);
      }
      overlays.push(orderFields(entry));
      added = true;
    }
    return added;
  }

  /**
   * An agent (re-)registers: a new one gets a VTEP and its overlays, a known one the IPv6 VTEP and
   * the overlays it lacks. Throws AllocationError (and changes nothing) when no VTEP is left.
   */
  register(ip: string, cfg: AgentNetworkConfig): RegisterResult {
    const events: AllocationEvent[] = [];
    const known = this.agents.get(ip);
    if (known) {
      let backend = known.backend;
      let overlays = known.overlays;
      if (this.vtep6 && backend.vxlan.vtep_ip6 === undefined) {
        const ip6 = this.#takeHost(this.vtep6, this.net.vtep6!);
        if (ip6 === undefined) throw new AllocationError(`Unable to get VTEP IPv6 for Agent: Unable to allocate a VTEP IPv6 due to exhaustion. Cannot fulfill re-registration for Agent: ${ip}`);
        // Upstream set it on the agent only, not in the overlays it already held (nor stored it).
        backend = { vxlan: orderVxlan({ ...backend.vxlan, vtep_ip6: ip6 }) };
        overlays = overlays.map((o) => ({ ...o, backend }));
      }
      overlays = overlays.slice();
      const added = this.#addOverlays(ip, overlays, backend, cfg, events);
      if (backend === known.backend && !added) return { agent: known, events };
      const agent = { ip, backend, overlays };
      this.agents.set(ip, agent);
      this.touched.add(ip);
      return { agent, change: 'modify', events };
    }
    const slot = this.vtep.take();
    if (slot === undefined) throw new AllocationError(`Unable to get VTEP IP for Agent: Unable to allocate a VTEP IP due to exhaustion. Cannot fulfill registration for Agent: ${ip}`);
    const vtepIp = this.net.vtep.base + 1n + slot;
    const vxlan: BackendInfo['vxlan'] = { vni: VXLAN_VNI, vtep_name: VTEP_NAME, vtep_ip: `${bigToIp(vtepIp, 4)}/${this.net.vtep.prefix}`, vtep_mac: vtepMac(this.net.oui, vtepIp) };
    if (this.vtep6) {
      const ip6 = this.#takeHost(this.vtep6, this.net.vtep6!);
      if (ip6 === undefined) {
        this.vtep.release(slot);
        throw new AllocationError(`Unable to get VTEP IPv6 for Agent: Unable to allocate a VTEP IPv6 due to exhaustion. Cannot fulfill registration for Agent: ${ip}`);
      }
      vxlan.vtep_ip6 = ip6;
    }
    if (this.net.mtu !== undefined) vxlan.vtep_mtu = this.net.mtu;
    const backend = { vxlan };
    const overlays: AgentOverlayInfo[] = [];
    this.#addOverlays(ip, overlays, backend, cfg, events);
    const agent = { ip, backend, overlays };
    this.agents.set(ip, agent);
    this.touched.add(ip);
    return { agent, change: 'add', events };
  }

  /** Forget agents and free everything they held; returns the IPs that were known. */
  remove(ips: Iterable<string>): string[] {
    const gone: string[] = [];
    for (const ip of ips) {
      const a = this.agents.get(ip);
      if (!a) continue;
      this.vtep.release(this.#hostSlot(this.net.vtep, a.backend.vxlan.vtep_ip, 'VTEP IP'));
      if (a.backend.vxlan.vtep_ip6 !== undefined && this.vtep6) this.vtep6.release(this.#hostSlot(this.net.vtep6!, a.backend.vxlan.vtep_ip6, 'VTEP IPv6'));
      for (const o of a.overlays) {
        const spec = this.net.overlays.find((x) => x.name === o.info.name)!;
        if (o.subnet !== undefined) this.subnets.get(spec.name)!.release(this.#blockSlot(spec, o.subnet, false));
        if (o.subnet6 !== undefined) this.subnets6.get(spec.name)!.release(this.#blockSlot(spec, o.subnet6, true));
      }
      this.agents.delete(ip);
      this.touched.add(ip);
      gone.push(ip);
    }
    return gone;
  }
}

/** Proto declaration order, as upstream's JSON::protobuf prints it (subnet6 is field 7, last). */
function orderFields(o: AgentOverlayInfo): AgentOverlayInfo {
  const { info, subnet, mesos_bridge, docker_bridge, backend, state, subnet6 } = o;
  return {
    info,
    ...(subnet !== undefined && { subnet }),
    ...(mesos_bridge && { mesos_bridge }),
    ...(docker_bridge && { docker_bridge }),
    backend,
    ...(state && { state }),
    ...(subnet6 !== undefined && { subnet6 }),
  };
}

function orderVxlan(v: BackendInfo['vxlan']): BackendInfo['vxlan'] {
  const { vni, vtep_name, vtep_ip, vtep_mac, vtep_ip6, vtep_mtu } = v;
  return { vni, vtep_name, vtep_ip, vtep_mac, ...(vtep_ip6 !== undefined && { vtep_ip6 }), ...(vtep_mtu !== undefined && { vtep_mtu }) };
}
