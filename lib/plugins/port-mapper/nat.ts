// One container's rules in the host's nat table: install (one iptables-restore transaction per
// family, nothing when they are already there), remove (exact tag, one transaction per family that
// has any), check. The shared chain is created with -N only when absent, its jumps with it. Only
// the chain and POSTROUTING are ever read, so the cost does not grow with the rest of the table.
import type { Netns } from '../../netns/index.js';
import { describeRule, missing as missingRules, readTagged as readRules, removeTagged, renderRule, restore, type Op, type Rule, type SavedRule } from '../../iptables/index.js';
import { allSettledOrThrow } from '../../util/settle.js';
import { jumps, tag, type FamilyRules } from './rules.js';

/**
 * The container's rules in one family: in its chain, and in POSTROUTING (snat) only when the chain
 * holds some — ADD and DEL write them in both in one transaction, so one without the other does not
 * happen, and a first ADD does not read a POSTROUTING that grows with every container.
 */
export function readTagged(host: Netns, family: 4 | 6, chain: string, containerId: string): Promise<SavedRule[]> {
  return readRules(host, family, 'nat', [chain, 'POSTROUTING'], tag(containerId), { gatedByFirst: true, index: chain });
}

const key = (chain: string, args: readonly string[]) => JSON.stringify([chain, ...args]);

function sameRules(have: readonly SavedRule[], want: readonly Rule[], family: 4 | 6): boolean {
  if (have.length !== want.length) return false;
  const a = have.map((r) => key(r.chain, r.args)).sort();
  const b = want.map((r) => renderRule(r, family, 'nat')).map((r) => key(r.chain, r.args)).sort();
  return a.every((k, i) => k === b[i]);
}

/**
 * Make the container's rules in this family exactly `rules` (`have`: readTagged earlier, if the
 * caller already has it). Already there (a repeated ADD): no write at all. Otherwise one transaction
 * removes any stale rules of the same tag (a repeated ADD that got another address) and adds the
 * new ones, so no state mixes old and new. Returns whether anything was written. `after`: restore's
 * (written once it settles).
 */
export async function install(host: Netns, chain: string, containerId: string, rules: FamilyRules, have?: SavedRule[], after?: PromiseLike<unknown>): Promise<boolean> {
  const { family } = rules;
  const want = [...rules.chain, ...rules.postrouting];
  const stale = have ?? (await readTagged(host, family, chain, containerId));
  if (sameRules(stale, want, family)) return false;
  const ops: Op[] = [
    ...stale.map((rule): Op => ({ op: 'deleteSaved', rule })),
    ...rules.chain.map((rule): Op => ({ op: 'append', rule })),
    ...rules.postrouting.map((rule): Op => ({ op: 'insert', rule, position: 1 })),
  ];
  const onCreate = jumps(chain, family).map((rule): Op => ({ op: 'append', rule }));
  // The chain's tag index gets the tag in the same transaction (tag-index.ts: a first ADD then
  // finds no stale rule without listing a chain that grows with every container).
  await restore(host, { family, table: 'nat', shared: [{ name: chain, onCreate }], ops, index: { chain, add: [tag(containerId)] } }, { after });
  return true;
}

/**
 * Delete every rule tagged for the container in the chain and POSTROUTING: both families at once,
 * one transaction per family that has any (none: no write). `known`: the rules rebuilt from the
 * container's addresses, when its link still had them, so that (without nf_tables netlink) a
 * normal DEL deletes them exactly, without reading the table. `share`: another deletion in the nat
 * table may be coming (an in-process delegate's), and these may go in its transaction (removeTagged).
 */
export async function remove(host: Netns, chain: string, containerId: string, known: readonly FamilyRules[] = [], share: boolean | PromiseLike<unknown> = false): Promise<number> {
  const one = (family: 4 | 6) => {
    const exact = known.find((r) => r.family === family);
    return removeTagged(host, family, 'nat', {
      chains: [chain, 'POSTROUTING'],
      tag: tag(containerId),
      known: async () => (exact ? [...exact.chain, ...exact.postrouting] : []),
      share,
      index: chain,
    });
  };
  const [v4, v6] = await allSettledOrThrow([one(4), one(6)] as const);
  return v4 + v6;
}

/** The expected rules (and the chain's jumps) that are not in the table, as iptables -S prints them. */
export async function missing(host: Netns, chain: string, rules: FamilyRules): Promise<string[]> {
  const want = [...jumps(chain, rules.family), ...rules.chain, ...rules.postrouting];
  return (await missingRules(host, rules.family, 'nat', want)).map((r) => describeRule(r, rules.family, 'nat'));
}
