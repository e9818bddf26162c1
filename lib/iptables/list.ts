// Reading only the chains a caller's rules live in (`iptables -w -t TABLE -S CHAIN`, one exec per
// chain, in parallel): a whole-table iptables-save grows with every rule anywhere in the table, a
// chain's listing only with that chain (docs/library.md has the figures). `-S` prints rules exactly
// as iptables-save does, so the save parser reads it.
import { execInNetns, type Netns } from '../netns/index.js';
import { binary, resolveOptions, type IptablesOptions } from './backend.js';
import { IptablesError } from './errors.js';
import { parseSave, type SavedTable } from './save.js';
import { stats } from './stats.js';
import * as tok from './tokens.js';
import type { Family, Table } from './tokens.js';

// A missing chain: legacy says the first, iptables-nft the second.
const ABSENT = /No chain\/target\/match by that name|in table `[a-z]+' is incompatible/;

/** One chain as iptables-save text lines (`:NAME [POLICY] [0:0]`, `-A ...`), or [] when absent. */
async function listChain(ns: Netns, family: Family, table: Table, chain: string, opts: ListOptions): Promise<string[]> {
  const o = resolveOptions(opts);
  const bin = binary('iptables', family, o.backend);
  stats.lists++;
  // Legacy iptables takes the xtables lock even to list, hence -w.
  const r = await execInNetns(ns, bin, ['-w', String(o.waitSeconds), '-t', table, '-S', chain], { timeoutMs: o.timeoutMs, check: false });
  if (r.status !== 0 || r.timedOut) {
    if (!r.timedOut && ABSENT.test(r.stderr)) return [];
    throw IptablesError.from(`${bin} -S ${chain}`, table, r);
  }
  // The text as printed: iptables-legacy writes an apostrophe in a comment as \'.
  const wanted = opts.containing === undefined ? undefined : [opts.containing, opts.containing.replaceAll("'", "\\'")];
  return r.stdout.split('\n').flatMap((l) => {
    if (l.startsWith('-N ')) return [`:${l.slice(3).trim()} - [0:0]`];
    if (l.startsWith('-P ')) return [`:${l.slice(3).trim()} [0:0]`];
    return l.startsWith('-A ') && (wanted === undefined || wanted.some((w) => l.includes(w))) ? [l] : [];
  });
}

export interface ListOptions extends IptablesOptions {
  /**
   * Keep only the rules whose line contains this text (e.g. a tag). Parsing is most of a listing's
   * cost in Node (13 ms for 1000 rules here): a caller after its own tagged rules skips the rest.
   * A superset of what an exact tag match keeps, so rulesTagged still decides.
   */
  containing?: string;
}

/** The table restricted to `chains` (absent ones simply missing), parsed like a save. */
export async function saveChains(ns: Netns, family: Family, table: Table, chains: readonly string[], opts: ListOptions = {}): Promise<SavedTable> {
  const fam = tok.family(family, 'family');
  const tbl = tok.table(table, 'table');
  chains.forEach((c, i) => tok.chain(c, `chains[${i}]`));
  const lines = await Promise.all(chains.map((c) => listChain(ns, fam, tbl, c, opts)));
  return parseSave([`*${tbl}`, ...lines.flat(), 'COMMIT', ''].join('\n'), tbl);
}
