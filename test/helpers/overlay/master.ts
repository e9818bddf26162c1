// Test helpers for the overlay master: the upstream OverlayTest fixture's config, a registration
// config, and "restart" (recover under a possibly changed config) for the pure allocator.
import { parseNetwork, type NetworkSpec } from '../../../lib/overlay/master/config.js';
import { Allocation } from '../../../lib/overlay/master/allocate.js';
import { AGENT_NETWORK_DEFAULTS, type AgentNetworkConfig } from '../../../lib/overlay/master/types.js';

/** OverlayTest's master config (reference §11). */
export function fixtureNetwork(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    vtep_subnet: '44.128.0.0/16',
    vtep_subnet6: 'fd03::/64',
    vtep_mac_oui: '70:B3:D5:00:00:00',
    overlays: [{ name: 'mz-overlay', subnet: '192.168.0.0/16', prefix: 24, subnet6: 'fd02::/64', prefix6: 80 }],
    ...over,
  };
}

export const net = (over: Record<string, unknown> = {}): NetworkSpec => parseNetwork(fixtureNetwork(over));

/** The fixture's agent: bridges disabled by default. */
export function agentCfg(over: Partial<AgentNetworkConfig> = {}): AgentNetworkConfig {
  return { ...AGENT_NETWORK_DEFAULTS, mesos_bridge: false, docker_bridge: false, ...over };
}

/** A master restart: the stored records re-reserved under `next` (the current config). */
export function restart(a: Allocation, next: NetworkSpec = a.net): Allocation {
  return Allocation.recover(next, JSON.parse(JSON.stringify([...a.agents.values()])));
}
