// A link that only holds local addresses (dcos-l4lb's minuteman device): a dummy where the kernel
// has the driver, else a port-less bridge. A port-less bridge takes addresses, goes UP, and local
// delivery to its addresses works like a dummy's; unlike a dummy it can report NO-CARRIER (fresh
// bridges start with carrier on; one that had a port and lost it stays NO-CARRIER), which does not
// affect local delivery. Never enslave anything to it.
import { SpecError, unlessExists } from '../../native/index.js';
import type { NetlinkHandle } from '../../netlink/handle.js';
import type { Link } from '../../netlink/link.js';
import { isUnknownKind } from '../../netlink/link_dummy.js';
import type { Netns } from '../../netns/netns.js';

export interface StandaloneSpec {
  name: string;
  up?: boolean;
  mtu?: number;
  mac?: string;
  /** Create it directly in this namespace. */
  netns?: Netns;
  group?: number;
}

// Whether the kernel can make dummy links. Drivers are global to the kernel, not per namespace,
// so one answer holds for the whole process (undefined until the first addStandalone).
let dummyKnown: boolean | undefined;

/** What addStandalone learned about the dummy driver: true, false, or undefined (not tried yet). */
export function dummySupported(): boolean | undefined {
  return dummyKnown;
}

async function getIn(h: NetlinkHandle, netns: Netns | undefined, name: string): Promise<Link> {
  if (!netns) return h.link.get(name);
  const other = await h.openAt(netns);
  try {
    return await other.link.get(name);
  } finally {
    other.close();
  }
}

/**
 * `ip link add NAME type dummy`, or, without the dummy driver, `ip link add NAME type bridge`.
 * Fails with EEXIST when the name is taken. Returns the link as created (its `kind` says which).
 */
export async function addStandalone(h: NetlinkHandle, spec: StandaloneSpec): Promise<Link> {
  if (typeof spec !== 'object' || spec === null) throw new SpecError('link: expected a spec object');
  if (dummyKnown !== false) {
    try {
      await h.link.add({ ...spec, kind: 'dummy' });
      dummyKnown = true;
      return await getIn(h, spec.netns, spec.name);
    } catch (e) {
      if (!isUnknownKind(e)) throw e;
      dummyKnown = false;
    }
  }
  // STP off (the default) and no ports: the bridge never forwards anything.
  await h.link.add({ ...spec, kind: 'bridge', stp: false });
  return getIn(h, spec.netns, spec.name);
}

/** Like addStandalone, but an existing dummy or bridge of that name is returned as is. */
export async function ensureStandalone(h: NetlinkHandle, spec: StandaloneSpec): Promise<Link> {
  const made = await unlessExists(addStandalone(h, spec));
  if (made) return made;
  const link = await getIn(h, spec.netns, spec.name);
  if (link.kind !== 'dummy' && link.kind !== 'bridge') {
    throw new SpecError(`ensure link ${spec.name}: exists with kind ${link.kind ?? 'none'}, expected dummy or bridge`);
  }
  return link;
}
