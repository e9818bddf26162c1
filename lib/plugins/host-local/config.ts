// host-local configuration: the reference plugin's fields (subnet/rangeStart/rangeEnd/gateway or
// ranges, routes, dataDir, resolvConf) and requested IPs from CNI_ARGS IP=, args.cni.ips and
// runtimeConfig.ips. All defaulting and validation happens here.
import { cniArgs, type CniEnv } from '../../cni/env.js';
import type { Route } from '../../cni/result.js';
import { configError, CniError, ErrorCode, InputError } from '../../cni/errors.js';
import { isObject, NETWORK_NAME_RE, type NetConf } from '../../cni/config.js';
import { isLegacy } from '../../cni/version.js';
import { formatIp, parseIp, parsePrefix, type IpAddr } from '../../ip.js';
import { canonicalize, overlaps, type RangeSet, type RawRange } from './range.js';

export const DEFAULT_DATA_DIR = '/var/lib/cni/networks';

export interface HostLocalConfig {
  name: string;
  cniVersion: string | undefined;
  dataDir: string;
  rangeSets: RangeSet[];
  /** Copied into the result whole: dst, gw and the 1.1.0 attributes (mtu, advmss, priority, table, scope). */
  routes: Route[];
  resolvConf: string | undefined;
  /** Addresses asked for, in the order CNI_ARGS, args.cni.ips, runtimeConfig.ips. */
  requested: IpAddr[];
}

/** An address, or an address with a prefix (CONVENTIONS' `ip[/prefix]`): only the address is requested. */
function requested(v: unknown, field: string): IpAddr {
  return typeof v === 'string' && v.includes('/') ? parsePrefix(v, field) : parseIp(v, field);
}

function requestedIps(conf: NetConf, env: CniEnv): IpAddr[] {
  const out: IpAddr[] = [];
  const args = cniArgs(env);
  const ignoreUnknown = args.some(([k, v]) => k.toLowerCase() === 'ignoreunknown' && /^(1|true)$/i.test(v));
  for (const [k, v] of args) {
    if (k === 'IP') out.push(requested(v, 'CNI_ARGS IP'));
    else if (k.toLowerCase() !== 'ignoreunknown' && !ignoreUnknown) {
      throw new InputError(ErrorCode.InvalidEnvironment, `CNI_ARGS: unknown key ${JSON.stringify(k)} (set IgnoreUnknown=1 to allow keys meant for other plugins)`);
    }
  }
  const cni = isObject(conf.args) && isObject(conf.args.cni) ? conf.args.cni : undefined;
  if (cni?.ips !== undefined) {
    if (!Array.isArray(cni.ips)) throw configError('args.cni.ips', 'an array of IP addresses', cni.ips);
    cni.ips.forEach((ip, i) => out.push(requested(ip, `args.cni.ips[${i}]`)));
  }
  const rt = conf.runtimeConfig?.ips;
  if (rt !== undefined) {
    if (!Array.isArray(rt)) throw configError('runtimeConfig.ips', 'an array of IP addresses', rt);
    // The "ips" capability allows a prefix ("10.0.0.2/24"); only the address is requested.
    rt.forEach((ip, i) => out.push(parsePrefix(ip, `runtimeConfig.ips[${i}]`)));
  }
  return out;
}

/** A list of range sets (`ipam.ranges`, the `ipRanges` capability), each a non-empty array of one family's ranges. */
function setList(v: unknown, field: string): RangeSet[] {
  if (!Array.isArray(v)) throw configError(field, 'an array of range sets (arrays of ranges)', v);
  return v.map((set, i) => {
    if (!Array.isArray(set) || set.length === 0) throw configError(`${field}[${i}]`, 'a non-empty array of ranges', set);
    const rs = set.map((r, j) => {
      if (!isObject(r)) throw configError(`${field}[${i}][${j}]`, 'an object with subnet', r);
      return canonicalize(r as RawRange, `${field}[${i}][${j}]`);
    });
    if (rs.some((r) => r.family !== rs[0]!.family)) throw configError(`${field}[${i}]`, 'ranges of one address family');
    return rs;
  });
}

/**
 * The range sets in the reference's order: the `ipRanges` capability's first, then the old-style
 * single range, then `ranges` (set indexes name the round-robin cursors, so the order is shared).
 */
function rangeSets(ipam: Record<string, unknown>, runtime: Record<string, unknown> | undefined): RangeSet[] {
  const sets: RangeSet[] = [];
  if (runtime?.ipRanges !== undefined && !(Array.isArray(runtime.ipRanges) && runtime.ipRanges.length === 0)) sets.push(...setList(runtime.ipRanges, 'runtimeConfig.ipRanges'));
  if (ipam.subnet !== undefined) sets.push([canonicalize(ipam as RawRange, 'ipam')]);
  if (ipam.ranges !== undefined) sets.push(...setList(ipam.ranges, 'ipam.ranges'));
  if (sets.length === 0) throw configError('ipam', 'a subnet or ranges (no IP ranges specified)');
  const all = sets.flatMap((s, i) => s.map((r) => ({ r, i })));
  for (let a = 0; a < all.length; a++) {
    for (let b = a + 1; b < all.length; b++) {
      if (overlaps(all[a]!.r, all[b]!.r)) {
        throw configError('ipam.ranges', `non-overlapping ranges (range set ${all[a]!.i} overlaps with ${all[b]!.i})`);
      }
    }
  }
  return sets;
}

const ROUTE_INTS = { mtu: [0, 2 ** 31 - 1], advmss: [0, 2 ** 31 - 1], priority: [0, 2 ** 32 - 1], table: [0, 2 ** 32 - 1], scope: [0, 255] } as const;

/** One route of the config, checked, with its 1.1.0 attributes kept (the result drops them below 1.1.0). */
function route(r: unknown, field: string): Route {
  if (!isObject(r)) throw configError(field, 'an object {dst, gw}', r);
  const dst = parsePrefix(r.dst, `${field}.dst`);
  if (r.gw !== undefined) parseIp(r.gw, `${field}.gw`);
  // As the reference prints it: the address in canonical form, its bits as written.
  const out: Route = { dst: `${formatIp(dst.bytes)}/${dst.prefix}`, ...(r.gw !== undefined ? { gw: formatIp(parseIp(r.gw, `${field}.gw`).bytes) } : {}) };
  for (const [k, [lo, hi]] of Object.entries(ROUTE_INTS)) {
    const v = r[k];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) throw configError(`${field}.${k}`, `an integer from ${lo} to ${hi}`, v);
    (out as unknown as Record<string, number>)[k] = v;
  }
  return out;
}

export function parseConfig(conf: NetConf, env: CniEnv): HostLocalConfig {
  if (!isObject(conf.ipam)) throw configError('ipam', 'an object (IPAM config missing)');
  const ipam = conf.ipam as Record<string, unknown>;
  const name = conf.name;
  if (typeof name !== 'string' || !NETWORK_NAME_RE.test(name)) throw configError('name', 'a network name of letters, digits, _ . -', name);
  const dataDir = ipam.dataDir ?? DEFAULT_DATA_DIR;
  if (typeof dataDir !== 'string' || !dataDir.startsWith('/')) throw configError('ipam.dataDir', 'an absolute path', dataDir);
  if (ipam.resolvConf !== undefined && typeof ipam.resolvConf !== 'string') throw configError('ipam.resolvConf', 'a file path', ipam.resolvConf);
  const routes = (ipam.routes ?? []) as unknown;
  if (!Array.isArray(routes)) throw configError('ipam.routes', 'an array of {dst, gw}', routes);
  const checkedRoutes = routes.map((r, i) => route(r, `ipam.routes[${i}]`));
  const sets = rangeSets(ipam, conf.runtimeConfig);
  const perFamily = (f: number) => sets.filter((s) => s[0]!.family === f).length;
  if ((perFamily(4) > 1 || perFamily(6) > 1) && isLegacy(conf.cniVersion)) {
    throw new CniError(ErrorCode.InvalidNetworkConfig, `CNI version ${conf.cniVersion ?? '(none)'} does not support more than 1 address per family`);
  }
  return {
    name,
    cniVersion: conf.cniVersion,
    dataDir,
    rangeSets: sets,
    routes: checkedRoutes,
    resolvConf: ipam.resolvConf as string | undefined,
    requested: requestedIps(conf, env),
  };
}
