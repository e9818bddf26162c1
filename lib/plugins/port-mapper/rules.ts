// The rules one container's port mappings become, as typed rules (pure). DNAT rules keep the
// C++ plugin's exact shape and tag, so an agent upgraded from it can DEL what it attached:
//   -A CHAIN ! -i DEV -p tcp -m tcp --dport H -m comment --comment "container_id: ID" -j DNAT --to-destination IP:P
// Several excluded devices: `! -i` takes one device, so each extra one gets a RETURN rule of the
// same container and port just before the DNAT rule (appended together, in one transaction).
import type { Rule } from '../../iptables/index.js';
import { formatIp, networkOf, type IpPrefix } from '../../ip.js';
import type { Mapping } from './mappings.js';

export const TAG_PREFIX = 'container_id: ';

/** The comment every rule of a container carries (exactly upstream's). */
export const tag = (containerId: string): string => `${TAG_PREFIX}${containerId}`;

/** The two jumps into the chain, committed with its `-N` (upstream's shapes; `::1` for IPv6). */
export function jumps(chain: string, family: 4 | 6): Rule[] {
  const target = { kind: 'jump', chain } as const;
  return [
    { chain: 'PREROUTING', addrType: { dst: 'LOCAL' }, target },
    { chain: 'OUTPUT', destination: { not: family === 4 ? '127.0.0.0/8' : '::1/128' }, addrType: { dst: 'LOCAL' }, target },
  ];
}

export interface RuleInput {
  chain: string;
  excludeDevices: readonly string[];
  snat: boolean;
  mappings: readonly Mapping[];
}

export interface FamilyRules {
  family: 4 | 6;
  /** Appended to the shared chain, in this order. */
  chain: Rule[];
  /** Inserted at the head of POSTROUTING (snat only): ahead of the bridge's masquerade chain,
   *  whose ACCEPT for same-subnet traffic would otherwise end the nat walk first. */
  postrouting: Rule[];
}

const hostIpFamily = (ip: string): 4 | 6 => (ip.includes(':') ? 6 : 4);

/** A container's rules in the family of `address` (the delegate's CIDR, e.g. 10.1.0.5/24). */
export function containerRules(cfg: RuleInput, containerId: string, address: IpPrefix): FamilyRules {
  const comment = tag(containerId);
  const ip = formatIp(address.bytes);
  const out: FamilyRules = { family: address.family, chain: [], postrouting: [] };
  const seen = new Set<string>();
  const once = (list: Rule[], r: Rule) => {
    const k = JSON.stringify(r);
    if (!seen.has(k)) list.push(r), seen.add(k);
  };
  const devices = cfg.excludeDevices;
  for (const m of cfg.mappings) {
    if (m.hostIP !== undefined && hostIpFamily(m.hostIP) !== address.family) continue;
    const match = { chain: cfg.chain, ...(m.hostIP !== undefined ? { destination: m.hostIP } : {}), protocol: m.protocol, dport: m.hostPort, comment };
    for (const dev of devices.slice(0, -1)) once(out.chain, { ...match, inInterface: dev, target: { kind: 'RETURN' } });
    const last = devices[devices.length - 1];
    once(out.chain, { ...match, ...(last !== undefined ? { inInterface: { not: last } } : {}), target: { kind: 'DNAT', ip, port: m.containerPort } });
    if (cfg.snat) {
      // Only hairpin traffic (from the container's own subnet) is masqueraded: outside clients
      // keep their source address.
      once(out.postrouting, {
        chain: 'POSTROUTING',
        source: networkOf(address).text,
        destination: ip,
        protocol: m.protocol,
        dport: m.containerPort,
        ctState: ['DNAT'],
        comment,
        target: { kind: 'MASQUERADE' },
      });
    }
  }
  return out;
}
