// The agent's config: upstream `AgentConfig` JSON accepted as is (unknown keys ignored), with its
// defaults and error texts (`master` from the file, else MESOS_MASTER, else MESOS_ZK; file://),
// plus our own fields: listen, ip, docker_socket, dataplane, state_dir, reconcile_interval_ms.
import { readFile } from 'node:fs/promises';
import { isIPv4 } from '../../ip.js';
import { ConfigError, hostPort, obj, optBool, optStr, optUint, reqStr } from '../master/fields.js';
import { parseAgentNetworkConfig } from '../master/protocol.js';
import type { AgentNetworkConfig } from '../master/types.js';
import { parseMaster, type MasterSpec } from './master-spec.js';

export { ConfigError } from '../master/fields.js';
export { parseMaster, type MasterSpec, ZK_SESSION_TIMEOUT_MS } from './master-spec.js';

export const DEFAULT_LISTEN = '0.0.0.0:5056';
export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';
export const DEFAULT_STATE_DIR = '/var/lib/mesos-overlay-agent';
export const DEFAULT_RECONCILE_MS = 10_000;

export interface AgentConfig {
  master: MasterSpec;
  cniDir: string;
  cniDataDir?: string;
  network: AgentNetworkConfig;
  maxConfigurationAttempts: number;
  /** Our HTTP endpoint (`/overlay-agent/overlay`, `/metrics`). */
  listen: { host: string; port: number };
  /** The agent's identity (its IPv4 on the underlay); default LIBPROCESS_IP, else the address that reaches the master. */
  ip?: string;
  dockerSocket: string;
  /** Program vtep1024 and the peers (what dcos-net does); false leaves that to dcos-net. */
  dataplane: boolean;
  /** Where the last known view is kept across restarts; undefined keeps nothing. */
  stateDir?: string;
  reconcileIntervalMs: number;
  /** Ours: program local-mode Contrail networks and rewrite their endpoints' security rules (docs/contrail.md). */
  contrail: boolean;
}

/** Parse an AgentConfig object (already JSON-decoded). */
export async function parseAgentConfig(raw: unknown, env: NodeJS.ProcessEnv = process.env): Promise<AgentConfig> {
  const c = obj(raw, 'config');
  const masterText = optStr(c, 'master', 'master') ?? env['MESOS_MASTER'] ?? env['MESOS_ZK'];
  if (masterText === undefined) {
    throw new ConfigError("Master unspecified, hence cannot create a `MasterDetector`. Please specify master either through the JSON config, or 'MESOS_MASTER' environment variable");
  }
  const cniDir = reqStr(c, 'cni_dir', 'cni_dir');
  if (cniDir === '') throw new ConfigError('cni_dir: expected the directory the CNI network configs are written to, got ""');
  const cniDataDir = optStr(c, 'cni_data_dir', 'cni_data_dir');
  const network = parseAgentNetworkConfig(c['network_config'], 'network_config');
  // Ours: the MTU lands in a CNI config and a Docker network (DC/OS's installer enforces 552).
  if (network.overlay_mtu < 552 || network.overlay_mtu > 65535) throw new ConfigError(`network_config.overlay_mtu: expected an MTU from 552 to 65535, got ${network.overlay_mtu}`);
  if (network.command_timeout < 1) throw new ConfigError('network_config.command_timeout: expected at least 1 (milliseconds), got 0');
  const ip = optStr(c, 'ip', 'ip');
  if (ip !== undefined && !isIPv4(ip)) throw new ConfigError(`ip: expected the agent's IPv4 address, got ${JSON.stringify(ip)}`);
  const envIp = env['LIBPROCESS_IP'];
  const dockerSocket = optStr(c, 'docker_socket', 'docker_socket') ?? DEFAULT_DOCKER_SOCKET;
  if (!dockerSocket.startsWith('/')) throw new ConfigError(`docker_socket: expected an absolute path to the Docker Engine's unix socket, got ${JSON.stringify(dockerSocket)}`);
  const stateDir = c['state_dir'] === null ? undefined : (optStr(c, 'state_dir', 'state_dir') ?? DEFAULT_STATE_DIR);
  if (stateDir !== undefined && !stateDir.startsWith('/')) throw new ConfigError(`state_dir: expected an absolute path (or null for none), got ${JSON.stringify(stateDir)}`);
  const reconcileIntervalMs = optUint(c, 'reconcile_interval_ms', 'reconcile_interval_ms') ?? DEFAULT_RECONCILE_MS;
  if (reconcileIntervalMs < 100) throw new ConfigError(`reconcile_interval_ms: expected at least 100, got ${reconcileIntervalMs}`);
  return {
    master: await parseMaster(masterText),
    cniDir,
    ...(cniDataDir !== undefined && { cniDataDir }),
    network,
    maxConfigurationAttempts: optUint(c, 'max_configuration_attempts', 'max_configuration_attempts') ?? 4,
    listen: hostPort(optStr(c, 'listen', 'listen') ?? DEFAULT_LISTEN, 'listen', true),
    ...(ip !== undefined ? { ip } : envIp !== undefined && isIPv4(envIp) ? { ip: envIp } : {}),
    dockerSocket,
    dataplane: optBool(c, 'dataplane', 'dataplane') ?? true,
    ...(stateDir !== undefined && { stateDir }),
    reconcileIntervalMs,
    contrail: optBool(c, 'contrail', 'contrail') ?? true,
  };
}

/** Read and parse an agent.json file. */
export async function loadAgentConfig(path: string, env: NodeJS.ProcessEnv = process.env): Promise<AgentConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`Unable to read the Agent configuration: ${path}: ${(e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`Unable to parse the Agent JSON configuration: JSON parse failed: ${(e as Error).message}`);
  }
  return parseAgentConfig(raw, env);
}
