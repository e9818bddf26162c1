// The shared bridge: created on first use (tolerating a concurrent creator), verified to be a
// bridge, brought up; and its gateway address, as the reference plugin's ensureAddr decides.
import { CniError, ErrorCode } from '../../cni/errors.js';
import type { NetlinkHandle } from '../../netlink/handle.js';
import type { Link } from '../../netlink/link.js';
import { networkOf, parsePrefix } from '../../netlink/ip.js';
import type { BridgeConfig } from './config.js';

export async function ensureBridge(host: NetlinkHandle, cfg: BridgeConfig): Promise<Link> {
  let br = await host.link.find(cfg.bridge);
  if (!br) {
    try {
      await host.link.add({ kind: 'bridge', name: cfg.bridge, up: true, ...(cfg.mtu ? { mtu: cfg.mtu } : {}), ...(cfg.promiscMode ? { promisc: true } : {}) });
    } catch (e) {
      if ((e as { code?: string }).code !== 'EEXIST') throw e; // another ADD made it first
    }
    br = await host.link.get(cfg.bridge);
  }
  if (br.kind !== 'bridge') throw new CniError(ErrorCode.Plugin, `${JSON.stringify(cfg.bridge)} already exists but is not a bridge`);
  if (!br.up || (cfg.promiscMode && !br.promisc)) {
    await host.link.set({ index: br.index, up: true, ...(cfg.promiscMode ? { promisc: true } : {}) });
  }
  return br;
}

/**
 * Put gateway/prefix on the bridge. An address already there is fine; another address of an
 * overlapping subnet is an error unless forceAddress, which replaces it (reference semantics).
 */
export async function ensureGatewayAddr(host: NetlinkHandle, cfg: BridgeConfig, gateway: string, prefix: number): Promise<void> {
  const want = parsePrefix(`${gateway}/${prefix}`, 'gateway');
  for (const a of await host.addr.list({ dev: cfg.bridge, family: want.family })) {
    if (a.address === want.text) return;
    const theirs = parsePrefix(a.address, 'bridge address');
    const overlap = networkOf({ ...theirs, prefix: Math.min(theirs.prefix, want.prefix) }).text ===
      networkOf({ ...want, prefix: Math.min(theirs.prefix, want.prefix) }).text;
    if (!overlap) continue;
    if (!cfg.forceAddress) {
      throw new CniError(ErrorCode.Plugin, `"${cfg.bridge}" already has an IP address different from ${want.text}`, `it has ${a.address}; set forceAddress to replace it`);
    }
    await host.addr.del({ dev: cfg.bridge, address: a.address });
  }
  try {
    await host.addr.add({ dev: cfg.bridge, address: want.text });
  } catch (e) {
    if ((e as { code?: string }).code !== 'EEXIST') throw e; // a concurrent ADD added it
  }
}
