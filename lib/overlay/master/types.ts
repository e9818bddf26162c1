// The overlay model in its upstream protobuf-JSON shapes (dcos-mesos-modules overlay.proto and
// messages.proto): what /overlay-master/state serves and what the agent protocol carries.

/** `OverlayInfo`: one configured overlay network (`enabled` defaults to true, as the proto). */
export interface OverlayInfo {
  name: string;
  subnet?: string;
  prefix?: number;
  subnet6?: string;
  prefix6?: number;
  enabled: boolean;
}

/** `NetworkConfig`, in the form /state serves it (proto defaults filled in). */
export interface NetworkConfigJson {
  vtep_subnet: string;
  vtep_mac_oui: string;
  overlays: OverlayInfo[];
  vtep_subnet6?: string;
  vtep_mtu?: number;
}

export interface BridgeInfo {
  name: string;
  ip?: string;
  ip6?: string;
}

export interface VxlanInfo {
  vni: number;
  vtep_name: string;
  vtep_ip: string;
  vtep_mac: string;
  vtep_ip6?: string;
  vtep_mtu?: number;
}

export interface BackendInfo {
  vxlan: VxlanInfo;
}

export const STATUSES = ['STATUS_INVALID', 'STATUS_OK', 'STATUS_FAILED', 'STATUS_CONFIGURING'] as const;
export type OverlayStatus = (typeof STATUSES)[number];

export interface OverlayState {
  status: OverlayStatus;
  error?: string;
}

/** `AgentOverlayInfo`: one overlay as allocated to one agent. */
export interface AgentOverlayInfo {
  info: OverlayInfo;
  subnet?: string;
  subnet6?: string;
  mesos_bridge?: BridgeInfo;
  docker_bridge?: BridgeInfo;
  backend: BackendInfo;
  state?: OverlayState;
}

/** `AgentInfo`: an agent and its overlays. */
export interface AgentInfo {
  ip: string;
  overlays: AgentOverlayInfo[];
}

/**
 * What the master stores per agent: the upstream `AgentInfo` (overlay states stripped, as upstream
 * never persists them) plus the agent's backend on its own. Upstream kept the backend only inside
 * each overlay and re-read it from the first one on recovery, so an agent holding no overlay lost
 * its VTEP reservation across a restart (and its IP could be handed out twice).
 */
export interface StoredAgent {
  ip: string;
  backend: BackendInfo;
  overlays: AgentOverlayInfo[];
}

/** `AgentNetworkConfig` with the proto defaults applied. */
export interface AgentNetworkConfig {
  allocate_subnet: boolean;
  mesos_bridge: boolean;
  docker_bridge: boolean;
  overlay_mtu: number;
  command_timeout: number;
  enable_ipv6: boolean;
}

export const AGENT_NETWORK_DEFAULTS: AgentNetworkConfig = {
  allocate_subnet: true,
  mesos_bridge: true,
  docker_bridge: true,
  overlay_mtu: 1420,
  command_timeout: 15000,
  enable_ipv6: true,
};

/** Hard-coded upstream for every agent (master.cpp registerAgent). */
export const VXLAN_VNI = 1024;
export const VTEP_NAME = 'vtep1024';
export const MESOS_BRIDGE_PREFIX = 'm-';
export const DOCKER_BRIDGE_PREFIX = 'd-';
