// The Mesos network of an overlay: `<cni_dir>/<name>.conf`, byte for byte what upstream's agent
// writes (compact JSON in its field order, no trailing newline, no cniVersion so the bridge
// answers in the 0.1 form the port mapper and Mesos read), written atomically (lib/fs/atomic.ts).
import { join } from 'node:path';
import type { AgentNetworkConfig, AgentOverlayInfo } from '../master/types.js';

/** The config file's text for `overlay` (its mesos_bridge must carry an IPv4 `ip`). */
export function cniConfig(overlay: AgentOverlayInfo, network: AgentNetworkConfig, cniDataDir: string | undefined): string {
  const bridge = overlay.mesos_bridge!;
  return JSON.stringify({
    name: overlay.info.name,
    type: 'mesos-cni-port-mapper',
    excludeDevices: [bridge.name],
    chain: bridge.name.toUpperCase(),
    delegate: {
      type: 'bridge',
      bridge: bridge.name,
      isGateway: true,
      ipMasq: false,
      hairpinMode: true,
      mtu: network.overlay_mtu,
      ipam: {
        type: 'host-local',
        ...(cniDataDir !== undefined && { dataDir: cniDataDir }),
        subnet: bridge.ip,
        routes: [{ dst: '0.0.0.0/0' }],
      },
    },
  });
}

export const cniConfigPath = (cniDir: string, name: string): string => join(cniDir, `${name}.conf`);
