// Reading a table back: `iptables-save -t TABLE` inside a namespace, parsed into chains and rules
// with each rule's comment recovered exactly (iptables-save quotes and backslash-escapes it).
import { execInNetns, type Netns } from '../netns/index.js';
import { SpecError } from '../native/index.js';
import { binary, resolveOptions, type IptablesOptions } from './backend.js';
import { IptablesError } from './errors.js';
import { stats } from './stats.js';
import * as tok from './tokens.js';
import type { Family, Table } from './tokens.js';

export interface SavedChain {
  name: string;
  /** The policy of a built-in chain (ACCEPT/DROP); undefined for user chains. */
  policy?: string;
}

export interface SavedRule {
  chain: string;
  /** Tokens after `-A CHAIN`, unquoted, exactly as iptables-save printed them. */
  args: string[];
  /** The value of the first `--comment`, unescaped. */
  comment?: string;
  /** The line as printed. */
  text: string;
}

export interface SavedTable {
  table: Table;
  chains: SavedChain[];
  rules: SavedRule[];
}

/** Parse iptables-save output; only the `*table` section is read (absent table = empty). */
export function parseSave(text: string, table: Table): SavedTable {
  const out: SavedTable = { table, chains: [], rules: [] };
  let inTable = false;
  for (const raw of text.split('\n')) {
    const l = raw.trim();
    if (l === '' || l.startsWith('#')) continue;
    if (l.startsWith('*')) {
      inTable = l.slice(1) === table;
      continue;
    }
    if (!inTable) continue;
    if (l === 'COMMIT') {
      inTable = false;
      continue;
    }
    if (l.startsWith(':')) {
      const [name, policy] = l.slice(1).split(/\s+/);
      if (!name) throw new SpecError(`iptables-save: unreadable chain line ${JSON.stringify(l)}`);
      out.chains.push(policy && policy !== '-' ? { name, policy } : { name });
      continue;
    }
    const t = tok.tokenize(l);
    if (t[0] !== '-A' || t.length < 3) throw new SpecError(`iptables-save: unreadable line ${JSON.stringify(l)}`);
    const rule: SavedRule = { chain: t[1]!, args: t.slice(2), text: l };
    const at = rule.args.indexOf('--comment');
    if (at >= 0 && at + 1 < rule.args.length) rule.comment = rule.args[at + 1];
    out.rules.push(rule);
  }
  return out;
}

/** Whether a saved table has the chain. */
export function hasChain(saved: SavedTable, name: string): boolean {
  return saved.chains.some((c) => c.name === name);
}

/** `iptables-save -t TABLE` (or ip6tables-save) run in `ns`, parsed. */
export async function save(ns: Netns, family: Family, table: Table, opts: IptablesOptions = {}): Promise<SavedTable> {
  const o = resolveOptions(opts);
  const fam = tok.family(family, 'family');
  const tbl = tok.table(table, 'table');
  const bin = binary('save', fam, o.backend);
  stats.saves++;
  const r = await execInNetns(ns, bin, ['-t', tbl], { timeoutMs: o.timeoutMs, check: false });
  if (r.status !== 0 || r.timedOut) throw IptablesError.from(bin, tbl, r);
  return parseSave(r.stdout, tbl);
}
