// The shared bridge: created on first use (tolerating a concurrent creator; VLAN-filtering for a
// VLAN config), verified to be a bridge, brought up, its MAC pinned and accept_ra off; and its
// gateway address, as the reference plugin's ensureAddr decides.
import { CniError, ErrorCode } from '../../cni/errors.js';
import { unlessExists } from '../../native/index.js';
import type { NetlinkHandle } from '../../netlink/handle.js';
import type { Link } from '../../netlink/link.js';
import { networkOf, parsePrefix } from '../../ip.js';
import type { Netns } from '../../netns/netns.js';
import * as sysctl from '../../netns/sysctl.js';
import type { BridgeConfig } from './config.js';
import { randomBytes } from '../../util/digest.js';

/** The alias of a bridge whose MAC this plugin has pinned: seen on the next ADD, nothing to do. */
export const PINNED_ALIAS = 'mesos-cni: MAC pinned';

export async function ensureBridge(host: NetlinkHandle, hostNs: Netns, cfg: BridgeConfig): Promise<Link> {
  let br = await host.link.find(cfg.bridge);
  if (!br) {
    // Another ADD may make it first. A VLAN config asks for a VLAN-filtering bridge, as the reference.
    const vlanFiltering = cfg.vlan > 0 || cfg.vlanTrunk.length > 0;
    try {
      await unlessExists(
        host.link.add({ kind: 'bridge', name: cfg.bridge, up: true, ...(cfg.mtu ? { mtu: cfg.mtu } : {}), ...(cfg.promiscMode ? { promisc: true } : {}), ...(vlanFiltering ? { vlanFiltering } : {}) }),
      );
    } catch (e) {
      throw new CniError(ErrorCode.Plugin, `failed to create bridge ${JSON.stringify(cfg.bridge)}: ${(e as Error).message}`, '', { cause: e });
    }
    br = await host.link.get(cfg.bridge);
  }
  if (br.kind !== 'bridge') throw new CniError(ErrorCode.Plugin, `${JSON.stringify(cfg.bridge)} already exists but is not a bridge`);
  const pin = pinning(br);
  if (pin) {
    // First sight of this bridge: we own its routes (no router advertisements), as the reference
    // says on every ADD; a host without IPv6 has no such key, which is fine.
    await sysctl.set(hostNs, `net/ipv6/conf/${cfg.bridge}/accept_ra`, 0).catch(() => undefined);
  }
  if (!br.up || (cfg.promiscMode && !br.promisc) || pin) {
    await host.link.set({ index: br.index, up: true, ...(cfg.promiscMode ? { promisc: true } : {}), ...pin });
    if (pin) br = { ...br, mac: pin.mac };
  }
  return br;
}

/**
 * A bridge whose MAC was never set takes the lowest MAC of its ports, so the gateway's MAC changes
 * as containers come and go (00:00:00:00:00:00 once the last port leaves) and every container's ARP
 * entry for its gateway goes stale. Setting the MAC, even to the one it has, makes the kernel keep
 * it (addr_assign_type NET_ADDR_SET), as the reference plugin does. It does that on every ADD; but
 * a MAC change, even to the same value, flushes the bridge's whole neighbour table (ARP entries to
 * every container), so here it happens once per bridge, marked by PINNED_ALIAS. A bridge carrying
 * an operator's own alias is left that alias and pinned on every ADD. Undefined: nothing to do.
 */
function pinning(br: Link): { mac: string; alias?: string } | undefined {
  if (br.alias === PINNED_ALIAS) return undefined;
  // The current MAC keeps existing containers' ARP entries valid; zero (no port left) is not a MAC.
  const mac = br.mac && br.mac !== '00:00:00:00:00:00' ? br.mac : randomMac();
  return br.alias ? { mac } : { mac, alias: PINNED_ALIAS };
}

/** A random locally administered unicast MAC, as the kernel picks for a new bridge. */
function randomMac(): string {
  const b = randomBytes(6);
  b[0] = (b[0]! & 0xfe) | 0x02;
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

/**
 * Put gateway/prefix on the bridge, as the reference's ensureAddr decides: that address already
 * there is fine; any other IPv4 address conflicts, and so does an IPv6 address of an overlapping
 * subnet (a bridge carries gateways of several IPv6 subnets, but one IPv4 address); a conflict is an
 * error unless forceAddress, which removes the old address first.
 */
export async function ensureGatewayAddr(host: NetlinkHandle, cfg: BridgeConfig, gateway: string, prefix: number): Promise<void> {
  const want = parsePrefix(`${gateway}/${prefix}`, 'gateway');
  const addrs = (await host.addr.list({ dev: cfg.bridge, family: want.family })).filter((a) => a.scope !== 'link');
  if (addrs.some((a) => a.address === want.text)) return;
  for (const a of addrs) {
    const theirs = parsePrefix(a.address, 'bridge address');
    const p = Math.min(theirs.prefix, want.prefix);
    const overlap = networkOf({ ...theirs, prefix: p }).text === networkOf({ ...want, prefix: p }).text;
    if (want.family === 6 && !overlap) continue;
    if (!cfg.forceAddress) {
      throw new CniError(ErrorCode.Plugin, `"${cfg.bridge}" already has an IP address different from ${want.text}`, `it has ${a.address}; set forceAddress to replace it`);
    }
    await host.addr.del({ dev: cfg.bridge, address: a.address });
  }
  await host.addr.ensure({ dev: cfg.bridge, address: want.text }); // a concurrent ADD may add it
}
