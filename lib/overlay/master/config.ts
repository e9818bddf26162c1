// The master's config: upstream `MasterConfig` JSON accepted as is (unknown keys ignored), checked
// exactly as upstream's createManagerProcess with its error texts, plus our own fields: `listen`,
// `advertise` and `store`. Also parses the ZooKeeper URL (zk:// or file://).
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { ConfigError, hostPort, isObj, obj, optArray, optBool, optStr, optUint, reqStr, type Obj } from './fields.js';
import { parseNet, type Net } from './net.js';
import type { NetworkConfigJson, OverlayInfo } from './types.js';
import { parseContrailConfig } from './contrail/config.js';
import type { ContrailConfig } from './contrail/state.js';
import { parseZkUrl, type ZkSpec } from './zk-url.js';

export { ConfigError } from './fields.js';
export { parseZkUrl, type ZkSpec } from './zk-url.js';

/** Upstream: 15 (IFNAMSIZ - 1) minus the length of the "m-" / "d-" bridge prefix. */
export const MAX_OVERLAY_NAME = 13;
export const RESERVED_NETWORKS = ['host', 'bridge', 'default', 'none'];
export const DEFAULT_LISTEN = '0.0.0.0:5055';

export interface OverlaySpec {
  name: string;
  net?: Net;
  prefix?: number;
  net6?: Net;
  prefix6?: number;
  enabled: boolean;
  /** The `OverlayInfo` as /state and agents see it. */
  info: OverlayInfo;
}

export interface NetworkSpec {
  vtep: Net;
  vtep6?: Net;
  /** The first three bytes of the VTEP MAC. */
  oui: [number, number, number];
  mtu?: number;
  overlays: OverlaySpec[];
  /** The `NetworkConfig` as /state serves it. */
  json: NetworkConfigJson;
}

export type StoreSpec = { kind: 'memory' } | { kind: 'embedded'; dir: string } | { kind: 'zookeeper'; zk: ZkSpec };

export interface MasterConfig {
  network: NetworkSpec;
  listen: { host: string; port: number };
  /** How other masters and agents reach this one ("host:port"): redirects point here. */
  advertise: string;
  store: StoreSpec;
  /** Upstream `replicated_log_timeout`: the bound on every store operation. */
  storeTimeoutMs: number;
  /** Ours: local-mode Contrail objects (docs/contrail.md). */
  contrail: ContrailConfig;
}

function parseOui(s: string): [number, number, number] {
  const tokens = s.split(':');
  const bytes = tokens.map((t) => (/^[0-9a-fA-F]{1,2}$/.test(t) ? parseInt(t, 16) : NaN));
  if (tokens.length !== 6 || bytes.some(Number.isNaN)) {
    throw new ConfigError(`Unable to parse VTEP MAC OUI: Invalid MAC address. Mac address ${s} needs to be in the format xx:xx:xx:00:00:00`);
  }
  if (bytes[3] !== 0 || bytes[4] !== 0 || bytes[5] !== 0) {
    throw new ConfigError(`Unable to parse VTEP MAC OUI: Invalid OUI MAC address: ${s}. Least significant three bytes should not be set for the OUI`);
  }
  return [bytes[0]!, bytes[1]!, bytes[2]!];
}

interface Space {
  family: 4 | 6;
  lo: bigint;
  hi: bigint;
}

function parseOverlay(raw: unknown, i: number, seen: Set<string>, spaces: Space[]): OverlaySpec {
  const field = `network.overlays[${i}]`;
  const o = obj(raw, field);
  const name = reqStr(o, 'name', `${field}.name`);
  if (seen.has(name)) throw new ConfigError(`Duplicate overlay configuration detected for overlay: ${name}`);
  if (RESERVED_NETWORKS.includes(name)) throw new ConfigError(`Overlay network name: ${name} is a reserved network name`);
  // Upstream's text ends in stray source text ("  characters    IntervalSet<uint8_t> "); fixed here.
  if (name.length > MAX_OVERLAY_NAME) throw new ConfigError(`Overlay name: ${name} too long cannot, exceed ${MAX_OVERLAY_NAME} characters`);
  // Ours: the name becomes part of interface, file and chain names on agents.
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new ConfigError(`${field}.name: expected letters, digits, '_', '.' or '-', got ${JSON.stringify(name)}`);
  seen.add(name);
  const enabled = optBool(o, 'enabled', `${field}.enabled`) ?? true;
  const info: OverlayInfo = { name, enabled };
  const spec: OverlaySpec = { name, enabled, info };
  const claim = (net: Net, v6: boolean) => {
    const hi = net.base | ((1n << BigInt((v6 ? 128 : 32) - net.prefix)) - 1n);
    if (spaces.some((s) => s.family === net.family && s.lo <= hi && net.base <= s.hi)) {
      throw new ConfigError(`Incorrect ${v6 ? 'IPv6 ' : ''}address space for the overlay network '${name}': Found overlapping address spaces`);
    }
    spaces.push({ family: net.family, lo: net.base, hi });
  };
  // IPv4 then IPv6, the same steps with upstream's texts for each.
  for (const v6 of [false, true]) {
    const [sKey, pKey] = v6 ? (['subnet6', 'prefix6'] as const) : (['subnet', 'prefix'] as const);
    const text = optStr(o, sKey, `${field}.${sKey}`);
    if (text === undefined) continue;
    let net: Net;
    try {
      net = parseNet(text, v6 ? 6 : 4);
    } catch (e) {
      throw new ConfigError(`Unable to determine ${v6 ? 'IPv6 ' : ''}subnet for network: ${(e as Error).message}`);
    }
    claim(net, v6);
    // Upstream reads an absent prefix as 0 and a prefix shorter than the subnet's as is; both
    // give nonsense blocks. Ours: required, and room for the /prefix+1 bridge halves.
    const max = v6 ? 127 : 31;
    const prefix = optUint(o, pKey, `${field}.${pKey}`);
    if (prefix === undefined || prefix < net.prefix || prefix > max) {
      throw new ConfigError(`${field}.${pKey}: expected the agents' block length, from ${net.prefix} (the ${sKey}'s) to ${max}, got ${JSON.stringify(o[pKey])}`);
    }
    if (v6) [spec.net6, spec.prefix6, info.subnet6, info.prefix6] = [net, prefix, net.text, prefix];
    else [spec.net, spec.prefix, info.subnet, info.prefix] = [net, prefix, net.text, prefix];
  }
  // Field order as the proto's, so /state reads like upstream's.
  spec.info = { name, ...(info.subnet !== undefined && { subnet: info.subnet, prefix: info.prefix }), ...(info.subnet6 !== undefined && { subnet6: info.subnet6, prefix6: info.prefix6 }), enabled };
  return spec;
}

/** Upstream's NetworkConfig checks, in upstream's order and with its texts. */
export function parseNetwork(raw: unknown): NetworkSpec {
  const n = obj(raw, 'network');
  const vtepText = reqStr(n, 'vtep_subnet', 'network.vtep_subnet');
  let vtep: Net;
  try {
    vtep = parseNet(vtepText, 4);
  } catch (e) {
    throw new ConfigError(`Unable to parse the VTEP Subnet: ${(e as Error).message}`);
  }
  if (vtep.prefix < 8) {
    throw new ConfigError('VTEP MAC are derived from last 24 bits of VTEP IP.  Hence, in order to guarantee unique VTEP MAC we need the VTEP IP subnet to be equal to or greater than /8');
  }
  // Ours: a /31 or /32 has no address left once network and broadcast are excluded.
  if (vtep.prefix > 30) throw new ConfigError(`network.vtep_subnet: expected a prefix from 8 to 30 (room for VTEP addresses), got ${JSON.stringify(vtepText)}`);
  const ouiText = reqStr(n, 'vtep_mac_oui', 'network.vtep_mac_oui');
  const oui = parseOui(ouiText);
  const v6Text = optStr(n, 'vtep_subnet6', 'network.vtep_subnet6');
  let vtep6: Net | undefined;
  if (v6Text !== undefined) {
    try {
      vtep6 = parseNet(v6Text, 6);
    } catch (e) {
      throw new ConfigError(`Unable to parse the VTEP IPv6 Subnet: ${(e as Error).message}`);
    }
    if (vtep6.prefix > 126) throw new ConfigError(`network.vtep_subnet6: expected a prefix up to 126 (room for VTEP addresses), got ${JSON.stringify(v6Text)}`);
  }
  // Ours: DC/OS's installer enforces the 552 minimum; upstream's module takes anything.
  const mtu = optUint(n, 'vtep_mtu', 'network.vtep_mtu');
  if (mtu !== undefined && (mtu < 552 || mtu > 65535)) throw new ConfigError(`network.vtep_mtu: expected an MTU from 552 to 65535, got ${mtu}`);
  const seen = new Set<string>();
  const spaces: Space[] = [];
  const overlays = (optArray(n, 'overlays', 'network.overlays') ?? []).map((o, i) => parseOverlay(o, i, seen, spaces));
  if (overlays.length === 0) throw new ConfigError('Could not find any overlay configuration. Specify at least one overlay');
  const json: NetworkConfigJson = { vtep_subnet: vtep.text, vtep_mac_oui: ouiText, overlays: overlays.map((o) => o.info) };
  if (vtep6) json.vtep_subnet6 = vtep6.text;
  if (mtu !== undefined) json.vtep_mtu = mtu;
  return { vtep, ...(vtep6 && { vtep6 }), oui, ...(mtu !== undefined && { mtu }), overlays, json };
}

/** Mesos duration text ("5mins", "10secs", "1.5hrs", "250ms"), as upstream's replicated_log_timeout. */
export function parseDuration(s: string): number {
  const m = /^(\d+(?:\.\d+)?)(ns|us|ms|secs|mins|hrs|days|weeks)$/.exec(s.trim());
  const unit: Record<string, number> = { ns: 1e-6, us: 1e-3, ms: 1, secs: 1e3, mins: 60e3, hrs: 3600e3, days: 86400e3, weeks: 604800e3 };
  if (!m) throw new ConfigError(`Error parsing replicatedLogTimeout: expected a number and a unit (ns, us, ms, secs, mins, hrs, days, weeks), got ${JSON.stringify(s)}`);
  return Number(m[1]) * unit[m[2]!]!;
}

async function parseZk(c: Obj, env: NodeJS.ProcessEnv): Promise<ZkSpec> {
  const zk = c['zk'] === undefined ? {} : obj(c['zk'], 'zk');
  let url = optStr(zk, 'url', 'zk.url') ?? env['MESOS_ZK'];
  if (url === undefined) throw new ConfigError('zk.url: required for the zookeeper store (or set MESOS_ZK), e.g. "zk://10.0.0.1:2181,10.0.0.2:2181/mesos"');
  // `quorum` is read (so a mistyped value is reported) but ZooKeeper itself holds the quorum here.
  optUint(zk, 'quorum', 'zk.quorum');
  const timeout = optUint(zk, 'session_timeout', 'zk.session_timeout') ?? 10;
  if (timeout < 1) throw new ConfigError('zk.session_timeout: expected at least 1 (seconds), got 0');
  if (url.startsWith('file://')) {
    const path = url.slice(7);
    try {
      url = await readFile(path, 'utf8');
    } catch (e) {
      throw new ConfigError(`Error reading zookeeper configuration file '${path}': ${(e as Error).message}`);
    }
  }
  return parseZkUrl(url, timeout * 1000);
}

/** Parse a MasterConfig object (already JSON-decoded). */
export async function parseMasterConfig(raw: unknown, env: NodeJS.ProcessEnv = process.env): Promise<MasterConfig> {
  const c = obj(raw, 'config');
  if (c['network'] === undefined) throw new ConfigError('network: required (the NetworkConfig object)');
  const network = parseNetwork(c['network']);
  const listenText = optStr(c, 'listen', 'listen') ?? DEFAULT_LISTEN;
  // Port 0: the kernel picks one (tests); `advertise` must then be set for other masters.
  const listen = hostPort(listenText, 'listen', true);
  const advText = optStr(c, 'advertise', 'advertise');
  if (advText !== undefined) hostPort(advText, 'advertise');
  const wildcard = listen.host === '0.0.0.0' || listen.host === '::';
  const advertise = advText ?? (wildcard ? `${hostname()}:${listen.port}` : listenText);
  const timeoutText = optStr(c, 'replicated_log_timeout', 'replicated_log_timeout');
  const storeTimeoutMs = timeoutText === undefined ? 300_000 : parseDuration(timeoutText);
  const dir = optStr(c, 'replicated_log_dir', 'replicated_log_dir');
  const hasZk = isObj(c['zk']) && c['zk']['url'] !== undefined;
  const kind = optStr(c, 'store', 'store') ?? (hasZk ? 'zookeeper' : dir !== undefined ? 'embedded' : 'memory');
  let store: StoreSpec;
  if (kind === 'memory') store = { kind };
  else if (kind === 'embedded') {
    if (dir === undefined || dir === '') throw new ConfigError('replicated_log_dir: required for the embedded store (the directory that holds the state)');
    store = { kind, dir };
  } else if (kind === 'zookeeper') store = { kind, zk: await parseZk(c, env) };
  else throw new ConfigError(`store: expected "embedded", "zookeeper" or "memory", got ${JSON.stringify(kind)}`);
  return { network, listen, advertise, store, storeTimeoutMs, contrail: parseContrailConfig(c['contrail']) };
}

/** Read and parse a master.json file. */
export async function loadMasterConfig(path: string, env: NodeJS.ProcessEnv = process.env): Promise<MasterConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`config ${path}: ${(e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`config ${path}: not valid JSON: ${(e as Error).message}`);
  }
  return parseMasterConfig(raw, env);
}
