// Deleting the links this plugin put in a container, together: the kernel waits out one RCU grace
// period per delete request, and a group delete unregisters every link in one.
import { NetlinkHandle } from '../../netlink/handle.js';
import type { Link } from '../../netlink/link.js';
import type { Netns } from '../../netns/netns.js';
import { randomInt } from '../../util/digest.js';

/** `ip link del` every link of `ns` that one of `ours` claims; nothing when none is left. */
export async function deleteLinks(ns: Netns, ours: ((l: Link) => boolean)[]): Promise<void> {
  const nl = await NetlinkHandle.open(ns);
  try {
    const all = await nl.link.list();
    const doomed = all.filter((l) => ours.some((claims) => claims(l)));
    if (doomed.length === 0) return;
    if (doomed.length === 1) {
      await nl.link.del({ index: doomed[0]!.index });
      return;
    }
    // A group no link of the container is in, so the delete takes exactly ours.
    const used = new Set(all.map((l) => l.group ?? 0));
    let group: number;
    do group = randomInt(1, 2 ** 31); while (used.has(group));
    await nl.request([...doomed.map((l) => ({ op: 'link.set' as const, spec: { index: l.index, group } })), { op: 'link.del', spec: { group } }]);
  } finally {
    nl.close();
  }
}
