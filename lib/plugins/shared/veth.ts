// The veth pair every plugin that wires a container to the host makes (bridge, dcos-l4lb's
// spartan): one request, the peer born in the container netns under its final name, the host end
// `veth<8 hex>` UP (and enslaved, when given a master); a random host name, retried on collision.
import { CniError, ErrorCode } from '../../cni/errors.js';
import { isErrno } from '../../native/index.js';
import type { NetlinkHandle } from '../../netlink/handle.js';
import type { Netns } from '../../netns/netns.js';
import { randomHex } from '../../util/digest.js';

export interface VethRequest {
  host: NetlinkHandle;
  /** A handle in the container's namespace: tells which end's name collided. */
  container: NetlinkHandle;
  containerNs: Netns;
  /** The container end's name. */
  ifname: string;
  /** Enslave the host end to this link (index). */
  master?: number;
  /** Both ends. */
  mtu?: number;
  /** The container end's MAC. */
  mac?: string;
}

/** The container already has an interface of the name asked for (the reference's text). */
export class IfnameTakenError extends CniError {
  constructor(readonly ifname: string) {
    super(ErrorCode.Plugin, `container veth name provided (${ifname}) already exists`);
  }
}

export interface Veth {
  /** The host end's name. */
  name: string;
  /** The host end's index, when the kernel echoed the new link. */
  index?: number;
  /** The container end's index, when the kernel echoed the new link (LinkApi.add). */
  peerIndex?: number;
  /** The host end's MAC, likewise. */
  mac?: string;
}

/** Create the pair. */
export async function createVeth(r: VethRequest): Promise<Veth> {
  const mtu = r.mtu ? { mtu: r.mtu } : {};
  for (let attempt = 0; attempt < 10; attempt++) {
    // NetworkManager ignores "veth*"; 4 random bytes as the reference plugin uses.
    const name = 'veth' + randomHex(4);
    try {
      const made = await r.host.link.add({
        kind: 'veth',
        name,
        up: true,
        ...(r.master !== undefined ? { master: r.master } : {}),
        ...mtu,
        peer: { name: r.ifname, netns: r.containerNs, ...mtu, ...(r.mac ? { mac: r.mac } : {}) },
      });
      return { name, ...(made?.index !== undefined ? { index: made.index } : {}), ...(made?.link !== undefined ? { peerIndex: made.link } : {}), ...(made?.mac !== undefined ? { mac: made.mac } : {}) };
    } catch (e) {
      if (!isErrno(e, 'EEXIST')) throw e;
      // Which end collided? The container's name is the caller's problem; ours we retry.
      if (await r.container.link.find(r.ifname)) throw new IfnameTakenError(r.ifname);
    }
  }
  throw new CniError(ErrorCode.Plugin, 'failed to find a free host veth name after 10 attempts');
}
