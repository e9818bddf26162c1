// bridge plugin configuration: the reference plugin's fields that Mesos/DC/OS networks use, with
// its defaults (bridge "cni0"; isDefaultGateway implies isGateway). Fields of the reference we do
// not implement are refused (code 2), never silently ignored.
import { isObject, type NetConf } from '../../cni/config.js';
import { CniError, configError, ErrorCode } from '../../cni/errors.js';
import { isIfname } from '../../netlink/validate.js';

export const DEFAULT_BRIDGE = 'cni0';

export interface BridgeConfig {
  name: string;
  cniVersion: string | undefined;
  bridge: string;
  isGateway: boolean;
  isDefaultGateway: boolean;
  forceAddress: boolean;
  ipMasq: boolean;
  /** undefined: the kernel's default (1500). */
  mtu: number | undefined;
  hairpinMode: boolean;
  promiscMode: boolean;
  /** Container MAC from runtimeConfig.mac (the "mac" capability). */
  mac: string | undefined;
  ipamType: string;
}

const UNSUPPORTED = ['vlan', 'vlanTrunk', 'preserveDefaultVlan', 'macspoofchk', 'disableContainerInterface', 'portIsolation', 'enabledad'];

function flag(c: Record<string, unknown>, k: string): boolean {
  const v = c[k];
  if (v === undefined) return false;
  if (typeof v !== 'boolean') throw configError(k, 'true or false', v);
  return v;
}

export function parseConfig(conf: NetConf): BridgeConfig {
  const c = conf as Record<string, unknown>;
  if (typeof conf.name !== 'string' || conf.name === '') throw configError('name', 'a network name', conf.name);
  for (const k of UNSUPPORTED) {
    if (c[k] !== undefined && c[k] !== false && c[k] !== 0) {
      throw new CniError(ErrorCode.UnsupportedField, `${k}: not supported by this bridge plugin`, `remove "${k}" from the network config`);
    }
  }
  const bridge = c.bridge ?? DEFAULT_BRIDGE;
  if (!isIfname(bridge)) throw configError('bridge', "an interface name of 1-15 characters without '/', ':', '%' or whitespace", bridge);
  let mtu: number | undefined;
  if (c.mtu !== undefined && c.mtu !== 0) {
    if (typeof c.mtu !== 'number' || !Number.isInteger(c.mtu) || c.mtu < 68 || c.mtu > 65535) throw configError('mtu', 'an integer from 68 to 65535', c.mtu);
    mtu = c.mtu;
  }
  const isDefaultGateway = flag(c, 'isDefaultGateway');
  const hairpinMode = flag(c, 'hairpinMode');
  const promiscMode = flag(c, 'promiscMode');
  if (hairpinMode && promiscMode) throw configError('hairpinMode', 'not both hairpinMode and promiscMode (the reference refuses it too)');
  if (!isObject(conf.ipam) || typeof conf.ipam.type !== 'string' || conf.ipam.type === '') {
    throw configError('ipam.type', 'the IPAM plugin to use (e.g. "host-local")', isObject(conf.ipam) ? conf.ipam.type : conf.ipam);
  }
  const mac = conf.runtimeConfig?.mac;
  if (mac !== undefined && (typeof mac !== 'string' || !/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(mac))) {
    throw configError('runtimeConfig.mac', 'a MAC address like 02:00:00:00:00:01', mac);
  }
  return {
    name: conf.name,
    cniVersion: conf.cniVersion,
    bridge,
    isGateway: flag(c, 'isGateway') || isDefaultGateway,
    isDefaultGateway,
    forceAddress: flag(c, 'forceAddress'),
    ipMasq: flag(c, 'ipMasq'),
    mtu,
    hairpinMode,
    promiscMode,
    mac: mac as string | undefined,
    ipamType: conf.ipam.type,
  };
}
