// The netlink library: open a handle in a namespace, then use its verbs.
import './kinds.js';

export { NetlinkHandle, open, type RequestOptions } from './handle.js';
export type { Op, OpName, OpSpecs } from './ops.js';
export type { Link, LinkCommon, LinkKind, LinkKinds, LinkSelect, LinkSetSpec, LinkSpec } from './link.js';
export type { BridgePortSpec } from './bridge_port.js';
export type { MacvlanMode } from './link_macvlan.js';
export { VXLAN_DEFAULT_PORT } from './link_vxlan.js';
export { isUnknownKind } from './link_dummy.js';
// Address math lives in lib/ip.ts (iptables and cni use it too); re-exported for the library API.
export { parseIp, parsePrefix, formatIp, networkOf, type IpAddr, type IpPrefix, type Family } from '../ip.js';
export type { Addr, AddrDelSpec, AddrFilter, AddrSpec } from './addr.js';
export type { Route, RouteFilter, RouteGetSpec, RouteProto, RouteSpec, RouteType } from './route.js';
export type { Rule, RuleAction, RuleFilter, RuleSpec } from './rule.js';
export type { FdbState, Neigh, NeighDelSpec, NeighFamily, NeighFilter, NeighSpec, NeighState } from './neigh.js';
