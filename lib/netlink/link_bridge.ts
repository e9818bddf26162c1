// Linux bridges (`ip link add br0 type bridge stp_state 0 ...`): options validated here, encoded in
// native/netlink/link_bridge.cc and decoded back on get/list.
import { SpecError } from '../native/index.js';
import { defineLinkKind } from './link.js';
import { bool, defined, int } from './validate.js';

declare module './link.js' {
  interface LinkKinds {
    bridge: {
      /** Spanning tree (kernel default: off). */
      stp?: boolean;
      /** In hundredths of a second, as iproute2's forward_delay (kernel default 1500 = 15 s); 200-3000 when STP is on. */
      forwardDelay?: number;
      /** FDB entry lifetime in hundredths of a second, as iproute2's ageing_time (default 30000 = 300 s). */
      ageingTime?: number;
      /** 802.1Q VLAN filtering on the bridge's ports (default off; needs CONFIG_BRIDGE_VLAN_FILTERING). */
      vlanFiltering?: boolean;
      /** IGMP/MLD snooping (default on). */
      mcastSnooping?: boolean;
    };
  }
}

const U32_MAX = 2 ** 32 - 1;

defineLinkKind('bridge', (_h, s, field) => {
  const stp = s.stp === undefined ? undefined : bool(s.stp, `${field}.stp`);
  const forwardDelay = s.forwardDelay === undefined ? undefined : int(s.forwardDelay, `${field}.forwardDelay`, 0, U32_MAX);
  if (stp && forwardDelay !== undefined && (forwardDelay < 200 || forwardDelay > 3000)) {
    // The kernel's bounds (2-30 s) while STP runs; it would answer ERANGE with no text.
    throw new SpecError(`${field}.forwardDelay: expected 200 to 3000 (hundredths of a second) with stp on, got ${forwardDelay}`);
  }
  return defined({
    stp,
    forwardDelay,
    ageingTime: s.ageingTime === undefined ? undefined : int(s.ageingTime, `${field}.ageingTime`, 0, U32_MAX),
    // Off is the kernel's default at creation, and kernels built without bridge VLAN filtering
    // refuse the attribute even as 0 (EOPNOTSUPP), so only `true` is sent.
    vlanFiltering: s.vlanFiltering === undefined || !bool(s.vlanFiltering, `${field}.vlanFiltering`) ? undefined : true,
    mcastSnooping: s.mcastSnooping === undefined ? undefined : bool(s.mcastSnooping, `${field}.mcastSnooping`),
  });
});
