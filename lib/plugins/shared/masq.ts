// IP masquerade for a container's addresses, as the reference plugins' ipmasq does it: a chain of
// the attachment's own that accepts traffic to the container's subnet and masquerades the rest (not
// multicast), jumped to from POSTROUTING for the container's address. Added in one iptables-restore
// transaction per family, removed in one, every rule tagged.
import type { Netns } from '../../netns/netns.js';
import { isComment, missing, removeTagged, restore, tagsWithPrefix, type Rule } from '../../iptables/index.js';
import { networkOf, parsePrefix } from '../../ip.js';
import { allSettledOrThrow } from '../../util/settle.js';
import { sha256Hex, sha512Hex } from '../../util/digest.js';

export interface MasqTarget {
  network: string;
  containerId: string;
}

type Family = 4 | 6;
const familyOf = (address: string): Family => (address.includes(':') ? 6 : 4);

/** The reference plugin's chain name: CNI- + 24 hex chars of sha512(network + containerID). */
export function chainName(t: MasqTarget): string {
  return 'CNI-' + sha512Hex(t.network + t.containerId).slice(0, 24);
}

const TAG_PREFIX = 'mesos-cni bridge: ';

/** 16 hex characters naming a network in a tag that cannot hold its name. */
const networkHash = (network: string) => sha256Hex(network).slice(0, 16);

/**
 * The tag every rule of this attachment carries: `mesos-cni bridge: <network> id: <containerID>`,
 * or, when that is no valid comment (over 255 characters, or a network name holding a quote, a
 * backslash or a control character), `mesos-cni bridge: <chain name> net: <16 hex of the network>`,
 * unique as well. A tag is never refused, so ADD never fails on it and DEL always finds what ADD
 * wrote; and either form says which network and attachment a rule belongs to, so a GC finds the
 * stale ones (a container ID holds no space, so ` id: ` splits the readable form exactly).
 */
export function tag(t: MasqTarget): string {
  const readable = `${TAG_PREFIX}${t.network} id: ${t.containerId}`;
  return isComment(readable) ? readable : `${TAG_PREFIX}${chainName(t)} net: ${networkHash(t.network)}`;
}

/** The fallback tag of earlier versions (no network): still removed by DEL. */
const legacyTag = (t: MasqTarget) => `${TAG_PREFIX}${chainName(t)}`;

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

/**
 * Install the rules for every address, one transaction per family, each checked and rendered at
 * once and written once `after` settles (restore's `after`).
 */
export async function setupMasq(host: Netns, t: MasqTarget, addresses: readonly string[], after?: PromiseLike<unknown>): Promise<void> {
  const writes = ([4, 6] as const).map((family) => {
    const rules = rulesOf(t, addresses, family);
    // The chain is this attachment's alone, so declaring it (which flushes it) is right.
    return rules.length ? restore(host, { family, table: 'nat', own: [chainName(t)], ops: rules.map((rule) => ({ op: 'append', rule })) }, { after }) : undefined;
  });
  await allSettledOrThrow(writes);
}

/**
 * Remove the jump and the chain, one transaction per family that has any; nothing when gone.
 * `addresses`: what the container still held, when known (its link still there): only their
 * families are looked at, and where rules are not found by tag over netlink they are deleted
 * exactly from these without reading the table. Unknown: both families, read.
 */
export async function teardownMasq(host: Netns, t: MasqTarget, addresses?: readonly string[]): Promise<void> {
  const held = [...new Set((addresses ?? []).map(familyOf))];
  const hashed = tag(t) !== `${TAG_PREFIX}${t.network} id: ${t.containerId}`;
  for (const family of held.length ? held : ([4, 6] as const)) {
    await removeTagged(host, family, 'nat', { chains: ['POSTROUTING'], tag: tag(t), drop: [chainName(t)], known: async () => rulesOf(t, addresses ?? [], family) });
    // A jump an earlier version tagged without the network (the chain went above).
    if (hashed) await removeTagged(host, family, 'nat', { chains: ['POSTROUTING'], tag: legacyTag(t) });
  }
}

/**
 * GC: remove the rules and chains of `network`'s attachments whose container is not among `valid`
 * (container IDs; the reference names the chain by network and container, so one container's
 * attachments of a network share it). Both families; returns what went (IDs, or chains where the
 * tag held only the chain).
 */
export async function collectMasq(host: Netns, network: string, valid: readonly string[]): Promise<string[]> {
  const keep = new Set(valid);
  // Hashed tags name the chain: the chains of the valid containers are the ones to keep.
  const keptChains = new Set(valid.map((containerId) => chainName({ network, containerId })));
  const gone = new Set<string>();
  for (const family of [4, 6] as const) {
    for (const t of await tagsWithPrefix(host, family, 'nat', ['POSTROUTING'], TAG_PREFIX)) {
      const rest = t.slice(TAG_PREFIX.length);
      const at = rest.lastIndexOf(' id: ');
      const hashed = /^(CNI-[0-9a-f]{24}) net: ([0-9a-f]{16})$/.exec(rest);
      if (hashed) {
        if (hashed[2] !== networkHash(network) || keptChains.has(hashed[1]!)) continue;
        await removeTagged(host, family, 'nat', { chains: ['POSTROUTING'], tag: t, drop: [hashed[1]!] });
        gone.add(hashed[1]!);
      } else if (at > 0 && rest.slice(0, at) === network) {
        const containerId = rest.slice(at + 5);
        if (keep.has(containerId)) continue;
        await removeTagged(host, family, 'nat', { chains: ['POSTROUTING'], tag: t, drop: [chainName({ network, containerId })] });
        gone.add(containerId);
      }
    }
  }
  return [...gone];
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
