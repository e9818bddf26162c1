// CNI results for every spec version, and conversion between them in both directions:
// 0.1/0.2 `ip4/ip6/dns` ⇄ 0.3+ `interfaces/ips/routes/dns` (as libcni's convert does).
import { isIPv4 } from '../ip.js';
import { CniError, ErrorCode } from './errors.js';
import { compareVersions, isLegacy, isSupported } from './version.js';

export interface Dns {
  nameservers?: string[];
  domain?: string;
  search?: string[];
  options?: string[];
}
export interface Route {
  dst: string;
  gw?: string;
  /** 1.1.0 route attributes. */
  mtu?: number;
  advmss?: number;
  priority?: number;
  table?: number;
  scope?: number;
}
export interface Interface {
  name: string;
  mac?: string;
  mtu?: number;
  sandbox?: string;
  socketPath?: string;
  pciID?: string;
}
export interface IpConfig {
  /** "4" or "6": present in 0.3.x/0.4.0 results only. */
  version?: '4' | '6';
  address: string;
  gateway?: string;
  interface?: number;
}
/** 0.3.0 and later. */
export interface Result {
  cniVersion: string;
  interfaces?: Interface[];
  ips?: IpConfig[];
  routes?: Route[];
  dns?: Dns;
}
export interface LegacyIp {
  ip: string;
  gateway?: string;
  routes?: { dst: string; gw?: string }[];
}
/** 0.1.0 / 0.2.0 (what Mesos reads). */
export interface LegacyResult {
  cniVersion?: string;
  ip4?: LegacyIp;
  ip6?: LegacyIp;
  dns?: Dns;
}
export type AnyResult = Result | LegacyResult;

function isV4Cidr(cidr: string): boolean {
  return isIPv4(cidr.split('/')[0] ?? '');
}

/** Any result to the 0.3+ shape with `cniVersion` = `to`. */
function toCurrent(r: AnyResult, to: string): Result {
  if ('ip4' in r || 'ip6' in r || (!('ips' in r) && !('interfaces' in r) && isLegacy(r.cniVersion))) {
    const l = r as LegacyResult;
    const ips: IpConfig[] = [];
    const routes: Route[] = [];
    for (const [ip, version] of [[l.ip4, '4'], [l.ip6, '6']] as const) {
      if (!ip) continue;
      ips.push({ version, address: ip.ip, ...(ip.gateway ? { gateway: ip.gateway } : {}) });
      for (const rt of ip.routes ?? []) routes.push({ dst: rt.dst, ...(rt.gw ? { gw: rt.gw } : {}) });
    }
    return finish({ cniVersion: to, ips, routes, ...(l.dns ? { dns: l.dns } : {}) }, to);
  }
  return finish({ ...(r as Result), cniVersion: to }, to);
}

/** Adjust per-version details: `ips[].version` exists only before 1.0.0; 1.1 route fields only from 1.1.0. */
function finish(r: Result, to: string): Result {
  const withVersion = compareVersions(to, '1.0.0') < 0;
  const out: Result = { cniVersion: to };
  // mtu, socketPath and pciID are 1.1.0 interface fields; before it an interface is name, mac, sandbox.
  const v11 = compareVersions(to, '1.1.0') >= 0;
  if (r.interfaces) {
    out.interfaces = r.interfaces.map(({ mtu, socketPath, pciID, ...i }) => (v11 ? { ...i, ...defined({ mtu, socketPath, pciID }) } : { ...i }));
  }
  if (r.ips) {
    out.ips = r.ips.map(({ version: _v, ...ip }) =>
      withVersion ? { version: isV4Cidr(ip.address) ? '4' : '6', ...ip } : ip,
    );
  }
  if (r.routes) {
    out.routes = r.routes.map((rt) =>
      compareVersions(to, '1.1.0') >= 0 ? { ...rt } : { dst: rt.dst, ...(rt.gw ? { gw: rt.gw } : {}) },
    );
  }
  if (r.dns && Object.keys(r.dns).length) out.dns = { ...r.dns };
  return out;
}

function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** A 0.3+ result to 0.1/0.2: the first IPv4 and IPv6 address, routes split by family. */
function toLegacy(r: Result, to: string | undefined): LegacyResult {
  const out: LegacyResult = to ? { cniVersion: to } : {};
  for (const ip of r.ips ?? []) {
    const key = isV4Cidr(ip.address) ? 'ip4' : 'ip6';
    if (!out[key]) out[key] = { ip: ip.address, ...(ip.gateway ? { gateway: ip.gateway } : {}) };
  }
  if (!out.ip4 && !out.ip6) {
    throw new CniError(ErrorCode.IncompatibleVersion, `cannot convert result to version ${to ?? '0.2.0'}: no IP addresses`);
  }
  for (const rt of r.routes ?? []) {
    const ip = isV4Cidr(rt.dst) ? out.ip4 : out.ip6;
    if (ip) (ip.routes ??= []).push({ dst: rt.dst, ...(rt.gw ? { gw: rt.gw } : {}) });
  }
  if (r.dns) out.dns = { ...r.dns };
  return out;
}

/**
 * Convert a result (any version) to version `to`. `to` undefined means the legacy shape without a
 * `cniVersion` key — what a plugin whose config has no cniVersion answers (Mesos' contract).
 */
export function convertResult(r: AnyResult, to: string | undefined): AnyResult {
  if (to !== undefined && !isSupported(to)) {
    throw new CniError(ErrorCode.IncompatibleVersion, `cannot convert result to unsupported version ${JSON.stringify(to)}`);
  }
  if (isLegacy(to)) {
    // Keep a legacy result as it is (an empty dns {} included, as Mesos' port-mapper does).
    if (('ip4' in r || 'ip6' in r) && !('ips' in r)) {
      const { cniVersion: _c, ...rest } = r as LegacyResult;
      return to ? { cniVersion: to, ...rest } : rest;
    }
    return toLegacy(toCurrent(r, '1.1.0'), to);
  }
  return toCurrent(r, to!);
}

/** Parse a delegate's stdout as a result; code 6 (decode) when it is not a JSON object. */
export function parseResult(text: string, who: string): AnyResult {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new CniError(ErrorCode.DecodeFailure, `${who}: result is not JSON`, (e as Error).message);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new CniError(ErrorCode.DecodeFailure, `${who}: result is not a JSON object`);
  }
  return v as AnyResult;
}
