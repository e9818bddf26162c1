// The container's veth pair: created in one request with the peer born in the container netns
// and the host end already UP and enslaved to the bridge; a random host name, retried on collision.
import { randomBytes } from 'node:crypto';
import { CniError, ErrorCode } from '../../cni/errors.js';
import type { NetlinkHandle } from '../../netlink/handle.js';
import type { Netns } from '../../netns/netns.js';

export interface VethRequest {
  host: NetlinkHandle;
  container: NetlinkHandle;
  containerNs: Netns;
  ifname: string;
  bridgeIndex: number;
  mtu: number | undefined;
  mac: string | undefined;
}

/** Create the pair; returns the host end's name. */
export async function createVeth(r: VethRequest): Promise<string> {
  for (let attempt = 0; attempt < 10; attempt++) {
    // NetworkManager ignores "veth*"; 4 random bytes as the reference plugin uses.
    const name = 'veth' + randomBytes(4).toString('hex');
    try {
      await r.host.link.add({
        kind: 'veth',
        name,
        up: true,
        master: r.bridgeIndex,
        ...(r.mtu ? { mtu: r.mtu } : {}),
        peer: { name: r.ifname, netns: r.containerNs, ...(r.mtu ? { mtu: r.mtu } : {}), ...(r.mac ? { mac: r.mac } : {}) },
      });
      return name;
    } catch (e) {
      if ((e as { code?: string }).code !== 'EEXIST') throw e;
      // Which end collided? The container's name is the caller's problem; ours we retry.
      if (await r.container.link.find(r.ifname)) {
        throw new CniError(ErrorCode.Plugin, `container veth name provided (${r.ifname}) already exists`);
      }
    }
  }
  throw new CniError(ErrorCode.Plugin, 'failed to find a free host veth name after 10 attempts');
}
