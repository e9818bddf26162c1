// VXLAN tunnel endpoints (`ip link add vtep1024 type vxlan id 1024 dstport 64000 nolearning ...`),
// IPv4 or IPv6 underlay, validated here and encoded in native/netlink/link_vxlan.cc.
import { SpecError } from '../native/index.js';
import { defineLinkKind } from './link.js';
import { parseIp, type IpAddr } from '../ip.js';
import { bool, defined, int } from './validate.js';

/** IANA's VXLAN port; we send it when `port` is omitted because the kernel's default is 8472. */
export const VXLAN_DEFAULT_PORT = 4789;

declare module './link.js' {
  interface LinkKinds {
    vxlan: {
      /** VXLAN network identifier, 0 to 2^24-1. */
      vni: number;
      /** UDP destination port; default 4789 (IANA), not the kernel's 8472. */
      port?: number;
      /** Source address of the tunnel (IPv4 or IPv6). */
      local?: string;
      /**
       * Multicast group to flood to (iproute2 `group`; needs `dev`); exclusive with `remote`. Not
       * named `group`: that is every link's IFLA_GROUP number.
       */
      mcastGroup?: string;
      /** Unicast default destination; exclusive with `mcastGroup`. */
      remote?: string;
      /** Underlay device (name or index in the handle's namespace). */
      dev?: string | number;
      /** Learn remote MACs from received packets (kernel default: true). */
      learning?: boolean;
      ttl?: number;
      tos?: number;
      /** UDP source port range [low, high]. */
      portRange?: [number, number];
      udpCsum?: boolean;
      /** ARP/ND proxy from the neighbour table. */
      proxy?: boolean;
      /** Netlink notifications for FDB (l2miss) and neighbour (l3miss) misses. */
      l2miss?: boolean;
      l3miss?: boolean;
    };
  }
}

function isMulticast(ip: IpAddr): boolean {
  return ip.family === 4 ? (ip.bytes[0]! & 0xf0) === 0xe0 : ip.bytes[0] === 0xff;
}

defineLinkKind('vxlan', async (h, s, field) => {
  const vni = int(s.vni, `${field}.vni`, 0, 2 ** 24 - 1);
  if (s.mcastGroup !== undefined && s.remote !== undefined) {
    throw new SpecError(`${field}.remote: give either mcastGroup (multicast) or remote (unicast), not both`);
  }
  const local = s.local === undefined ? undefined : parseIp(s.local, `${field}.local`);
  const group = s.mcastGroup === undefined ? undefined : parseIp(s.mcastGroup, `${field}.mcastGroup`);
  const remote = s.remote === undefined ? undefined : parseIp(s.remote, `${field}.remote`);
  if (group && !isMulticast(group)) throw new SpecError(`${field}.mcastGroup: expected a multicast address, got ${group.text} (use remote for unicast)`);
  if (remote && isMulticast(remote)) throw new SpecError(`${field}.remote: expected a unicast address, got ${remote.text} (use mcastGroup for multicast)`);
  const peer = group ?? remote;
  if (local && peer && local.family !== peer.family) {
    throw new SpecError(`${field}.local: expected an IPv${peer.family} address like ${group ? 'mcastGroup' : 'remote'}, got ${local.text}`);
  }
  if (group && s.dev === undefined) throw new SpecError(`${field}.dev: required with mcastGroup (the interface to join the group on)`);
  let portLow: number | undefined;
  let portHigh: number | undefined;
  if (s.portRange !== undefined) {
    if (!Array.isArray(s.portRange) || s.portRange.length !== 2) throw new SpecError(`${field}.portRange: expected [low, high]`);
    portLow = int(s.portRange[0], `${field}.portRange[0]`, 1, 65535);
    portHigh = int(s.portRange[1], `${field}.portRange[1]`, portLow, 65535);
  }
  const flag = (k: 'learning' | 'udpCsum' | 'proxy' | 'l2miss' | 'l3miss') => (s[k] === undefined ? undefined : bool(s[k], `${field}.${k}`));
  return defined({
    vni,
    port: s.port === undefined ? VXLAN_DEFAULT_PORT : int(s.port, `${field}.port`, 1, 65535),
    local: local?.bytes,
    dst: peer?.bytes,
    dev: s.dev === undefined ? undefined : await h.linkIndex(s.dev, `${field}.dev`),
    ttl: s.ttl === undefined ? undefined : int(s.ttl, `${field}.ttl`, 0, 255),
    tos: s.tos === undefined ? undefined : int(s.tos, `${field}.tos`, 0, 255),
    portLow,
    portHigh,
    learning: flag('learning'),
    udpCsum: flag('udpCsum'),
    proxy: flag('proxy'),
    l2miss: flag('l2miss'),
    l3miss: flag('l3miss'),
  });
});
