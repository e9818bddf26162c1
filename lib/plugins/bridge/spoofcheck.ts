// macspoofchk: frames entering the bridge from a container's port must carry the container's MAC,
// as the reference plugin filters them — the same nftables objects, named and commented alike, so
// either plugin finds and removes what the other made:
//   table bridge nat { chain PREROUTING { type filter hook prerouting priority -300; policy accept;
//     iifname "<host veth>" jump cni-br-iface-<id>-<if> comment "macspoofchk-<id>-<if>" }
//   chain cni-br-iface-<id>-<if> { jump cni-br-iface-<id>-<if>-mac comment … }
//   chain cni-br-iface-<id>-<if>-mac { ether saddr <mac> return comment …; drop comment … } }
// A name the reference would make too long (or with characters nft cannot take unquoted) is a hash
// of it instead; the reference fails such an ADD.
import type { NetlinkHandle } from '../../netlink/handle.js';
import type { Netns } from '../../netns/netns.js';
import { apply, iifnameOf, jumpOf, listTable, SAFE, type NftObject } from '../shared/nft.js';
import { sha256Hex } from '../../util/digest.js';

const TABLE = 'nat';
const BASE = 'PREROUTING';
const COMMENT_PREFIX = 'macspoofchk-';

export interface SpoofTarget {
  containerId: string;
  ifname: string;
}

/** The reference's `<containerID>-<ifname>`, or a hash of it where that cannot be a chain name or comment. */
function refId(t: SpoofTarget): string {
  const id = `${t.containerId}-${t.ifname}`;
  // Chain names hold up to 255 bytes ("-mac" is added), comments 128.
  return SAFE.test(id) && `${COMMENT_PREFIX}${id}`.length <= 128 ? id : `h${sha256Hex(id).slice(0, 32)}`;
}

export const ifaceChain = (t: SpoofTarget) => `cni-br-iface-${refId(t)}`;
export const comment = (t: SpoofTarget) => `${COMMENT_PREFIX}${refId(t)}`;

/** The rules for a container port, in one transaction (the base chain made once, as `add` does). */
export async function setupSpoofCheck(host: Netns, t: SpoofTarget, hostVeth: string, mac: string): Promise<void> {
  const chain = ifaceChain(t);
  const c = comment(t);
  await apply(host, [
    `add table bridge ${TABLE}`,
    `add chain bridge ${TABLE} ${BASE} { type filter hook prerouting priority -300; policy accept; }`,
    `add chain bridge ${TABLE} ${chain}`,
    `add chain bridge ${TABLE} ${chain}-mac`,
    `add rule bridge ${TABLE} ${BASE} iifname "${hostVeth}" jump ${chain} comment "${c}"`,
    `add rule bridge ${TABLE} ${chain} jump ${chain}-mac comment "${c}"`,
    `add rule bridge ${TABLE} ${chain}-mac ether saddr ${mac} return comment "${c}"`,
    `add rule bridge ${TABLE} ${chain}-mac drop comment "${c}"`,
    '',
  ].join('\n'));
}

/** The delete commands for every object of `chains` (rules jumping to them from the base chain first). */
function deletions(objects: NftObject[], chains: Set<string>): string[] {
  const out: string[] = [];
  for (const o of objects) {
    if (o.rule && o.rule.chain === BASE && chains.has(jumpOf(o.rule) ?? '')) out.push(`delete rule bridge ${TABLE} ${BASE} handle ${o.rule.handle}`);
  }
  for (const o of objects) {
    if (o.chain && chains.has(o.chain.name)) out.push(`delete chain bridge ${TABLE} ${o.chain.name}`);
  }
  return out;
}

/** Remove a container port's rules and chains; nothing when they are gone (DEL repeats). */
export async function teardownSpoofCheck(host: Netns, t: SpoofTarget): Promise<void> {
  const chain = ifaceChain(t);
  const objects = await listTable(host, 'bridge', TABLE);
  // The -mac chain goes after the chain that jumps to it.
  const ops = deletions(objects, new Set([chain]));
  const mac = deletions(objects, new Set([`${chain}-mac`])).filter((l) => l.startsWith('delete chain'));
  if (ops.length + mac.length) await apply(host, [...ops, ...mac, ''].join('\n'));
}

/** Whether a container port's filter is in place, the MAC it lets through being `mac` (CHECK). */
export async function hasSpoofCheck(host: Netns, t: SpoofTarget, hostVeth: string, mac: string): Promise<boolean> {
  const chain = ifaceChain(t);
  const objects = await listTable(host, 'bridge', TABLE);
  const jump = objects.some((o) => o.rule?.chain === BASE && jumpOf(o.rule) === chain && iifnameOf(o.rule) === hostVeth);
  const allow = objects.some((o) => o.rule?.chain === `${chain}-mac` && JSON.stringify(o.rule.expr ?? []).includes(`"${mac.toLowerCase()}"`));
  return jump && allow;
}

/**
 * GC: the filters of ports that no longer exist on the host. They are keyed by container and
 * interface, not by network (the reference's names), so a port's liveness is what says one is
 * stale: a filter whose host veth is gone filters nothing and is removed, whichever network made it.
 */
export async function collectSpoofChecks(host: Netns, nl: NetlinkHandle): Promise<number> {
  const objects = await listTable(host, 'bridge', TABLE);
  const stale = new Set<string>();
  for (const o of objects) {
    if (!o.rule || o.rule.chain !== BASE || !o.rule.comment?.startsWith(COMMENT_PREFIX)) continue;
    const dev = iifnameOf(o.rule);
    const target = jumpOf(o.rule);
    if (dev && target && !(await nl.link.find(dev))) stale.add(target);
  }
  if (stale.size === 0) return 0;
  const ops = deletions(objects, stale);
  const macChains = deletions(objects, new Set([...stale].map((c) => `${c}-mac`))).filter((l) => l.startsWith('delete chain'));
  await apply(host, [...ops, ...macChains, ''].join('\n'));
  return stale.size;
}
