// bridge plugin configuration: the reference plugin's fields with its defaults (bridge "cni0";
// isDefaultGateway implies isGateway; preserveDefaultVlan true), its checks, and the container MAC
// from its three sources. All defaulting and validation happens here, before any side effect.
import { isObject, type NetConf } from '../../cni/config.js';
import { cniArgs, type CniEnv } from '../../cni/env.js';
import { CniError, configError, ErrorCode } from '../../cni/errors.js';
import type { Dns } from '../../cni/result.js';
import { IFNAME_EXPECTED, isIfname } from '../../netlink/validate.js';

export const DEFAULT_BRIDGE = 'cni0';

export type MasqBackend = 'iptables' | 'nftables';

export interface BridgeConfig {
  name: string;
  cniVersion: string | undefined;
  bridge: string;
  isGateway: boolean;
  isDefaultGateway: boolean;
  forceAddress: boolean;
  ipMasq: boolean;
  /** Where the masquerade rules go; undefined: iptables unless only nft is installed (decided at ADD). */
  ipMasqBackend: MasqBackend | undefined;
  /** undefined: the kernel's default (1500). */
  mtu: number | undefined;
  hairpinMode: boolean;
  promiscMode: boolean;
  /** Access VLAN of the container's port (untagged); 0: none. */
  vlan: number;
  /** Trunk VLANs of the container's port (tagged), sorted, each once. */
  vlanTrunk: number[];
  /** Keep VLAN 1 (the default PVID) on a port given vlan or vlanTrunk. */
  preserveDefaultVlan: boolean;
  macSpoofCheck: boolean;
  /** Let the kernel run DAD on the container's IPv6 addresses (the reference turns it off). */
  enableDad: boolean;
  /** Leave the container interface down (L2 only). */
  disableContainerInterface: boolean;
  /** The container's port may only talk to non-isolated ports. */
  portIsolation: boolean;
  /** Container MAC: runtimeConfig.mac, else args.cni.mac, else CNI_ARGS MAC= (the reference's order). */
  mac: string | undefined;
  /** undefined: L2 only (no `ipam`, or no `ipam.type`), no addresses. */
  ipamType: string | undefined;
  /** The config's dns, reported instead of the IPAM's when set. */
  dns: Dns | undefined;
}

function flag(c: Record<string, unknown>, k: string, dflt = false): boolean {
  const v = c[k];
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') throw configError(k, 'true or false', v);
  return v;
}

const MAC_RE = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;

function macField(v: unknown, field: string): string | undefined {
  if (v === undefined || v === '') return undefined;
  // A multicast MAC is no interface address: the kernel would refuse it after the IPAM ran.
  if (typeof v !== 'string' || !MAC_RE.test(v) || (parseInt(v.slice(0, 2), 16) & 1) === 1) {
    throw configError(field, 'a unicast MAC address like 02:00:00:00:00:01', v);
  }
  return v.toLowerCase();
}

/**
 * CNI_ARGS as the reference reads them (MAC, and IgnoreUnknown for every other key). Only ADD
 * reads them: a DEL or CHECK has no use for the MAC, and refusing an attachment's DEL for a key
 * its ADD accepted (earlier versions ignored CNI_ARGS) would leave it behind.
 */
function macFromCniArgs(env: CniEnv | undefined): string | undefined {
  if (env?.command !== 'ADD') return undefined;
  const pairs = cniArgs(env);
  const ignoreUnknown = pairs.some(([k, v]) => k.toLowerCase() === 'ignoreunknown' && /^(1|true)$/i.test(v));
  let mac: string | undefined;
  for (const [k, v] of pairs) {
    if (k === 'MAC') mac = macField(v, 'CNI_ARGS MAC');
    else if (k.toLowerCase() !== 'ignoreunknown' && !ignoreUnknown) {
      throw new CniError(ErrorCode.InvalidEnvironment, `CNI_ARGS: unknown key ${JSON.stringify(k)} (set IgnoreUnknown=1 to allow keys meant for other plugins)`);
    }
  }
  return mac;
}

const vlanId = (v: unknown, field: string, min: number) => {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > 4094) throw configError(field, `a VLAN ID from ${min} to 4094`, v);
  return v;
};

/** vlanTrunk: [{id} | {minID, maxID}], as the reference collects it (sorted, each ID once). */
function trunk(v: unknown): number[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw configError('vlanTrunk', 'an array of {id} or {minID, maxID}', v);
  const ids = new Set<number>();
  v.forEach((item, i) => {
    const f = `vlanTrunk[${i}]`;
    if (!isObject(item)) throw configError(f, 'an object {id} or {minID, maxID}', item);
    const { minID, maxID, id } = item;
    if ((minID === undefined) !== (maxID === undefined)) {
      throw configError(`${f}.${minID === undefined ? 'minID' : 'maxID'}`, 'minID and maxID together');
    }
    if (minID !== undefined) {
      const lo = vlanId(minID, `${f}.minID`, 1);
      const hi = vlanId(maxID, `${f}.maxID`, 1);
      if (hi < lo) throw configError(`${f}.minID`, `at most maxID ${hi}`, lo);
      for (let x = lo; x <= hi; x++) ids.add(x);
    }
    if (id !== undefined) ids.add(vlanId(id, `${f}.id`, 1));
  });
  return [...ids].sort((a, b) => a - b);
}

/** `env`: the call's environment (CNI_ARGS MAC=); without it only the config's sources count. */
export function parseConfig(conf: NetConf, env?: CniEnv): BridgeConfig {
  const c = conf as Record<string, unknown>;
  if (typeof conf.name !== 'string' || conf.name === '') throw configError('name', 'a network name', conf.name);
  const bridge = c.bridge ?? DEFAULT_BRIDGE;
  if (!isIfname(bridge)) throw configError('bridge', IFNAME_EXPECTED, bridge);
  let mtu: number | undefined;
  if (c.mtu !== undefined && c.mtu !== 0) {
    if (typeof c.mtu !== 'number' || !Number.isInteger(c.mtu) || c.mtu < 68 || c.mtu > 65535) throw configError('mtu', 'an integer from 68 to 65535', c.mtu);
    mtu = c.mtu;
  }
  const isDefaultGateway = flag(c, 'isDefaultGateway');
  const hairpinMode = flag(c, 'hairpinMode');
  const promiscMode = flag(c, 'promiscMode');
  if (hairpinMode && promiscMode) throw configError('hairpinMode', 'not both hairpinMode and promiscMode (the reference refuses it too)');
  // L2 only, as the reference: no ipam, `"ipam": {}`, or no ipam.type.
  if (conf.ipam !== undefined && !isObject(conf.ipam)) throw configError('ipam', 'an object (or {} for an L2-only network)', conf.ipam);
  const ipamType = conf.ipam?.type;
  if (ipamType !== undefined && typeof ipamType !== 'string') throw configError('ipam.type', 'the IPAM plugin to use (e.g. "host-local")', ipamType);
  const disableContainerInterface = flag(c, 'disableContainerInterface');
  if (disableContainerInterface && ipamType) {
    throw configError('disableContainerInterface', 'no ipam with it (a container interface left down cannot use addresses)');
  }
  const vlan = c.vlan === undefined || c.vlan === null ? 0 : vlanId(c.vlan, 'vlan', 0);
  const vlanTrunk = trunk(c.vlanTrunk);
  if (vlan > 0 && vlanTrunk.length) throw configError('vlan', 'not both vlan and vlanTrunk (a port is an access or a trunk port)');
  let ipMasqBackend: MasqBackend | undefined;
  if (c.ipMasqBackend !== undefined && c.ipMasqBackend !== null) {
    if (c.ipMasqBackend !== 'iptables' && c.ipMasqBackend !== 'nftables') throw configError('ipMasqBackend', '"iptables" or "nftables"', c.ipMasqBackend);
    ipMasqBackend = c.ipMasqBackend;
  }
  const argsCni = isObject(conf.args) && isObject(conf.args.cni) ? conf.args.cni : undefined;
  const mac = macField(conf.runtimeConfig?.mac, 'runtimeConfig.mac') ?? macField(argsCni?.mac, 'args.cni.mac') ?? macFromCniArgs(env);
  if (conf.dns !== undefined && !isObject(conf.dns)) throw configError('dns', 'an object {nameservers, domain, search, options}', conf.dns);
  const dnsSet = conf.dns && Object.values(conf.dns).some((v) => (Array.isArray(v) ? v.length > 0 : v !== undefined && v !== ''));
  return {
    name: conf.name,
    cniVersion: conf.cniVersion,
    bridge,
    isGateway: flag(c, 'isGateway') || isDefaultGateway,
    isDefaultGateway,
    forceAddress: flag(c, 'forceAddress'),
    ipMasq: flag(c, 'ipMasq'),
    ipMasqBackend,
    mtu,
    hairpinMode,
    promiscMode,
    vlan,
    vlanTrunk,
    preserveDefaultVlan: flag(c, 'preserveDefaultVlan', true),
    macSpoofCheck: flag(c, 'macspoofchk'),
    enableDad: flag(c, 'enabledad'),
    disableContainerInterface,
    portIsolation: flag(c, 'portIsolation'),
    mac,
    ipamType: ipamType || undefined,
    dns: dnsSet ? conf.dns : undefined,
  };
}
