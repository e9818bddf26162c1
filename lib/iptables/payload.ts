// A transaction (one table, one COMMIT) and its rendering into an iptables-restore --noflush
// payload. Pure: which shared chains must be created is decided by the caller (restore.ts).
import { SpecError } from '../native/index.js';
import { renderRule, type Rule } from './rule.js';
import type { SavedRule } from './save.js';
import * as tok from './tokens.js';
import type { Family, Table } from './tokens.js';

export type Op =
  /** `-A CHAIN rule` */
  | { op: 'append'; rule: Rule }
  /** `-I CHAIN [position] rule` (1-based; default 1) */
  | { op: 'insert'; rule: Rule; position?: number }
  /** `-D CHAIN rule` */
  | { op: 'delete'; rule: Rule }
  /** `-D CHAIN <args as iptables-save printed them>` */
  | { op: 'deleteSaved'; rule: SavedRule }
  /** `-F CHAIN` */
  | { op: 'flush'; chain: string }
  /** `-X CHAIN` (must be empty and unreferenced) */
  | { op: 'deleteChain'; chain: string };

/** A chain shared with other containers or processes: created with -N only when absent, never flushed. */
export interface SharedChain {
  name: string;
  /** Ops that go in the same transaction as the chain's -N, only when this transaction creates it
   *  (e.g. the PREROUTING/OUTPUT jumps into a port-mapper chain). */
  onCreate?: Op[];
}

export interface Transaction {
  /** 4 = iptables-restore, 6 = ip6tables-restore (default 4). */
  family?: Family;
  table: Table;
  /**
   * Chains this transaction owns outright, declared `:NAME - [0:0]`: created if absent and FLUSHED
   * if present (that is what a declaration does under --noflush), so the transaction must hold the
   * chain's whole content. Built-in chains and chains named in `shared` are refused.
   */
  own?: string[];
  /** Chains shared with others (see SharedChain). */
  shared?: SharedChain[];
  ops: Op[];
  /**
   * The tags whose rules this transaction adds to or removes from a chain's tag index (tag-index.ts;
   * nf_tables only, where it is written in the same batch; iptables-restore has no sets, so there
   * it is nothing). The index is created when this transaction creates that (shared) chain.
   */
  index?: TagIndexChange;
}

export interface TagIndexChange {
  chain: string;
  add?: string[];
  remove?: string[];
}

/** A transaction with every name and rule validated and rendered to lines (without COMMIT). */
export interface CheckedTransaction {
  family: Family;
  table: Table;
  own: string[];
  shared: { name: string; onCreate: string[] }[];
  lines: string[];
  index?: TagIndexChange;
}

const TX_KEYS = ['family', 'table', 'own', 'shared', 'ops', 'index'];

/** A rendered command line: `-A CHAIN tok tok …` with quoting. */
function line(cmd: string, chain: string, args: string[], field: string): string {
  return [cmd, chain, ...args].map((t, i) => tok.quote(t, `${field}${i > 1 ? `.args[${i - 2}]` : ''}`)).join(' ');
}

function savedArgs(v: unknown, field: string): { chain: string; args: string[] } {
  const s = tok.onlyKeys(v, field, ['chain', 'args', 'comment', 'text']);
  const chain = tok.chain(s['chain'], `${field}.chain`);
  const args = s['args'];
  if (!Array.isArray(args) || args.length === 0 || !args.every((a) => typeof a === 'string')) {
    throw new SpecError(`${field}.args: expected the non-empty token list of a saved rule`);
  }
  return { chain, args: args as string[] };
}

export function renderOp(v: unknown, fam: Family, tbl: Table, field: string): string {
  const kind = (typeof v === 'object' && v !== null ? (v as { op?: unknown }).op : undefined) as Op['op'] | undefined;
  switch (kind) {
    case 'append':
    case 'delete': {
      const o = tok.onlyKeys(v, field, ['op', 'rule']);
      const r = renderRule(o['rule'], fam, tbl, `${field}.rule`);
      return line(kind === 'append' ? '-A' : '-D', r.chain, r.args, `${field}.rule`);
    }
    case 'insert': {
      const o = tok.onlyKeys(v, field, ['op', 'rule', 'position']);
      const r = renderRule(o['rule'], fam, tbl, `${field}.rule`);
      const pos = o['position'];
      if (pos !== undefined && !(typeof pos === 'number' && Number.isInteger(pos) && pos >= 1 && pos <= 1_000_000)) {
        throw new SpecError(`${field}.position: expected an integer from 1, got ${JSON.stringify(pos)}`);
      }
      return line('-I', r.chain, pos === undefined ? r.args : [String(pos), ...r.args], `${field}.rule`);
    }
    case 'deleteSaved': {
      const o = tok.onlyKeys(v, field, ['op', 'rule']);
      const r = savedArgs(o['rule'], `${field}.rule`);
      return line('-D', r.chain, r.args, `${field}.rule`);
    }
    case 'flush':
    case 'deleteChain': {
      const o = tok.onlyKeys(v, field, ['op', 'chain']);
      const c = kind === 'flush' ? tok.chain(o['chain'], `${field}.chain`) : tok.userChain(o['chain'], `${field}.chain`, tbl);
      return `${kind === 'flush' ? '-F' : '-X'} ${c}`;
    }
    default:
      throw new SpecError(`${field}.op: expected one of append, insert, delete, deleteSaved, flush, deleteChain, got ${JSON.stringify(kind)}`);
  }
}

function list(v: unknown, field: string): unknown[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new SpecError(`${field}: expected an array, got ${JSON.stringify(v)}`);
  return v;
}

/** Validate a transaction and render its lines; throws SpecError naming the first bad field. */
export function checkTransaction(tx: unknown): CheckedTransaction {
  const t = tok.onlyKeys(tx, 'transaction', TX_KEYS);
  const family = tok.family(t['family'] ?? 4, 'transaction.family');
  const table = tok.table(t['table'], 'transaction.table');
  const seen = new Set<string>();
  const unique = (name: string, field: string) => {
    if (seen.has(name)) throw new SpecError(`${field}: chain ${name} is listed twice in own/shared`);
    seen.add(name);
    return name;
  };
  const shared = list(t['shared'], 'transaction.shared').map((s, i) => {
    const field = `transaction.shared[${i}]`;
    const o = tok.onlyKeys(s, field, ['name', 'onCreate']);
    const name = unique(tok.userChain(o['name'], `${field}.name`, table), `${field}.name`);
    const onCreate = list(o['onCreate'], `${field}.onCreate`).map((op, j) => renderOp(op, family, table, `${field}.onCreate[${j}]`));
    return { name, onCreate };
  });
  const own = list(t['own'], 'transaction.own').map((c, i) =>
    unique(tok.userChain(c, `transaction.own[${i}]`, table), `transaction.own[${i}]`),
  );
  const ops = list(t['ops'], 'transaction.ops');
  const lines = ops.map((op, i) => renderOp(op, family, table, `transaction.ops[${i}]`));
  const index = t['index'] === undefined ? undefined : checkIndex(t['index'], table);
  return { family, table, own, shared, lines, ...(index ? { index } : {}) };
}

function checkIndex(v: unknown, table: Table): TagIndexChange {
  const o = tok.onlyKeys(v, 'transaction.index', ['chain', 'add', 'remove']);
  const tags = (k: 'add' | 'remove') => list(o[k], `transaction.index.${k}`).map((c, i) => tok.comment(c, `transaction.index.${k}[${i}]`));
  return { chain: tok.userChain(o['chain'], 'transaction.index.chain', table), add: tags('add'), remove: tags('remove') };
}

/**
 * The payload text: `*table`, declarations of owned chains, `-N` (plus its onCreate lines) for
 * each shared chain in `create`, the ops, `COMMIT`.
 */
export function renderPayload(tx: CheckedTransaction, create: readonly string[] = []): string {
  const out = [`*${tx.table}`];
  for (const c of tx.own) out.push(`:${c} - [0:0]`);
  for (const s of tx.shared) {
    if (!create.includes(s.name)) continue;
    out.push(`-N ${s.name}`, ...s.onCreate);
  }
  out.push(...tx.lines, 'COMMIT', '');
  return out.join('\n');
}
