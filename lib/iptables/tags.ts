// Finding our rules again: every rule we own carries a comment tag. Deleting by tag reads the
// table once and removes exactly the rules whose comment equals the tag (never a regex or
// substring: container `P.C` is not `P`) in one restore; checking compares rendered rules with
// the saved ones.
import type { Netns } from '../netns/index.js';
import { SpecError } from '../native/index.js';
import { resolveOptions, type IptablesOptions } from './backend.js';
import { checkTransaction, renderPayload } from './payload.js';
import { runRestore } from './restore.js';
import { renderRule, type Rule } from './rule.js';
import { save, type SavedRule, type SavedTable } from './save.js';
import * as tok from './tokens.js';
import type { Family, Table } from './tokens.js';

export interface DeleteByTagOptions extends IptablesOptions {
  /** Only rules in these chains (default: every chain of the table). */
  chains?: string[];
}

/** The rules of a saved table whose comment is exactly `tag`. */
export function rulesTagged(saved: SavedTable, tag: string, chains?: readonly string[]): SavedRule[] {
  return saved.rules.filter((r) => r.comment === tag && (chains === undefined || chains.includes(r.chain)));
}

/**
 * Delete every rule of `table` commented exactly `tag` in one transaction, each by its full spec
 * as saved. Nothing matching → no restore runs. If a concurrent deleter removed one of them
 * between our read and our commit, the whole transaction fails; it is re-read and retried once.
 * Returns the rules deleted.
 */
export async function deleteByTag(ns: Netns, family: Family, table: Table, tag: string, opts: DeleteByTagOptions = {}): Promise<SavedRule[]> {
  const { chains, ...rest } = opts;
  const o = resolveOptions(rest);
  const fam = tok.family(family, 'family');
  const tbl = tok.table(table, 'table');
  const exact = tok.comment(tag, 'tag');
  if (chains !== undefined && !Array.isArray(chains)) throw new SpecError(`chains: expected an array of chain names, got ${JSON.stringify(chains)}`);
  const only = chains?.map((c, i) => tok.chain(c, `chains[${i}]`));
  for (let attempt = 1; ; attempt++) {
    const victims = rulesTagged(await save(ns, fam, tbl, rest), exact, only);
    if (victims.length === 0) return [];
    const tx = checkTransaction({ family: fam, table: tbl, ops: victims.map((rule) => ({ op: 'deleteSaved', rule })) });
    try {
      await runRestore(ns, fam, tbl, renderPayload(tx), o);
      return victims;
    } catch (e) {
      if (attempt > 1) throw e;
    }
  }
}

export interface CheckResult {
  ok: boolean;
  missing: Rule[];
}

/**
 * Whether `rules` are all present. One iptables-save and a token-for-token comparison: the
 * renderer writes iptables-save's canonical form (tested per rule shape against both backends),
 * so this answers for any number of rules with one exec and no xtables lock, where `-C` costs one
 * exec per rule and a `-C` restore transaction stops at the first miss without naming the rest.
 */
export async function check(ns: Netns, family: Family, table: Table, rules: readonly Rule[], opts: IptablesOptions = {}): Promise<CheckResult> {
  const fam = tok.family(family, 'family');
  const tbl = tok.table(table, 'table');
  const wanted = rules.map((r, i) => renderRule(r, fam, tbl, `rules[${i}]`));
  const saved = await save(ns, fam, tbl, opts);
  const have = new Set(saved.rules.map((r) => JSON.stringify([r.chain, ...r.args])));
  const missing = rules.filter((_, i) => !have.has(JSON.stringify([wanted[i]!.chain, ...wanted[i]!.args])));
  return { ok: missing.length === 0, missing };
}
