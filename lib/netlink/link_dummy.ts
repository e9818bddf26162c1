// dummy links, and `link.addStandalone`: a link that only holds local addresses (the spartan and
// minuteman devices of dcos-l4lb), made as a dummy where the kernel has one, else as a port-less
// bridge. Some kernels (this project's test VM among them) are built without the dummy driver.
import { SpecError, unlessExists } from '../native/index.js';
import type { Netns } from '../netns/netns.js';
import { NetlinkHandle } from './handle.js';
import { defineLinkKind, LinkApi, type Link } from './link.js';

declare module './link.js' {
  interface LinkKinds {
    dummy: Record<never, never>;
  }
  interface LinkApi {
    /**
     * `ip link add NAME type dummy`, or, where the kernel has no dummy driver, `ip link add NAME
     * type bridge`. A port-less bridge takes addresses, goes UP, and local delivery to its addresses
     * works like a dummy's. Unlike a dummy it can report NO-CARRIER (fresh bridges here start with
     * carrier on; one that had a port and lost it stays NO-CARRIER), which does not affect local
     * delivery; never enslave anything to it. Fails with EEXIST when the name is taken.
     * Returns the link as created (its `kind` says which one was used).
     */
    addStandalone(spec: StandaloneSpec): Promise<Link>;
    /** Like addStandalone, but an existing dummy or bridge of that name is returned as is. */
    ensureStandalone(spec: StandaloneSpec): Promise<Link>;
  }
}

export interface StandaloneSpec {
  name: string;
  up?: boolean;
  mtu?: number;
  mac?: string;
  /** Create it directly in this namespace. */
  netns?: Netns;
  group?: number;
}

defineLinkKind('dummy', () => ({}));

// Whether the kernel can make dummy links. Drivers are global to the kernel, not per namespace,
// so one answer holds for the whole process (undefined until the first addStandalone).
let dummyKnown: boolean | undefined;

/** What addStandalone learned about the dummy driver: true, false, or undefined (not tried yet). */
export function dummySupported(): boolean | undefined {
  return dummyKnown;
}

/** The kernel's answer for a link kind it does not know (after trying to load its module). */
export function isUnknownKind(e: unknown): boolean {
  const err = e as { code?: string; detail?: string };
  return err.code === 'EOPNOTSUPP' && (err.detail === '' || err.detail === undefined || /unknown device type/i.test(err.detail));
}

async function getIn(api: LinkApi, netns: Netns | undefined, name: string): Promise<Link> {
  if (!netns) return api.get(name);
  const h = await NetlinkHandle.open(netns);
  try {
    return await h.link.get(name);
  } finally {
    h.close();
  }
}

LinkApi.prototype.addStandalone = async function (this: LinkApi, spec: StandaloneSpec): Promise<Link> {
  if (typeof spec !== 'object' || spec === null) throw new SpecError('link: expected a spec object');
  if (dummyKnown !== false) {
    try {
      await this.add({ ...spec, kind: 'dummy' });
      dummyKnown = true;
      return await getIn(this, spec.netns, spec.name);
    } catch (e) {
      if (!isUnknownKind(e)) throw e;
      dummyKnown = false;
    }
  }
  // STP off (the default) and no ports: the bridge never forwards anything.
  await this.add({ ...spec, kind: 'bridge', stp: false });
  return getIn(this, spec.netns, spec.name);
};

LinkApi.prototype.ensureStandalone = async function (this: LinkApi, spec: StandaloneSpec): Promise<Link> {
  const made = await unlessExists(this.addStandalone(spec));
  if (made) return made;
  const link = await getIn(this, spec.netns, spec.name);
  if (link.kind !== 'dummy' && link.kind !== 'bridge') {
    throw new SpecError(`ensure link ${spec.name}: exists with kind ${link.kind ?? 'none'}, expected dummy or bridge`);
  }
  return link;
};
