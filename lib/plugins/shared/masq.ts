// IP masquerade for a container's addresses, as the reference plugins' ipmasq does it: a chain of
// the attachment's own that accepts traffic to the container's subnet and masquerades the rest (not
// multicast), jumped to from POSTROUTING for the container's address. Added in one iptables-restore
// transaction per family, removed in one, every rule tagged.
import { createHash } from 'node:crypto';
import type { Netns } from '../../netns/netns.js';
import { isComment, missing, removeTagged, restore, type Rule } from '../../iptables/index.js';
import { networkOf, parsePrefix } from '../../ip.js';

export interface MasqTarget {
  network: string;
  containerId: string;
}

type Family = 4 | 6;
const familyOf = (address: string): Family => (address.includes(':') ? 6 : 4);

/** The reference plugin's chain name: CNI- + 24 hex chars of sha512(network + containerID). */
export function chainName(t: MasqTarget): string {
  return 'CNI-' + createHash('sha512').update(t.network + t.containerId).digest('hex').slice(0, 24);
}

/**
 * The tag every rule of this attachment carries: `mesos-cni bridge: <network> id: <containerID>`,
 * or, when that is no valid comment (over 255 characters, or a network name holding a quote, a
 * backslash or a control character), `mesos-cni bridge: <chain name>`, unique as well. A tag is
 * never refused, so ADD never fails on it and DEL always finds what ADD wrote.
 */
export function tag(t: MasqTarget): string {
  const readable = `mesos-cni bridge: ${t.network} id: ${t.containerId}`;
  return isComment(readable) ? readable : `mesos-cni bridge: ${chainName(t)}`;
}

/** The rules for one container address ("10.1.0.5/24"). */
export function masqRules(t: MasqTarget, address: string): { family: Family; rules: Rule[] } {
  const p = parsePrefix(address, 'ip');
  const chain = chainName(t);
  const comment = tag(t);
  const host = `${p.text.split('/')[0]}/${p.family === 4 ? 32 : 128}`;
  return {
    family: p.family,
    rules: [
      { chain, destination: networkOf(p).text, comment, target: { kind: 'ACCEPT' } },
      { chain, destination: { not: p.family === 4 ? '224.0.0.0/4' : 'ff00::/8' }, comment, target: { kind: 'MASQUERADE' } },
      { chain: 'POSTROUTING', source: host, comment, target: { kind: 'jump', chain } },
    ],
  };
}

function rulesOf(t: MasqTarget, addresses: readonly string[], family: Family): Rule[] {
  return addresses.filter((a) => familyOf(a) === family).flatMap((a) => masqRules(t, a).rules);
}

/** Install the rules for every address, one transaction per family. */
export async function setupMasq(host: Netns, t: MasqTarget, addresses: readonly string[]): Promise<void> {
  for (const family of [4, 6] as const) {
    const rules = rulesOf(t, addresses, family);
    if (rules.length === 0) continue;
    // The chain is this attachment's alone, so declaring it (which flushes it) is right.
    await restore(host, { family, table: 'nat', own: [chainName(t)], ops: rules.map((rule) => ({ op: 'append', rule })) });
  }
}

/**
 * Remove the jump and the chain, one transaction per family that has any; nothing when gone.
 * `addresses`: what the container still held, when known (its link still there): only their
 * families are looked at, and where rules are not found by tag over netlink they are deleted
 * exactly from these without reading the table. Unknown: both families, read.
 */
export async function teardownMasq(host: Netns, t: MasqTarget, addresses?: readonly string[]): Promise<void> {
  const held = [...new Set((addresses ?? []).map(familyOf))];
  for (const family of held.length ? held : ([4, 6] as const)) {
    await removeTagged(host, family, 'nat', { chains: ['POSTROUTING'], tag: tag(t), drop: [chainName(t)], known: async () => rulesOf(t, addresses ?? [], family) });
  }
}

/** Which of the expected rules are missing (for CHECK). */
export async function missingMasq(host: Netns, t: MasqTarget, addresses: readonly string[]): Promise<Rule[]> {
  const out: Rule[] = [];
  for (const family of [4, 6] as const) {
    const rules = rulesOf(t, addresses, family);
    if (rules.length) out.push(...(await missing(host, family, 'nat', rules)));
  }
  return out;
}
