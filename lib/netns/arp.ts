// A gratuitous ARP from a link in a namespace (native/arp_announce.cc): `arping -U -I DEV ADDR`
// without the exec. Neighbours that hold the address with another MAC (a previous holder of a
// reused address) take this one at once instead of when their entry goes stale.
import { native, SpecError } from '../native/index.js';
import { parseIp } from '../ip.js';
import { mac as parseMac } from '../netlink/validate.js';
import type { Netns } from './netns.js';

/** Announce `address` (IPv4) with `mac` out of link `ifindex` of `ns` (default: the current namespace). */
export async function announce(ns: Netns | undefined, ifindex: number, address: string, mac: string): Promise<void> {
  const ip = parseIp(address, 'arp.address');
  if (ip.family !== 4) throw new SpecError(`arp.address: expected an IPv4 address, got ${JSON.stringify(address)}`);
  if (!Number.isInteger(ifindex) || ifindex < 1) throw new SpecError(`arp.ifindex: expected a link index, got ${JSON.stringify(ifindex)}`);
  return native.arpAnnounce(ns ? ns.fd : -1, ifindex, Buffer.from(ip.bytes), Buffer.from(parseMac(mac, 'arp.mac')));
}
