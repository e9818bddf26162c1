// Request bodies of the agent protocol and the delete endpoint, validated: every bad field is a
// 400 whose text names it.
import { isIPv4 } from '../../ip.js';
import { ConfigError, isObj, obj, optBool, optStr, optUint, reqStr } from './fields.js';
import { AGENT_NETWORK_DEFAULTS, STATUSES, type AgentNetworkConfig, type OverlayState, type OverlayStatus } from './types.js';

export class BodyError extends Error {
  override name = 'BodyError';
}

/** Run a parse whose field errors (ConfigError) are a request's 400 (BodyError), text unchanged. */
export function asBodyErrors<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ConfigError) throw new BodyError(e.message);
    throw e;
  }
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new BodyError(`body: not valid JSON: ${(e as Error).message}`);
  }
}

function agentIp(o: Record<string, unknown>): string {
  const ip = reqStr(o, 'ip', 'ip');
  if (!isIPv4(ip)) throw new BodyError(`ip: expected the agent's IPv4 address, got ${JSON.stringify(ip)}`);
  return ip;
}

/**
 * An `AgentNetworkConfig` (every field optional, the proto defaults filled in): the agent's own
 * config file and its registration carry the same object. ConfigErrors name `<field>.<key>`.
 */
export function parseAgentNetworkConfig(raw: unknown, field: string): AgentNetworkConfig {
  const n = raw === undefined ? {} : obj(raw, field);
  const d = AGENT_NETWORK_DEFAULTS;
  const f = (k: string) => `${field}.${k}`;
  return {
    allocate_subnet: optBool(n, 'allocate_subnet', f('allocate_subnet')) ?? d.allocate_subnet,
    mesos_bridge: optBool(n, 'mesos_bridge', f('mesos_bridge')) ?? d.mesos_bridge,
    docker_bridge: optBool(n, 'docker_bridge', f('docker_bridge')) ?? d.docker_bridge,
    overlay_mtu: optUint(n, 'overlay_mtu', f('overlay_mtu')) ?? d.overlay_mtu,
    command_timeout: optUint(n, 'command_timeout', f('command_timeout')) ?? d.command_timeout,
    enable_ipv6: optBool(n, 'enable_ipv6', f('enable_ipv6')) ?? d.enable_ipv6,
  };
}

/** {"ip": "<agent IPv4>", "network_config": AgentNetworkConfig} (every field optional, proto defaults). */
export function parseRegister(body: unknown): { ip: string; config: AgentNetworkConfig } {
  return asBodyErrors(() => {
    const o = obj(body, 'body');
    return { ip: agentIp(o), config: parseAgentNetworkConfig(o['network_config'], 'network_config') };
  });
}

/** {"ip": "...", "overlays": [{"info": {"name": "dcos"}, "state": {"status": "STATUS_OK", "error"?: "..."}}]} */
export function parseStatus(body: unknown): { ip: string; states: { name: string; state: OverlayState }[] } {
  return asBodyErrors(() => {
    const o = obj(body, 'body');
    const ip = agentIp(o);
    const list = o['overlays'];
    if (!Array.isArray(list)) throw new BodyError(`overlays: expected an array of AgentOverlayInfo, got ${JSON.stringify(list)}`);
    const states = list.map((x, i) => {
      const e = obj(x, `overlays[${i}]`);
      const name = reqStr(obj(e['info'], `overlays[${i}].info`), 'name', `overlays[${i}].info.name`);
      const s = obj(e['state'], `overlays[${i}].state`);
      const status = reqStr(s, 'status', `overlays[${i}].state.status`);
      if (!(STATUSES as readonly string[]).includes(status)) throw new BodyError(`overlays[${i}].state.status: expected one of ${STATUSES.join(', ')}, got ${JSON.stringify(status)}`);
      const error = optStr(s, 'error', `overlays[${i}].state.error`);
      return { name, state: { status: status as OverlayStatus, ...(error !== undefined && { error }) } };
    });
    return { ip, states };
  });
}

/**
 * Upstream's delete body: {"agents": ["<ipv4>", ...]}; anything else is a 400 (upstream answers
 * an empty 400; ours says why).
 */
export function parseDelete(body: unknown): string[] {
  if (!isObj(body)) throw new BodyError('body: expected {"agents": ["<agent IPv4>", ...]}');
  const list = body['agents'];
  if (!Array.isArray(list)) throw new BodyError(`agents: expected an array of agent IPv4 addresses, got ${JSON.stringify(list)}`);
  return list.map((v, i) => {
    if (typeof v !== 'string' || !isIPv4(v)) throw new BodyError(`agents[${i}]: expected an IPv4 address, got ${JSON.stringify(v)}`);
    return v;
  });
}
