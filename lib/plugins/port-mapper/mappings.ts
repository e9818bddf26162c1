// Port mappings from both places a runtime puts them: Mesos' `network_info.port_mappings` (read
// with the same rules as stout's JSON→protobuf parser, so a bad entry fails with the old plugin's
// text) and the CNI `runtimeConfig.portMappings` capability that other runtimes send.
import { isObject } from '../../cni/config.js';
import { formatIp, parseIp } from '../../ip.js';
import { badArgs } from './errors.js';

export type Protocol = 'tcp' | 'udp' | 'sctp';
export const PROTOCOLS: readonly Protocol[] = ['tcp', 'udp', 'sctp'];

export interface Mapping {
  hostPort: number;
  containerPort: number;
  protocol: Protocol;
  /** Only traffic to this host address is mapped (runtimeConfig only); its family picks the table. */
  hostIP?: string;
}

/** stout's name for a JSON value's kind, as its "Not expecting a JSON <kind>" errors say it. */
function kind(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  return typeof v === 'object' ? 'object' : typeof v === 'number' ? 'number' : typeof v === 'boolean' ? 'boolean' : 'string';
}

const notExpecting = (v: unknown, field: string) => `Not expecting a JSON ${kind(v)} for field '${field}'`;

function port(v: number, field: string): number {
  // stout would store any number as a uint32 and iptables would refuse it at ADD; refuse it here.
  if (Number.isInteger(v) && v >= 1 && v <= 65535) return v;
  throw new Error(`${field}: expected a port from 1 to 65535, got ${JSON.stringify(v)}`);
}

function protocol(v: string, field: string): Protocol {
  const p = v.toLowerCase(); // upstream lower-cases it ("TCP" is tcp)
  if ((PROTOCOLS as readonly string[]).includes(p)) return p as Protocol;
  throw new Error(`${field}: expected tcp, udp or sctp, got ${JSON.stringify(v)}`);
}

/** One NetworkInfo.PortMapping; `missing` collects unset required fields like protobuf does. */
function portMapping(o: Record<string, unknown>, at: string, missing: string[]): Mapping | undefined {
  // stout visits an object's keys in sorted order; so do we, so the first error is the same.
  const got: { host_port?: number; container_port?: number; protocol?: string } = {};
  for (const key of Object.keys(o).sort()) {
    const v = o[key];
    if (v === null) continue; // null is "unset" to stout
    if (key === 'host_port' || key === 'container_port') {
      if (typeof v !== 'number') throw new Error(notExpecting(v, key));
      got[key] = v;
    } else if (key === 'protocol') {
      if (typeof v !== 'string') throw new Error(notExpecting(v, key));
      got.protocol = v;
    }
  }
  // protobuf lists missing fields in field-number order: host_port (1), container_port (2).
  if (got.host_port === undefined) missing.push(`${at}.host_port`);
  if (got.container_port === undefined) missing.push(`${at}.container_port`);
  if (got.host_port === undefined || got.container_port === undefined) return undefined;
  return {
    hostPort: port(got.host_port, `${at}.host_port`),
    containerPort: port(got.container_port, `${at}.container_port`),
    protocol: protocol(got.protocol ?? 'tcp', `${at}.protocol`),
  };
}

/** `network_info.port_mappings` → mappings; errors read "Unable to parse `NetworkInfo`: …" (101). */
export function fromNetworkInfo(info: Record<string, unknown>): Mapping[] {
  try {
    const v = info.port_mappings;
    if (v === undefined || v === null) return [];
    // A repeated message field takes an array of objects, or (stout quirk) one bare object.
    const items = Array.isArray(v) ? v : [v];
    if (!Array.isArray(v) && !isObject(v)) throw new Error(notExpecting(v, 'port_mappings'));
    const out: Mapping[] = [];
    const missing: string[] = [];
    let index = 0; // protobuf's index: every entry added, complete or not (nulls are skipped)
    for (const item of items) {
      if (item === null) continue;
      if (!isObject(item)) throw new Error(notExpecting(item, 'port_mappings'));
      const m = portMapping(item, `port_mappings[${index++}]`, missing);
      if (m) out.push(m);
    }
    if (missing.length) throw new Error(`Missing required fields: ${missing.join(', ')}`);
    return out;
  } catch (e) {
    throw badArgs(`Unable to parse \`NetworkInfo\`: ${(e as Error).message}`);
  }
}

/** The standard `runtimeConfig.portMappings` capability: [{hostPort, containerPort, protocol?, hostIP?}]. */
export function fromRuntimeConfig(v: unknown): Mapping[] {
  if (v === undefined || v === null) return [];
  const field = 'runtimeConfig.portMappings';
  const fail = (msg: string) => badArgs(`Failed to parse field '${field}': ${msg}`);
  if (!Array.isArray(v)) throw fail(`expected an array of {hostPort, containerPort, protocol, hostIP}, got ${JSON.stringify(v)}`);
  return v.map((m, i) => {
    if (!isObject(m)) throw fail(`[${i}]: expected an object, got ${JSON.stringify(m)}`);
    try {
      if (typeof m.hostPort !== 'number') throw new Error(`[${i}].hostPort: expected a port from 1 to 65535, got ${JSON.stringify(m.hostPort)}`);
      if (typeof m.containerPort !== 'number') throw new Error(`[${i}].containerPort: expected a port from 1 to 65535, got ${JSON.stringify(m.containerPort)}`);
      if (m.protocol !== undefined && typeof m.protocol !== 'string') throw new Error(`[${i}].protocol: expected tcp, udp or sctp, got ${JSON.stringify(m.protocol)}`);
      const out: Mapping = {
        hostPort: port(m.hostPort, `[${i}].hostPort`),
        containerPort: port(m.containerPort, `[${i}].containerPort`),
        protocol: protocol(m.protocol || 'tcp', `[${i}].protocol`),
      };
      // The reference portmap treats an empty hostIP as "any"; so do we.
      if (m.hostIP !== undefined && m.hostIP !== '') {
        if (typeof m.hostIP !== 'string' || m.hostIP.includes('/')) throw new Error(`[${i}].hostIP: expected an IP address, got ${JSON.stringify(m.hostIP)}`);
        out.hostIP = formatIp(parseIp(m.hostIP, `[${i}].hostIP`).bytes);
      }
      return out;
    } catch (e) {
      throw fail((e as Error).message);
    }
  });
}

/** Both sources together, exact duplicates dropped (the same rule twice would be one rule upstream too). */
export function mergeMappings(...lists: Mapping[][]): Mapping[] {
  const seen = new Set<string>();
  const out: Mapping[] = [];
  for (const m of lists.flat()) {
    const k = `${m.protocol}/${m.hostPort}/${m.containerPort}/${m.hostIP ?? ''}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(m);
  }
  return out;
}
