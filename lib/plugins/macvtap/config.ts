// macvtap plugin configuration: upstream's fields (master, mode, mtu, mac, hostrouteif,
// hostrouteip, ipam) with their defaults, plus dataDir for the host-route records. All defaulting
// and validation happens here, before any side effect.
import { isObject, type NetConf } from '../../cni/config.js';
import { CniError, configError, ErrorCode } from '../../cni/errors.js';
import type { Dns } from '../../cni/result.js';
import { formatIp, parseIp, type IpAddr } from '../../ip.js';
import { IFNAME_EXPECTED, isIfname } from '../../netlink/validate.js';

export const MODES = ['bridge', 'private', 'vepa', 'passthru'] as const;
export type MacvtapMode = (typeof MODES)[number];
export const DEFAULT_DATA_DIR = '/var/lib/cni/macvtap';

export interface MacvtapConfig {
  name: string;
  cniVersion: string | undefined;
  /** The host interface the macvtap sits on. */
  master: string;
  mode: MacvtapMode;
  /** undefined: the kernel's default (the master's MTU). */
  mtu: number | undefined;
  mac: string | undefined;
  /** Host interface (a spare macvtap/macvlan on the same master) that routes to the container. */
  hostRouteIf: string | undefined;
  /** The host's (agent's) address: enables per-interface source routing in the container. */
  hostRouteIp: IpAddr | undefined;
  ipamType: string;
  /** Where each attachment's host routes are recorded, so DEL finds them without the netns. */
  dataDir: string;
  /** The config's dns, reported instead of the IPAM's when given. */
  dns: Dns | undefined;
}

// The CNI spec's network name pattern; the name is also a directory under dataDir.
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

function ifnameField(c: Record<string, unknown>, k: string): string | undefined {
  const v = c[k];
  if (v === undefined || v === '') return undefined;
  if (!isIfname(v)) throw configError(k, IFNAME_EXPECTED, v);
  return v;
}

export function parseConfig(conf: NetConf): MacvtapConfig {
  const c = conf as Record<string, unknown>;
  if (typeof conf.name !== 'string' || !NAME_RE.test(conf.name)) throw configError('name', 'a network name of letters, digits, _ . -', conf.name);
  if (c.master === undefined || c.master === '') {
    // Upstream's text. Its README promised a default-route interface as default; it never had one.
    throw new CniError(ErrorCode.InvalidNetworkConfig, '"master" field is required. It specifies the host interface name to virtualize');
  }
  const master = ifnameField(c, 'master')!;
  const mode = c.mode === undefined || c.mode === '' ? 'bridge' : c.mode;
  if (typeof mode !== 'string' || !(MODES as readonly string[]).includes(mode)) throw configError('mode', `one of ${MODES.join(', ')}`, mode);
  let mtu: number | undefined;
  if (c.mtu !== undefined && c.mtu !== 0) {
    if (typeof c.mtu !== 'number' || !Number.isInteger(c.mtu) || c.mtu < 68 || c.mtu > 65535) throw configError('mtu', 'an integer from 68 to 65535 (or 0: the master\'s MTU)', c.mtu);
    mtu = c.mtu;
  }
  let mac: string | undefined;
  if (c.mac !== undefined && c.mac !== '') {
    // The kernel refuses a multicast address on a link; say so before anything is created.
    if (typeof c.mac !== 'string' || !/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(c.mac) || (parseInt(c.mac.slice(0, 2), 16) & 1) === 1) {
      throw configError('mac', 'a unicast MAC address like 02:00:00:00:00:01', c.mac);
    }
    mac = c.mac.toLowerCase();
  }
  const hostRouteIf = ifnameField(c, 'hostrouteif');
  let hostRouteIp: IpAddr | undefined;
  if (c.hostrouteip !== undefined && c.hostrouteip !== '') {
    try {
      const ip = parseIp(c.hostrouteip, 'hostrouteip');
      hostRouteIp = { ...ip, text: formatIp(ip.bytes) };
    } catch {
      throw configError('hostrouteip', "an IPv4 or IPv6 address (the host's, without a prefix)", c.hostrouteip);
    }
  }
  if (!isObject(conf.ipam) || typeof conf.ipam.type !== 'string' || conf.ipam.type === '') {
    throw configError('ipam.type', 'the IPAM plugin to use (e.g. "host-local")', isObject(conf.ipam) ? conf.ipam.type : conf.ipam);
  }
  const dataDir = c.dataDir ?? DEFAULT_DATA_DIR;
  if (typeof dataDir !== 'string' || !dataDir.startsWith('/')) throw configError('dataDir', 'an absolute path', dataDir);
  if (conf.dns !== undefined && !isObject(conf.dns)) throw configError('dns', 'an object {nameservers, domain, search, options}', conf.dns);
  return {
    name: conf.name,
    cniVersion: conf.cniVersion,
    master,
    mode: mode as MacvtapMode,
    mtu,
    mac,
    hostRouteIf,
    hostRouteIp,
    ipamType: conf.ipam.type,
    dataDir,
    dns: conf.dns && Object.keys(conf.dns).length ? conf.dns : undefined,
  };
}
