// One container's rules in the host's nat table: install (one iptables-restore transaction per
// family, nothing when they are already there), remove (exact tag, one transaction per family that
// has any), check. The shared chain is created with -N only when absent, its jumps with it. Only
// the chain and POSTROUTING are ever read, so the cost does not grow with the rest of the table.
// On iptables-nft they are read, and removed, over nf_tables netlink (iptables/nft.ts): no process.
import type { Netns } from '../../netns/index.js';
import { hasChain, isNftBackend, listTagged, quote, removeTagged, saveChains, renderRule, restore, rulesTagged, type Op, type Rule, type SavedRule, type Transaction } from '../../iptables/index.js';
import { jumps, tag, type FamilyRules } from './rules.js';

/** What one family's table holds for a container. */
export interface Tagged {
  chainExists: boolean;
  /** Its rules in the chain and in POSTROUTING (snat), by exact tag. */
  rules: SavedRule[];
}

/**
 * Read the container's rules. On iptables-nft a native listing answers the common case, a first
 * ADD that finds none, without a process; rules found there (a repeated ADD, a CHECK) are read
 * again as text, which decides whether they are the wanted ones. Otherwise POSTROUTING, which
 * grows by a bridge jump and the snat rules of every container, is listed only when the chain
 * holds some of them: ADD and DEL write a container's rules in both chains in one transaction, so
 * one without the other does not happen. A first ADD thus costs one `iptables -S`, and a family
 * without the chain (IPv6 on most networks) one that fails fast.
 */
export async function readTagged(host: Netns, family: 4 | 6, chain: string, containerId: string): Promise<Tagged> {
  const t = tag(containerId);
  if (await isNftBackend(family, 'default')) {
    const found = await listTagged(host, family, 'nat', [chain, 'POSTROUTING'], t);
    if (found.rules.length === 0) return { chainExists: found.chains.has(chain), rules: [] };
  }
  const own = await saveChains(host, family, 'nat', [chain], { containing: t });
  const rules = rulesTagged(own, t, [chain]);
  if (rules.length > 0) rules.push(...rulesTagged(await saveChains(host, family, 'nat', ['POSTROUTING'], { containing: t }), t, ['POSTROUTING']));
  return { chainExists: hasChain(own, chain), rules };
}

const key = (chain: string, args: readonly string[]) => JSON.stringify([chain, ...args]);

function sameRules(have: readonly SavedRule[], want: readonly Rule[], family: 4 | 6): boolean {
  if (have.length !== want.length) return false;
  const a = have.map((r) => key(r.chain, r.args)).sort();
  const b = want.map((r) => renderRule(r, family, 'nat')).map((r) => key(r.chain, r.args)).sort();
  return a.every((k, i) => k === b[i]);
}

/**
 * Make the container's rules in this family exactly `rules` (`read`: readTagged earlier, if the
 * caller already has it). Already there (a repeated ADD):
 * no write at all. Otherwise one transaction removes any stale rules of the same tag (a repeated ADD
 * that got another address) and adds the new ones, so no state mixes old and new.
 * Returns whether anything was written.
 */
export async function install(host: Netns, chain: string, containerId: string, rules: FamilyRules, read?: Tagged): Promise<boolean> {
  const { family } = rules;
  const want = [...rules.chain, ...rules.postrouting];
  const { chainExists, rules: have } = read ?? (await readTagged(host, family, chain, containerId));
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
    if (chainExists || !hasChain(await saveChains(host, family, 'nat', [chain]), chain)) throw e;
    await restore(host, tx);
  }
  return true;
}

/**
 * Delete every rule tagged for the container in the chain and POSTROUTING: both families at once,
 * one transaction per family that has any (none: no write). On iptables-nft, listed and deleted
 * by handle over netlink. Otherwise `known`: the rules rebuilt from the
 * container's addresses, when its link still has them; a family's are deleted exactly, in one
 * transaction and without reading anything (what a normal DEL costs: one exec). When that fails
 * (not all there: attached with another config, or half removed by hand), or without them, the
 * chain is read for what there is. A concurrent deleter of the same rules makes that transaction
 * fail whole; it is re-read and retried once.
 */
export async function remove(host: Netns, chain: string, containerId: string, known: readonly FamilyRules[] = []): Promise<number> {
  const one = async (family: 4 | 6): Promise<number> => {
    if (await isNftBackend(family, 'default')) return removeTagged(host, family, 'nat', [chain, 'POSTROUTING'], tag(containerId));
    const exact = known.find((r) => r.family === family && r.chain.length > 0);
    if (exact) {
      const ops = [...exact.chain, ...exact.postrouting].map((rule): Op => ({ op: 'delete', rule }));
      if (await restore(host, { family, table: 'nat', ops }).then(() => true, () => false)) return ops.length;
    }
    for (let attempt = 1; ; attempt++) {
      const victims = (await readTagged(host, family, chain, containerId)).rules;
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
