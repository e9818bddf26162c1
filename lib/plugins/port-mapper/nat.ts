// One container's rules in the host's nat table: install (one iptables-restore transaction per
// family, nothing when they are already there), remove (exact tag, one transaction per family that
// has any), check. The shared chain is created with -N only when absent, its jumps with it.
import type { Netns } from '../../netns/index.js';
import { check, deleteByTag, hasChain, renderRule, restore, rulesTagged, save, type Op, type Rule, type SavedRule, type SavedTable, type Transaction } from '../../iptables/index.js';
import { jumps, tag, type FamilyRules } from './rules.js';

const key = (chain: string, args: readonly string[]) => JSON.stringify([chain, ...args]);

function sameRules(have: readonly SavedRule[], want: readonly Rule[], family: 4 | 6): boolean {
  if (have.length !== want.length) return false;
  const a = have.map((r) => key(r.chain, r.args)).sort();
  const b = want.map((r) => renderRule(r, family, 'nat')).map((r) => key(r.chain, r.args)).sort();
  return a.every((k, i) => k === b[i]);
}

/**
 * Make the container's rules in this family exactly `rules` (`read`: the table read earlier, if
 * the caller already has it; only this container's tag is looked up in it). Already there (a repeated ADD): no
 * write at all. Otherwise one transaction removes any stale rules of the same tag (a repeated ADD
 * that got another address) and adds the new ones, so no state mixes old and new.
 * Returns whether anything was written.
 */
export async function install(host: Netns, chain: string, containerId: string, rules: FamilyRules, read?: SavedTable): Promise<boolean> {
  const { family } = rules;
  const want = [...rules.chain, ...rules.postrouting];
  const saved = read ?? (await save(host, family, 'nat'));
  const have = rulesTagged(saved, tag(containerId), [chain, 'POSTROUTING']);
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
    if (hasChain(saved, chain) || !hasChain(await save(host, family, 'nat'), chain)) throw e;
    await restore(host, tx);
  }
  return true;
}

/** Delete every rule tagged for the container in the chain and POSTROUTING, both families at once. */
export async function remove(host: Netns, chain: string, containerId: string): Promise<number> {
  const opts = { chains: [chain, 'POSTROUTING'] };
  const done = await Promise.all(([4, 6] as const).map((family) => deleteByTag(host, family, 'nat', tag(containerId), opts)));
  return done.reduce((n, d) => n + d.length, 0);
}

/** The expected rules (and the chain's jumps) that are not in the table, rendered like iptables -S. */
export async function missing(host: Netns, chain: string, rules: FamilyRules): Promise<string[]> {
  const want = [...jumps(chain, rules.family), ...rules.chain, ...rules.postrouting];
  const r = await check(host, rules.family, 'nat', want);
  return r.missing.map((rule) => {
    const { chain: c, args } = renderRule(rule, rules.family, 'nat');
    return ['-A', c, ...args].join(' ');
  });
}
