// IP masquerade through nftables (the bridge's ipMasqBackend "nftables"), laid out as the reference
// plugins' nftables backend documents it: one shared table and base chain, one rule per container
// address, commented with a hash of the attachment followed by its network, interface and ID:
//   table inet cni_plugins_masquerade { chain masq_checks {
//     type nat hook postrouting priority srcnat; policy accept;
//     ip daddr 224.0.0.0/4 return; ip6 daddr ff00::/8 return        (multicast is never masqueraded)
//     ip saddr 10.1.0.5 ip daddr != 10.1.0.0/24 masquerade comment "<hash>, net: N, if: eth0, id: C" } }
// The comment says which attachment a rule belongs to, so DEL and GC find exactly theirs.
import type { Netns } from '../../netns/netns.js';
import { networkOf, parsePrefix } from '../../ip.js';
import { apply, listTable, type NftObject } from './nft.js';
import { sha256Hex } from '../../util/digest.js';

export const TABLE = 'cni_plugins_masquerade';
export const CHAIN = 'masq_checks';
const COMMENT_MAX = 128;

export interface NftMasqTarget {
  network: string;
  containerId: string;
  ifname: string;
}

/** The hash that starts every comment of the attachment (what DEL matches). */
export function instanceHash(t: NftMasqTarget): string {
  return sha256Hex(t.network + t.ifname + t.containerId).slice(0, 32);
}

/** `<hash>, net: <network>, if: <ifname>, id: <containerID>`, cut to nft's 128 bytes. */
export function nftComment(t: NftMasqTarget): string {
  // Quotes and backslashes cannot be in an nft string; the hash alone still identifies the rule.
  const net = /^[^"\\\n\r\t]*$/.test(t.network) ? t.network : '?';
  return Buffer.from(`${instanceHash(t)}, net: ${net}, if: ${t.ifname}, id: ${t.containerId}`).subarray(0, COMMENT_MAX).toString('utf8').replace(/\uFFFD$/, '');
}

/** The attachment a comment names: network, ifname and container ID, when the comment was not cut. */
export function parseNftComment(c: string): { hash: string; network: string; ifname: string; containerId: string } | undefined {
  const m = /^([0-9a-f]{32}), net: (.*), if: ([^,]*), id: ([A-Za-z0-9_.-]+)$/.exec(c);
  return m ? { hash: m[1]!, network: m[2]!, ifname: m[3]!, containerId: m[4]! } : undefined;
}

function ruleFor(t: NftMasqTarget, address: string): string {
  const p = parsePrefix(address, 'ip');
  const ip = p.family === 4 ? 'ip' : 'ip6';
  return `add rule inet ${TABLE} ${CHAIN} ${ip} saddr ${p.text.split('/')[0]} ${ip} daddr != ${networkOf(p).text} masquerade comment "${nftComment(t)}"`;
}

const rulesOf = (objects: NftObject[]) => objects.flatMap((o) => (o.rule && o.rule.chain === CHAIN ? [o.rule] : []));

/** Stale rules of the attachment go and its rules are added, in one transaction (the table and chain made on first use). */
export async function setupMasqNft(host: Netns, t: NftMasqTarget, addresses: readonly string[], after?: PromiseLike<unknown>): Promise<void> {
  await after; // nothing written before it settles (restore's `after`)
  const objects = await listTable(host, 'inet', TABLE);
  const hash = instanceHash(t);
  const fresh = !objects.some((o) => o.chain?.name === CHAIN);
  const script = [
    `add table inet ${TABLE}`,
    `add chain inet ${TABLE} ${CHAIN} { type nat hook postrouting priority srcnat; policy accept; }`,
    ...(fresh ? [`add rule inet ${TABLE} ${CHAIN} ip daddr 224.0.0.0/4 return`, `add rule inet ${TABLE} ${CHAIN} ip6 daddr ff00::/8 return`] : []),
    ...rulesOf(objects).filter((r) => r.comment?.startsWith(hash)).map((r) => `delete rule inet ${TABLE} ${CHAIN} handle ${r.handle}`),
    ...addresses.map((a) => ruleFor(t, a)),
    '',
  ];
  await apply(host, script.join('\n'));
}

/** Delete the rules whose comment starts with one of `hashes`; returns how many. */
async function deleteByHash(host: Netns, hashes: Set<string>, objects?: NftObject[]): Promise<number> {
  const doomed = rulesOf(objects ?? (await listTable(host, 'inet', TABLE))).filter((r) => hashes.has(r.comment?.slice(0, 32) ?? ''));
  if (doomed.length) await apply(host, [...doomed.map((r) => `delete rule inet ${TABLE} ${CHAIN} handle ${r.handle}`), ''].join('\n'));
  return doomed.length;
}

/** Remove the attachment's rules; nothing when there are none (the table and chain stay for others). */
export async function teardownMasqNft(host: Netns, t: NftMasqTarget): Promise<void> {
  await deleteByHash(host, new Set([instanceHash(t)]));
}

/** Which of the attachment's addresses have no rule (CHECK). */
export async function missingMasqNft(host: Netns, t: NftMasqTarget, addresses: readonly string[]): Promise<string[]> {
  const mine = rulesOf(await listTable(host, 'inet', TABLE)).filter((r) => r.comment?.startsWith(instanceHash(t)));
  const text = mine.map((r) => JSON.stringify(r.expr ?? []));
  return addresses.filter((a) => !text.some((x) => x.includes(`"${parsePrefix(a, 'ip').text.split('/')[0]}"`)));
}

/** GC: remove the rules of `network` whose attachment `keep` does not hold. Returns how many went. */
export async function collectMasqNft(host: Netns, network: string, keep: (containerId: string, ifname: string) => boolean): Promise<number> {
  const objects = await listTable(host, 'inet', TABLE);
  const stale = new Set<string>();
  for (const r of rulesOf(objects)) {
    const owner = r.comment ? parseNftComment(r.comment) : undefined;
    // The hash covers the network: a rule is this network's exactly when it recomputes.
    if (!owner || instanceHash({ network, containerId: owner.containerId, ifname: owner.ifname }) !== owner.hash) continue;
    if (!keep(owner.containerId, owner.ifname)) stale.add(owner.hash);
  }
  return stale.size ? deleteByHash(host, stale, objects) : 0;
}
