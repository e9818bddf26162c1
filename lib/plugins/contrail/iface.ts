// The container's interface, as both modes make it: a veth born in place (the host end `tap…`, the
// container end CNI_IFNAME, one request; upstream made it in the host under a `tmp…` name and moved
// and renamed it), then the container side in one netlink batch: lo up, the MAC, the address, link
// up, and the default route (only for eth0, as upstream).
import { CniError, ErrorCode } from '../../cni/errors.js';
import { isErrno } from '../../native/index.js';
import type { NetlinkHandle } from '../../netlink/handle.js';
import type { Op } from '../../netlink/ops.js';
import type { Netns } from '../../netns/netns.js';
import * as sysctl from '../../netns/sysctl.js';

export interface VethSpec {
  host: NetlinkHandle;
  container: NetlinkHandle;
  containerNs: Netns;
  hostNs: Netns;
  tap: string;
  ifname: string;
  mtu: number;
}

/** Create the pair; a name already taken on either side is an error saying which. */
export async function createTap(s: VethSpec): Promise<void> {
  try {
    await s.host.link.add({ kind: 'veth', name: s.tap, up: true, mtu: s.mtu, peer: { name: s.ifname, netns: s.containerNs, mtu: s.mtu } });
  } catch (e) {
    if (!isErrno(e, 'EEXIST')) throw new CniError(ErrorCode.Plugin, `create veth ${s.tap} (container end ${s.ifname})`, (e as Error).message);
    const which = (await s.container.link.find(s.ifname)) ? `the container already has an interface ${s.ifname}` : `the host already has an interface ${s.tap}`;
    throw new CniError(ErrorCode.Plugin, `create veth ${s.tap}: ${which}`);
  }
  // The host end takes no router advertisements (upstream's updateProc); no IPv6, no key: fine.
  await sysctl.set(s.hostNs, `net/ipv6/conf/${s.tap}/accept_ra`, 0).catch(() => undefined);
}

export interface Addressing {
  ifname: string;
  mac: string;
  /** "a.b.c.d/len" */
  address: string;
  gateway: string | undefined;
}

/** The container side in one request. */
export async function configureContainer(container: NetlinkHandle, a: Addressing): Promise<void> {
  const ops: Op[] = [
    { op: 'link.set', spec: { name: 'lo', up: true } },
    { op: 'link.set', spec: { name: a.ifname, mac: a.mac } },
    { op: 'addr.add', spec: { dev: a.ifname, address: a.address } },
    { op: 'link.set', spec: { name: a.ifname, up: true } },
  ];
  if (a.ifname === 'eth0' && a.gateway) ops.push({ op: 'route.add', spec: { dst: '0.0.0.0/0', gw: a.gateway, dev: a.ifname } });
  try {
    await container.request(ops);
  } catch (e) {
    throw new CniError(ErrorCode.Plugin, `configure ${a.ifname} (${a.mac}, ${a.address}${a.gateway ? ` via ${a.gateway}` : ''})`, (e as Error).message);
  }
}
