// One container's rules in the host's nat table: install (one iptables-restore transaction per
// family, nothing when they are already there), remove (exact tag, one transaction per family that
// has any), check. The shared chain is created with -N only when absent, its jumps with it. Only
// the chain and POSTROUTING are ever read, so the cost does not grow with the rest of the table.
import type { Netns } from '../../netns/index.js';
import { hasChain, quote, saveChains, renderRule, restore, rulesTagged, type Op, type Rule, type SavedRule, type SavedTable, type Transaction } from '../../iptables/index.js';
import { jumps, tag, type FamilyRules } from './rules.js';

/** The chains a container's rules can be in (what DEL reads). */
export const ourChains = (chain: string): string[] => [chain, 'POSTROUTING'];

/** What ADD reads: POSTROUTING (which grows by one bridge jump per container) only with snat. */
export const addChains = (chain: string, snat: boolean): string[] => (snat ? ourChains(chain) : [chain]);

const key = (chain: string, args: readonly string[]) => JSON.stringify([chain, ...args]);

function sameRules(have: readonly SavedRule[], want: readonly Rule[], family: 4 | 6): boolean {
  if (have.length !== want.length) return false;
  const a = have.map((r) => key(r.chain, r.args)).sort();
  const b = want.map((r) => renderRule(r, family, 'nat')).map((r) => key(r.chain, r.args)).sort();
  return a.every((k, i) => k === b[i]);
}

/**
 * Make the container's rules in this family exactly `rules` (`read`: addChains read earlier, if the
 * caller already has them; only this container's tag is looked up). Already there (a repeated ADD):
 * no write at all. Otherwise one transaction removes any stale rules of the same tag (a repeated ADD
 * that got another address) and adds the new ones, so no state mixes old and new.
 * Returns whether anything was written.
 */
export async function install(host: Netns, chain: string, containerId: string, rules: FamilyRules, read?: SavedTable): Promise<boolean> {
  const { family } = rules;
  const want = [...rules.chain, ...rules.postrouting];
  const chains = addChains(chain, rules.postrouting.length > 0);
  const saved = read ?? (await saveChains(host, family, 'nat', chains, { containing: tag(containerId) }));
  const have = rulesTagged(saved, tag(containerId), chains);
  if (sameRules(have, want, family)) return false;
  const ops: Op[] = [
    ...have.map((rule): Op => ({ op: 'deleteSaved', rule })),
    ...rules.chain.map((rule): Op => ({ op: 'append', rule })),
    ...rules.postrouting.map((rule): Op => ({ op: 'insert', rule, position: 1 })),
  ];
  const onCreate = jumps(chain, family).map((rule): Op => ({ op: 'append', rule }));
  const tx: Transaction = { family, table: 'nat', shared: [{ name: chain, onCreate }], ops };
  try {
    await restore(host, tx);
  } catch (e) {
    // restore() reads "the chain exists after my optimistic try failed" as a real error. When our
    // own read showed it absent, another ADD created it in between (20 first ADDs at once do
    // this): the transaction is retried once against the chain that now exists.
    if (hasChain(saved, chain) || !hasChain(await saveChains(host, family, 'nat', [chain]), chain)) throw e;
    await restore(host, tx);
  }
  return true;
}

/**
 * Delete every rule tagged for the container in the chain and POSTROUTING: both families read at
 * once, one transaction per family that has any (none: no write). A concurrent deleter of the same
 * rules makes the transaction fail whole; it is re-read and retried once.
 */
export async function remove(host: Netns, chain: string, containerId: string): Promise<number> {
  const one = async (family: 4 | 6): Promise<number> => {
    for (let attempt = 1; ; attempt++) {
      const victims = rulesTagged(await saveChains(host, family, 'nat', ourChains(chain), { containing: tag(containerId) }), tag(containerId), ourChains(chain));
      if (victims.length === 0) return 0;
      try {
        await restore(host, { family, table: 'nat', ops: victims.map((rule): Op => ({ op: 'deleteSaved', rule })) });
        return victims.length;
      } catch (e) {
        if (attempt > 1) throw e;
      }
    }
  };
  const done = await Promise.all([one(4), one(6)]);
  return done[0] + done[1];
}

/** The expected rules (and the chain's jumps) that are not in the table, rendered like iptables -S. */
export async function missing(host: Netns, chain: string, rules: FamilyRules): Promise<string[]> {
  const want = [...jumps(chain, rules.family), ...rules.chain, ...rules.postrouting].map((r) => renderRule(r, rules.family, 'nat'));
  const saved = await saveChains(host, rules.family, 'nat', [chain, 'PREROUTING', 'OUTPUT', 'POSTROUTING']);
  const have = new Set(saved.rules.map((r) => key(r.chain, r.args)));
  return want.filter((r) => !have.has(key(r.chain, r.args))).map((r) => ['-A', r.chain, ...r.args.map((a) => quote(a))].join(' '));
}
