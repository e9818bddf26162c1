// Shared pieces of the iptables integration tests: the port mapper's transaction shapes and an
// independent byte-level view of a table.
import { execInNetns, type Netns } from '../../../lib/netns/index.js';
import type { Backend, Family, Op, Rule, Transaction } from '../../../lib/iptables/index.js';

export const BACKENDS: Backend[] = ['nft', 'legacy'];

/** `iptables-save -t TABLE` text without its timestamped comment lines, for byte comparison. */
export async function saveText(ns: Netns, family: Family, table: string, backend: Backend): Promise<string> {
  const base = family === 6 ? 'ip6tables' : 'iptables';
  const bin = backend === 'default' ? `${base}-save` : `${base}-${backend}-save`;
  const r = await execInNetns(ns, bin, ['-t', table]);
  return r.stdout
    .split('\n')
    .filter((l) => !l.startsWith('#'))
    .join('\n');
}

/** The port mapper's ADD: shared chain (+ jumps when created) and one DNAT rule per mapping. */
export function portMapperAdd(
  chain: string,
  id: string,
  maps: { host: number; ip: string; port: number; proto?: 'tcp' | 'udp' }[],
  family: Family = 4,
): Transaction {
  const jump = { kind: 'jump', chain } as const;
  const onCreate: Op[] = [
    { op: 'append', rule: { chain: 'PREROUTING', addrType: { dst: 'LOCAL' }, target: jump } },
    {
      op: 'append',
      rule: { chain: 'OUTPUT', destination: { not: family === 4 ? '127.0.0.0/8' : '::1/128' }, addrType: { dst: 'LOCAL' }, target: jump },
    },
  ];
  return {
    family,
    table: 'nat',
    shared: [{ name: chain, onCreate }],
    ops: maps.map((m) => ({
      op: 'append',
      rule: {
        chain,
        inInterface: { not: 'mesos-cni0' },
        protocol: m.proto ?? 'tcp',
        dport: m.host,
        comment: `container_id: ${id}`,
        target: { kind: 'DNAT', ip: m.ip, port: m.port },
      },
    })),
  };
}

/**
 * Every rule shape the project writes, appended to chain SH: DNAT/SNAT/MASQUERADE/MARK/ACCEPT/
 * RETURN/jump/goto (to chain OWN), -s/-d and -i/-o negated and wildcard, -p with ports (ranges,
 * negated), addrtype, the ipset `set`, mark, conntrack state, comments.
 */
export function ruleShapes(family: Family, set: string): Rule[] {
  const v4 = family === 4;
  const ip = v4 ? '10.0.0.2' : 'fd00::2';
  return [
    { chain: 'SH', inInterface: { not: 'mesos-cni0' }, protocol: 'tcp', dport: 8080, comment: 'container_id: abc', target: { kind: 'DNAT', ip, port: 80 } },
    { chain: 'SH', source: v4 ? '10.1.2.3' : 'fd00::3', destination: { not: v4 ? '127.0.0.0/8' : '::1' }, protocol: 'udp', sport: [1000, 2000], dport: { not: 53 }, target: { kind: 'RETURN' } },
    { chain: 'SH', addrType: { dst: 'LOCAL' }, target: { kind: 'jump', chain: 'OWN' } },
    { chain: 'SH', addrType: { src: { not: 'LOCAL' }, dst: 'UNICAST' }, target: { kind: 'goto', chain: 'OWN' } },
    { chain: 'SH', source: v4 ? '10.7.0.9/16' : 'fd00:1::9/64', outInterface: 'eth+', matchSet: { name: set, flags: ['dst'] }, target: { kind: 'MASQUERADE' } },
    { chain: 'SH', matchSet: { not: { name: set, flags: ['src', 'dst'] } }, target: { kind: 'MASQUERADE', random: true } },
    { chain: 'SH', mark: { value: 0x2000, mask: 0x2000 }, target: { kind: 'MARK', value: 0x2000, mask: 0x2000 } },
    { chain: 'SH', mark: { not: { value: 1 } }, target: { kind: 'MARK', value: 0x10 } },
    { chain: 'SH', ctState: ['ESTABLISHED', 'RELATED'], target: { kind: 'ACCEPT' } },
    { chain: 'SH', ctState: { not: ['NEW', 'DNAT'] }, protocol: v4 ? 'icmp' : 'icmpv6', target: { kind: 'RETURN' } },
    { chain: 'SH', protocol: 'sctp', dport: [5000, 5010], comment: "it's a test", target: { kind: 'DNAT', ip, port: [80, 90] } },
    { chain: 'SH', protocol: { not: 'tcp' }, target: { kind: 'SNAT', ip } },
    { chain: 'SH', protocol: 'udp', comment: 'simple_tag-1', target: { kind: 'SNAT', ip, port: 1024 } },
    { chain: 'SH', protocol: 'tcp', dport: 1, target: { kind: 'DNAT', ip } },
  ];
}
