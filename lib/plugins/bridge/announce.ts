// The container's gratuitous ARP. With arp_notify on when a link with addresses comes up, the
// kernel sends one at once, racing the bridge: the veth's host end becomes a forwarding port only
// when the link-watch work reports its carrier, moments later (measured: heard by the other ports
// in 7 of 8 ADDs, dropped in the eighth). So the container batch turns arp_notify on after the
// link is up (no announcement at link up, as in the reference, whose order sends none), and here,
// once both ends report their carrier, the container's MAC is set again to the same value: the
// kernel announces every address of a link whose address is set when arp_notify is on, through a
// forwarding port. A neighbour (the gateway, another container) still holding the address with a
// previous container's MAC is corrected at once instead of when its entry goes stale (5-8 s of
// traffic to the wrong MAC by the kernel's defaults).
// Only for a reused address: the announcement is flooded to every port of the bridge (+7 ms per
// ADD at 500 ports, in the kernel's work of delivering it), so it is made when the gateway (the
// host, which relays every flow from outside) still holds the address with another MAC, the mark
// of an address in use until moments ago; a fresh one has nobody to correct. A neighbour that
// talked to the old holder only container to container is not covered when the gateway did not.
// (A packet socket sending the ARP itself was tried: closing one waits out an RCU grace period,
// +15 ms per ADD.)
import type { Logger } from '../../cni/log.js';
import type { Link } from '../../netlink/link.js';
import type { NetlinkHandle } from '../../netlink/handle.js';

/** How long to wait for the port's carrier; past it the address is announced anyway. */
const PORT_WAIT_MS = 200;

export interface Announcement {
  host: NetlinkHandle;
  bridge: string;
  hostVeth: string;
  /** The container's IPv4 addresses, without prefix. */
  addresses: string[];
  container: NetlinkHandle;
  /** The container's link as the batch read it back (its index and MAC). */
  link: Link;
}

/** Announce; never fails the ADD (a failure is logged), as the reference ignores its own. */
export async function announce(a: Announcement, log: Logger): Promise<void> {
  if (!a.link.mac || a.addresses.length === 0) return;
  try {
    // One lookup per address (a container has one or two): the gateway's whole table holds an
    // entry per container it talks to, 500 of them in a busy host (listing them: ~2 ms).
    const held = await Promise.all(a.addresses.map((address) => a.host.neigh.get({ dev: a.bridge, address })));
    if (!held.some((n) => n?.lladdr !== undefined && n.lladdr !== a.link.mac)) return;
    await Promise.all([a.host.link.waitOperUp(a.hostVeth, PORT_WAIT_MS), a.container.link.waitOperUp(a.link.index, PORT_WAIT_MS)]);
    await a.container.link.set({ index: a.link.index, mac: a.link.mac });
  } catch (e) {
    log.warn('gratuitous ARP not sent', { error: (e as Error).message });
  }
}
