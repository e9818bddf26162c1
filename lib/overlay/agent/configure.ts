// Configuring one overlay on this agent, upstream's `configure()`: the Mesos network (CNI config
// file) and the Docker network side by side, then, when both succeeded and a bridge is enabled,
// the overlay's `nomatch` entry and MASQUERADE rule. Every step is idempotent (overwrite, inspect
// before create, -exist, check before append, delete-then-insert), so configuring again is safe.
// A failure rejects with upstream's text, the failures of both halves joined by ';'.
import type { Logger } from 'pino';
import type { Netns } from '../../netns/index.js';
import type { AgentNetworkConfig, AgentOverlayInfo } from '../master/types.js';
import { writeAtomic } from '../../fs/atomic.js';
import { cniConfig, cniConfigPath } from './cni-file.js';
import type { DockerClient } from './docker.js';
import { dockerIsolationReturn, masquerade } from './netfilter.js';
import { mkdirp } from '../../fs/mkdir.js';

export interface ConfigureDeps {
  ns: Netns;
  cniDir: string;
  cniDataDir?: string;
  network: AgentNetworkConfig;
  docker: DockerClient;
  log: Logger;
}

/** `<cni_dir>/<name>.conf`; skipped when the agent disallows mesos_bridge or the overlay has no IPv4 subnet. */
export async function configureMesosNetwork(d: ConfigureDeps, o: AgentOverlayInfo): Promise<void> {
  const name = o.info.name;
  if (!d.network.mesos_bridge) {
    d.log.info({ overlay: name, ignored: o.mesos_bridge !== undefined }, "Not configuring Mesos network since operator has disallowed `mesos_bridge`");
    return;
  }
  if (o.subnet === undefined) {
    d.log.warn({ overlay: name }, 'IPv4 address not present for mesos bridge. Skipping...');
    return;
  }
  if (!o.mesos_bridge?.ip) throw new Error(`Failed to parse bridge ip: the master allocated no mesos_bridge.ip for overlay '${name}'`);
  try {
    await mkdirp(d.cniDir, 0o755);
    await writeAtomic(cniConfigPath(d.cniDir, name), cniConfig(o, d.network, d.cniDataDir));
  } catch (e) {
    throw new Error(`Failed to write CNI config: ${(e as Error).message}`);
  }
}

/** The Docker network `<name>` (bridge `d-<name>`) unless it exists, then the isolation RETURN. */
export async function configureDockerNetwork(d: ConfigureDeps, o: AgentOverlayInfo, timeoutMs: number): Promise<void> {
  const name = o.info.name;
  if (!d.network.docker_bridge) {
    d.log.info({ overlay: name, ignored: o.docker_bridge !== undefined }, "Not configuring Docker network since operator has disallowed `docker_bridge`");
    return;
  }
  let exists: boolean;
  try {
    exists = (await d.docker.inspectNetwork(name)) !== undefined;
  } catch (e) {
    throw new Error(`Unable to configure docker network: ${(e as Error).message}`);
  }
  if (exists) d.log.info({ overlay: name }, `Docker network '${name}' already exists`);
  else {
    const b = o.docker_bridge;
    if (!b) throw new Error('Missing Docker bridge info');
    const subnet6 = d.network.enable_ipv6 ? b.ip6 : undefined;
    // Nothing to create from (no IPv4 half, IPv6 half off): nothing to isolate either.
    if (b.ip === undefined && subnet6 === undefined) return;
    try {
      await d.docker.createNetwork({ name, bridge: b.name, mtu: d.network.overlay_mtu, ...(b.ip !== undefined && { subnet: b.ip }), ...(subnet6 !== undefined && { subnet6 }) });
    } catch (e) {
      throw new Error(`Unable to configure docker network: ${(e as Error).message}`);
    }
    d.log.info({ overlay: name, bridge: b.name, subnet: b.ip, subnet6 }, 'docker network created');
  }
  await dockerIsolationReturn(d.ns, timeoutMs);
}

/** The whole of upstream's configure() for one overlay. */
export async function configureOverlay(d: ConfigureDeps, o: AgentOverlayInfo): Promise<void> {
  const timeoutMs = d.network.command_timeout;
  const results = await Promise.allSettled([configureMesosNetwork(d, o), configureDockerNetwork(d, o, timeoutMs)]);
  const errors = results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as Error).message] : []));
  if (errors.length > 0) throw new Error(errors.join(';'));
  if (!d.network.mesos_bridge && !d.network.docker_bridge) return;
  if (o.info.subnet !== undefined) await masquerade(d.ns, o.info.subnet, timeoutMs);
}
