// Allocation over the lease store: a requested address or the next free one per range set,
// round-robin from the last reserved address, as the reference plugin does.
import { CniError } from '../../cni/errors.js';
import type { IpConfig } from '../../cni/result.js';
import { bigToIp, ipToBig, parseIp, type IpAddr } from '../../ip.js';
import { candidates, describeSet, rangeFor, type Range, type RangeSet } from './range.js';
import type { LeaseStore } from './store.js';

/** Plugin-specific codes of host-local. */
export const HostLocalError = {
  NoAddress: 110,
  Requested: 111,
  Duplicate: 112,
} as const;

function ipConfig(ip: bigint, r: Range): IpConfig {
  return { address: `${bigToIp(ip, r.family)}/${r.prefix}`, gateway: bigToIp(r.gateway, r.family) };
}

/**
 * Allocate one address from `set` (index `idx`) for (id, ifname). The caller holds the store lock.
 */
export async function allocate(store: LeaseStore, set: RangeSet, idx: number, id: string, ifname: string, requested: IpAddr | undefined): Promise<IpConfig> {
  if (requested) {
    const v = ipToBig(requested.bytes);
    const r = rangeFor(set, requested.family, v)!;
    if (v === r.gateway) throw new CniError(HostLocalError.Requested, `requested ip ${requested.text} is subnet's gateway`);
    if (!(await store.reserve(bigToIp(v, r.family), id, ifname, idx))) {
      throw new CniError(HostLocalError.Requested, `requested IP address ${requested.text} is not available in range set ${describeSet(set)}`);
    }
    return ipConfig(v, r);
  }
  // Duplicate allocation for the same attachment is not allowed by the spec.
  for (const lease of await store.byId(id, ifname)) {
    const ip = parseIp(lease.ip, 'lease');
    if (rangeFor(set, ip.family, ipToBig(ip.bytes))) {
      throw new CniError(HostLocalError.Duplicate, `${lease.ip} has been allocated to ${id}, duplicate allocation is not allowed`);
    }
  }
  const family = set[0]!.family;
  const last = await lastReserved(store, idx, family);
  for (const { ip, range } of candidates(set, last)) {
    if (await store.reserve(bigToIp(ip, family), id, ifname, idx)) return ipConfig(ip, range);
  }
  throw new CniError(HostLocalError.NoAddress, `no IP addresses available in range set: ${describeSet(set)}`);
}

/** The round-robin cursor; a missing or unreadable file (or another family's) means "from the start". */
async function lastReserved(store: LeaseStore, idx: number, family: 4 | 6): Promise<bigint | undefined> {
  const text = await store.lastReserved(idx);
  if (!text) return undefined;
  try {
    const ip = parseIp(text, 'last_reserved_ip');
    return ip.family === family ? ipToBig(ip.bytes) : undefined;
  } catch {
    return undefined;
  }
}
