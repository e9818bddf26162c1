// The container's gratuitous ARP. With arp_notify the kernel sends one when the container's link
// comes up, but at that instant the veth's host end is not yet a forwarding port of the bridge
// (the bridge enables a port when the link-watch work reports its carrier, moments later), and
// the frame is dropped: nobody hears it (the reference's order, link up before the addresses, sends
// none at all). So the plugin sends its own once both ends report their carrier: a neighbour (the
// gateway, another container) still holding the address with a previous container's MAC is
// corrected at once instead of when its entry goes stale.
import type { Logger } from '../../cni/log.js';
import type { Link } from '../../netlink/link.js';
import type { NetlinkHandle } from '../../netlink/handle.js';
import type { Netns } from '../../netns/netns.js';
import * as arp from '../../netns/arp.js';

/** How long to wait for the port's carrier. */
const PORT_WAIT_MS = 200;

export interface Announcement {
  host: NetlinkHandle;
  hostVeth: string;
  container: NetlinkHandle;
  containerNs: Netns;
  link: Link;
  /** The container's IPv4 addresses, without prefix. */
  addresses: string[];
}

/** Send it; never fails the ADD (a failure is logged), as the reference ignores its own. */
export async function announce(a: Announcement, log: Logger): Promise<void> {
  if (a.addresses.length === 0 || !a.link.mac) return;
  try {
    // Past the wait it is sent anyway: best effort, as the reference's.
    await Promise.all([a.host.link.waitOperUp(a.hostVeth, PORT_WAIT_MS), a.container.link.waitOperUp(a.link.index, PORT_WAIT_MS)]);
    await Promise.all(a.addresses.map((ip) => arp.announce(a.containerNs, a.link.index, ip, a.link.mac!)));
  } catch (e) {
    log.warn('gratuitous ARP not sent', { error: (e as Error).message });
  }
}
