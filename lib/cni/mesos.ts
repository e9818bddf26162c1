// The Mesos agent's side of the CNI contract (reference/mesos-cni-port-mapper.md §1): how it
// serialises configs (stout: keys sorted, compact), builds network_info, injects it into `args`.
import { CniError, ErrorCode } from './errors.js';
import { isObject } from './config.js';

/** JSON the way stout writes it: every object's keys sorted, no whitespace. */
export function stoutJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stoutJson).join(',')}]`;
  if (isObject(v)) {
    const keys = Object.keys(v).filter((k) => v[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${stoutJson(v[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

export interface PortMapping {
  host_port: number;
  container_port: number;
  protocol?: string;
}

export interface MesosNetworkInfo {
  name: string;
  labels?: { labels: { key: string; value?: string }[] };
  port_mappings?: PortMapping[];
  ip_addresses?: { ip_address?: string; protocol: string }[];
  groups?: string[];
}

/**
 * network_info for a task joining `name` with these labels, port mappings and requested addresses
 * (empty ones omitted). Every `ip_addresses` entry carries `protocol`, as stout writes it (the proto
 * field has a default, IPv4; IPv6 for an IPv6 address), and `ip_address` when one is asked for
 * ("" asks for any IPv4 address, as a task without a static address does).
 */
export function networkInfo(name: string, labels: Record<string, string> = {}, portMappings: PortMapping[] = [], ipAddresses: string[] = []): MesosNetworkInfo {
  const info: MesosNetworkInfo = { name };
  const entries = Object.entries(labels);
  if (entries.length) info.labels = { labels: entries.map(([key, value]) => ({ key, value })) };
  if (portMappings.length) info.port_mappings = portMappings;
  if (ipAddresses.length) {
    info.ip_addresses = ipAddresses.map((ip) => ({ ...(ip ? { ip_address: ip } : {}), protocol: ip.includes(':') ? 'IPv6' : 'IPv4' }));
  }
  return info;
}

/**
 * The config Mesos hands a plugin: `args["org.apache.mesos"] = {network_info}`, other args kept,
 * serialised stout-style. Refuses a config that sets the reserved key itself, as the agent does.
 */
export function mesosStdin(conf: Record<string, unknown>, info: MesosNetworkInfo): string {
  if (conf.args !== undefined && !isObject(conf.args)) {
    throw new CniError(ErrorCode.InvalidNetworkConfig, `Invalid 'args' found in CNI network configuration file`);
  }
  const args = { ...((conf.args as Record<string, unknown>) ?? {}) };
  if ('org.apache.mesos' in args) {
    throw new CniError(
      ErrorCode.InvalidNetworkConfig,
      `'org.apache.mesos' in 'args' should not be set in CNI network configuration file. It is reserved by Mesos`,
    );
  }
  args['org.apache.mesos'] = { network_info: info };
  return stoutJson({ ...conf, args });
}
