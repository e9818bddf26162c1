// Finding, checking and removing the rules a caller owns, by their comment tag: the one API plugins
// (and the overlay agent) use for their rules, whatever iptables the host runs. Where iptables-restore
// is iptables-nft, rules are listed and deleted over nf_tables netlink (nft.ts: no process, no RCU
// wait at exit); otherwise through iptables -S and one iptables-restore. The choice is made here
// and nowhere else. Tags match exactly, never as a substring (container `P.C` is not `P`).
import type { Netns } from '../netns/index.js';
import { resolveOptions, type IptablesOptions } from './backend.js';
import { saveChains } from './list.js';
import { isNftBackend, listTagged, removeTaggedNft } from './nft.js';
import type { Op } from './payload.js';
import { restore } from './restore.js';
import { renderRule, type Rule } from './rule.js';
import { hasChain, type SavedRule, type SavedTable } from './save.js';
import * as tok from './tokens.js';
import type { Family, Table } from './tokens.js';

/** The rules of a saved table whose comment is exactly `tag` (in `chains`, when given). */
export function rulesTagged(saved: SavedTable, tag: string, chains?: readonly string[]): SavedRule[] {
  return saved.rules.filter((r) => r.comment === tag && (chains === undefined || chains.includes(r.chain)));
}

export interface ReadOptions extends IptablesOptions {
  /**
   * Look in the chains after the first only when the first holds rules of the tag: for callers that
   * write their rules into all of them in one transaction (so one without the other never happens).
   * A first ADD then reads one chain, not also a POSTROUTING that grows with every container.
   */
  gatedByFirst?: boolean;
  /**
   * The chain whose tag index covers `chains` (tag-index.ts): on nf_tables, a tag it does not hold
   * has no rules, found without listing. Only for owners that write the index with every rule
   * (Transaction.index, RemoveSpec.index).
   */
  index?: string;
}

function checked(family: Family, table: Table, chains: readonly string[], tag: string, drop: readonly string[] = []) {
  chains.forEach((c, i) => tok.chain(c, `chains[${i}]`));
  drop.forEach((c, i) => tok.chain(c, `drop[${i}]`));
  return { family: tok.family(family, 'family'), table: tok.table(table, 'table'), tag: tok.comment(tag, 'tag') };
}

/**
 * The rules of `chains` tagged exactly `tag`, as iptables-save prints them (so a caller can compare
 * them with what it wants). Over netlink, the common answer "none" costs no process; rules found
 * are then read as text.
 */
export async function readTagged(ns: Netns, family: Family, table: Table, chains: readonly string[], tag: string, opts: ReadOptions = {}): Promise<SavedRule[]> {
  const c = checked(family, table, chains, tag);
  if (await isNftBackend(c.family, resolveOptions(opts).backend)) {
    if ((await listTagged(ns, c.family, c.table, chains, c.tag, opts.index)).rules.length === 0) return [];
  }
  const read = (cs: readonly string[]) => saveChains(ns, c.family, c.table, cs, { ...opts, containing: c.tag }).then((s) => rulesTagged(s, c.tag, cs));
  if (!opts.gatedByFirst || chains.length < 2) return read(chains);
  const first = await read(chains.slice(0, 1));
  return first.length === 0 ? [] : [...first, ...(await read(chains.slice(1)))];
}

export interface RemoveSpec {
  /** Chains whose rules tagged `tag` go. */
  chains: readonly string[];
  tag: string;
  /** The caller's own chains, removed whole (with whatever they hold) in the same transaction. */
  drop?: readonly string[];
  /**
   * The rules as the caller wrote them, when it can rebuild them (from a container's addresses,
   * say): without nf_tables netlink they are then deleted in one transaction without reading
   * anything, and only when that fails (not all there) are the chains read. Not called otherwise.
   */
  known?: () => Promise<readonly Rule[]>;
  /** On nf_tables: the deletion may share the transaction of another one coming (nft.ts DeleteOptions). */
  share?: boolean | PromiseLike<unknown>;
  /** The chain whose tag index the tag leaves in the same transaction (ReadOptions.index; the chains are listed all the same). */
  index?: string;
}

/**
 * Remove every rule tagged exactly `spec.tag` in `spec.chains`, and the `drop` chains, in one
 * transaction: all or nothing; nothing there, nothing written. A concurrent remover of the same
 * rules makes a transaction fail whole; the rules are then read again and the removal retried.
 * Returns how many tagged rules there were.
 */
export async function removeTagged(ns: Netns, family: Family, table: Table, spec: RemoveSpec, opts: IptablesOptions = {}): Promise<number> {
  const drop = spec.drop ?? [];
  const c = checked(family, table, spec.chains, spec.tag, drop);
  if (await isNftBackend(c.family, resolveOptions(opts).backend)) return removeTaggedNft(ns, c.family, c.table, spec.chains, c.tag, drop, { share: spec.share, index: spec.index });
  const known = (await spec.known?.()) ?? [];
  if (known.length > 0) {
    // Rules in a dropped chain go with it (its declaration flushes it).
    const ops: Op[] = [...known.filter((r) => !drop.includes(r.chain)).map((rule): Op => ({ op: 'delete', rule })), ...drop.map((chain): Op => ({ op: 'deleteChain', chain }))];
    if (await restore(ns, { family: c.family, table: c.table, own: [...drop], ops }, opts).then(() => true, () => false)) return known.length;
  }
  for (let attempt = 1; ; attempt++) {
    const saved = await saveChains(ns, c.family, c.table, [...new Set([...spec.chains, ...drop])], { ...opts, containing: c.tag });
    const victims = rulesTagged(saved, c.tag, spec.chains.filter((ch) => !drop.includes(ch)));
    const owned = drop.filter((ch) => hasChain(saved, ch));
    if (victims.length === 0 && owned.length === 0) return 0;
    const ops: Op[] = [...victims.map((rule): Op => ({ op: 'deleteSaved', rule })), ...owned.map((chain): Op => ({ op: 'deleteChain', chain }))];
    try {
      await restore(ns, { family: c.family, table: c.table, own: owned, ops }, opts);
      return victims.length;
    } catch (e) {
      if (attempt > 1) throw e;
    }
  }
}

/**
 * Which of `rules` are not in the table. Only the chains they are in are read, and compared token
 * for token: the renderer writes iptables-save's canonical form (tested per rule shape on both
 * backends), so this is exact for any number of rules, where `-C` costs one exec per rule.
 */
export async function missing(ns: Netns, family: Family, table: Table, rules: readonly Rule[], opts: IptablesOptions = {}): Promise<Rule[]> {
  const fam = tok.family(family, 'family');
  const tbl = tok.table(table, 'table');
  const wanted = rules.map((r, i) => renderRule(r, fam, tbl, `rules[${i}]`));
  const saved = await saveChains(ns, fam, tbl, [...new Set(wanted.map((w) => w.chain))], opts);
  const key = (chain: string, args: readonly string[]) => JSON.stringify([chain, ...args]);
  const have = new Set(saved.rules.map((r) => key(r.chain, r.args)));
  return rules.filter((_, i) => !have.has(key(wanted[i]!.chain, wanted[i]!.args)));
}

/**
 * The distinct tags (comments) starting with `prefix` on the rules of `chains`: how an owner whose
 * tags name what each rule belongs to finds every attachment it has rules for (a GC).
 */
export async function tagsWithPrefix(ns: Netns, family: Family, table: Table, chains: readonly string[], prefix: string, opts: IptablesOptions = {}): Promise<string[]> {
  const c = checked(family, table, chains, prefix);
  const saved = await saveChains(ns, c.family, c.table, chains, { ...opts, containing: prefix });
  return [...new Set(saved.rules.map((r) => r.comment).filter((t): t is string => t !== undefined && t.startsWith(prefix)))];
}

/** A rule as `iptables -S` prints it (`-A CHAIN …`), for messages. */
export function describeRule(rule: Rule, family: Family, table: Table): string {
  const r = renderRule(rule, family, table);
  return ['-A', r.chain, ...r.args.map((a) => tok.quote(a))].join(' ');
}
