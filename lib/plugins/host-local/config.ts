// host-local configuration: the reference plugin's fields (subnet/rangeStart/rangeEnd/gateway or
// ranges, routes, dataDir, resolvConf) and requested IPs from CNI_ARGS IP=, args.cni.ips and
// runtimeConfig.ips. All defaulting and validation happens here.
import type { CniEnv } from '../../cni/env.js';
import { configError, CniError, ErrorCode, InputError } from '../../cni/errors.js';
import { isObject, type NetConf } from '../../cni/config.js';
import { isLegacy } from '../../cni/version.js';
import { parseIp, parsePrefix, type IpAddr } from '../../netlink/ip.js';
import { canonicalize, overlaps, type RangeSet, type RawRange } from './range.js';

export const DEFAULT_DATA_DIR = '/var/lib/cni/networks';

export interface HostLocalConfig {
  name: string;
  cniVersion: string | undefined;
  dataDir: string;
  rangeSets: RangeSet[];
  routes: { dst: string; gw?: string }[];
  resolvConf: string | undefined;
  /** Addresses asked for, in the order CNI_ARGS, args.cni.ips, runtimeConfig.ips. */
  requested: IpAddr[];
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

function requestedIps(conf: NetConf, env: CniEnv): IpAddr[] {
  const out: IpAddr[] = [];
  const ignoreUnknown = env.args.some(([k, v]) => k.toLowerCase() === 'ignoreunknown' && /^(1|true)$/i.test(v));
  for (const [k, v] of env.args) {
    if (k === 'IP') out.push(parseIp(v, 'CNI_ARGS IP'));
    else if (k.toLowerCase() !== 'ignoreunknown' && !ignoreUnknown) {
      throw new InputError(ErrorCode.InvalidEnvironment, `CNI_ARGS: unknown key ${JSON.stringify(k)} (set IgnoreUnknown=1 to allow keys meant for other plugins)`);
    }
  }
  const cni = isObject(conf.args) && isObject(conf.args.cni) ? conf.args.cni : undefined;
  if (cni?.ips !== undefined) {
    if (!Array.isArray(cni.ips)) throw configError('args.cni.ips', 'an array of IP addresses', cni.ips);
    cni.ips.forEach((ip, i) => out.push(parseIp(ip, `args.cni.ips[${i}]`)));
  }
  const rt = conf.runtimeConfig?.ips;
  if (rt !== undefined) {
    if (!Array.isArray(rt)) throw configError('runtimeConfig.ips', 'an array of IP addresses', rt);
    // The "ips" capability allows a prefix ("10.0.0.2/24"); only the address is requested.
    rt.forEach((ip, i) => out.push(parsePrefix(ip, `runtimeConfig.ips[${i}]`)));
  }
  return out;
}

function rangeSets(ipam: Record<string, unknown>): RangeSet[] {
  const sets: RangeSet[] = [];
  if (ipam.subnet !== undefined) sets.push([canonicalize(ipam as RawRange, 'ipam')]);
  if (ipam.ranges !== undefined) {
    if (!Array.isArray(ipam.ranges)) throw configError('ipam.ranges', 'an array of range sets (arrays of ranges)', ipam.ranges);
    ipam.ranges.forEach((set, i) => {
      if (!Array.isArray(set) || set.length === 0) throw configError(`ipam.ranges[${i}]`, 'a non-empty array of ranges', set);
      const rs = set.map((r, j) => {
        if (!isObject(r)) throw configError(`ipam.ranges[${i}][${j}]`, 'an object with subnet', r);
        return canonicalize(r as RawRange, `ipam.ranges[${i}][${j}]`);
      });
      if (rs.some((r) => r.family !== rs[0]!.family)) throw configError(`ipam.ranges[${i}]`, 'ranges of one address family');
      sets.push(rs);
    });
  }
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

export function parseConfig(conf: NetConf, env: CniEnv): HostLocalConfig {
  if (!isObject(conf.ipam)) throw configError('ipam', 'an object (IPAM config missing)');
  const ipam = conf.ipam as Record<string, unknown>;
  const name = conf.name;
  if (typeof name !== 'string' || !NAME_RE.test(name)) throw configError('name', 'a network name of letters, digits, _ . -', name);
  const dataDir = ipam.dataDir ?? DEFAULT_DATA_DIR;
  if (typeof dataDir !== 'string' || !dataDir.startsWith('/')) throw configError('ipam.dataDir', 'an absolute path', dataDir);
  if (ipam.resolvConf !== undefined && typeof ipam.resolvConf !== 'string') throw configError('ipam.resolvConf', 'a file path', ipam.resolvConf);
  const routes = (ipam.routes ?? []) as unknown;
  if (!Array.isArray(routes)) throw configError('ipam.routes', 'an array of {dst, gw}', routes);
  const checkedRoutes = routes.map((r, i) => {
    if (!isObject(r)) throw configError(`ipam.routes[${i}]`, 'an object {dst, gw}', r);
    const dst = parsePrefix(r.dst, `ipam.routes[${i}].dst`);
    if (r.gw !== undefined) parseIp(r.gw, `ipam.routes[${i}].gw`);
    return { dst: `${dst.text.split('/')[0]}/${dst.prefix}`, ...(r.gw !== undefined ? { gw: r.gw as string } : {}) };
  });
  const sets = rangeSets(ipam);
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
