// Shared pieces of the iptables integration tests: the port mapper's transaction shapes and an
// independent byte-level view of a table.
import { execInNetns, type Netns } from '../../../lib/netns/index.js';
import type { Backend, Family, Op, Transaction } from '../../../lib/iptables/index.js';

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
