// Local mode's data plane on one agent, as data: a VXLAN device per Contrail network (`cvx<VNI>`,
// one VNI per network, this agent's VTEP MAC), and on it, per peer agent, a permanent neighbour
// (its VTEP IP → its VTEP MAC) and an FDB entry (its MAC → its agent IP); per endpoint on another
// agent, a /32 route via that agent's VTEP IP. Routed, like a vRouter: a packet for a container on
// another host leaves on its network's VNI and is delivered there by that host's /32 route. Pure.
import type { AgentInfo } from '../../master/types.js';
import type { RecordIndex } from '../../contrail/view.js';

export const CONTRAIL_DEV = /^cvx\d+$/;
export const devName = (vni: number): string => `cvx${vni}`;
/** The overlay's VXLAN port (dcos-net's), shared by every VNI. */
export const CONTRAIL_VXLAN_PORT = 64000;

export interface DevSpec {
  vni: number;
  mac: string;
  mtu?: number;
}

export interface ContrailPlane {
  devices: Map<string, DevSpec>;
  /** "<dev>|<vtep ip>" → MAC */
  neigh: Map<string, string>;
  /** "<dev>|<mac>" → agent IP */
  fdb: Map<string, string>;
  /** "<ip>/32" → { dev, gw } */
  routes: Map<string, { dev: string; gw: string }>;
}

export const emptyContrailPlane = (): ContrailPlane => ({ devices: new Map(), neigh: new Map(), fdb: new Map(), routes: new Map() });

const vxlanOf = (a: AgentInfo) => a.overlays[0]?.backend.vxlan;
const bare = (cidr: string) => cidr.split('/')[0]!;

/** What this agent should hold: nothing until it has a VTEP (an overlay) of its own. */
export function contrailPlane(self: AgentInfo | undefined, agents: Iterable<AgentInfo>, x: RecordIndex): ContrailPlane {
  const p = emptyContrailPlane();
  const mine = self && vxlanOf(self);
  if (!self || !mine) return p;
  const peers = new Map<string, { vtep: string; mac: string }>();
  for (const a of agents) {
    const v = vxlanOf(a);
    if (a.ip !== self.ip && v) peers.set(a.ip, { vtep: bare(v.vtep_ip), mac: v.vtep_mac.toLowerCase() });
  }
  for (const n of x.networks.values()) {
    const dev = devName(n.vni);
    p.devices.set(dev, { vni: n.vni, mac: mine.vtep_mac.toLowerCase(), ...(mine.vtep_mtu !== undefined && { mtu: mine.vtep_mtu }) });
    for (const [ip, peer] of peers) {
      p.neigh.set(`${dev}|${peer.vtep}`, peer.mac);
      p.fdb.set(`${dev}|${peer.mac}`, ip);
    }
  }
  for (const e of x.endpoints.values()) {
    const peer = peers.get(e.agent);
    const net = x.networks.get(e.network);
    if (peer && net) p.routes.set(`${e.ip}/32`, { dev: devName(net.vni), gw: peer.vtep });
  }
  return p;
}
