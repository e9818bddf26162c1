// IP sets (the kernel's ipset, which iptables rules match with `-m set --match-set`): a typed model
// rendered into one `ipset restore -exist` run inside a namespace, and the sets read back from
// `ipset save`. Every token is validated before anything runs, as for iptables payloads.
import { SpecError } from '../native/index.js';
import { execInNetns, type Netns } from '../netns/index.js';
import { IptablesError } from './errors.js';
import * as tok from './tokens.js';
import type { Family } from './tokens.js';

/** The set types this library writes (the ones whose entries are addresses or networks). */
export const SET_TYPES = ['hash:net', 'hash:ip'] as const;
export type SetType = (typeof SET_TYPES)[number];

export type IpsetOp =
  /** `create NAME TYPE [family inet6] [counters]`; with -exist an existing set of that type stays as it is. */
  | { op: 'create'; set: string; type: SetType; family?: Family; counters?: boolean }
  /** `add NAME ENTRY [nomatch]`; with -exist an existing entry is updated (its nomatch flag too). */
  | { op: 'add'; set: string; entry: string; nomatch?: boolean }
  /** `del NAME ENTRY`; with -exist an absent entry is no error. */
  | { op: 'del'; set: string; entry: string }
  /** `flush NAME`: remove every entry. */
  | { op: 'flush'; set: string };

export interface IpsetEntry {
  /** The entry as ipset prints it: a network as `a.b.c.d/len`, a host as its bare address. */
  entry: string;
  nomatch: boolean;
}

export interface SavedSet {
  name: string;
  type: string;
  family: Family;
  counters: boolean;
  entries: IpsetEntry[];
}

export interface IpsetOptions {
  /** Kill ipset after this long (default 15 s, upstream DC/OS's command timeout). */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 15_000;

/** ipset's own form of an entry: a host route (/32, /128) is printed without its prefix. */
function entryText(v: unknown, field: string, fam: Family): string {
  const text = tok.cidr(v, field, fam);
  return text.endsWith(fam === 4 ? '/32' : '/128') ? text.slice(0, text.lastIndexOf('/')) : text;
}

/** Validate ops and render the `ipset restore` payload (one command a line). */
export function renderIpset(ops: readonly IpsetOp[]): string {
  if (!Array.isArray(ops)) throw new SpecError('ipset: ops: expected an array');
  // The family of each set, from its create op, so entries are checked against it (default inet).
  const families = new Map<string, Family>();
  const lines = ops.map((o, i) => {
    const field = `ops[${i}]`;
    const kind = (o as { op?: unknown }).op;
    if (kind === 'create') {
      const c = tok.onlyKeys(o, field, ['op', 'set', 'type', 'family', 'counters']);
      const name = tok.setName(c['set'], `${field}.set`);
      const type = tok.oneOf(c['type'], `${field}.type`, SET_TYPES);
      const fam = c['family'] === undefined ? 4 : tok.family(c['family'], `${field}.family`);
      if (c['counters'] !== undefined && typeof c['counters'] !== 'boolean') throw new SpecError(`${field}.counters: expected true or false, got ${JSON.stringify(c['counters'])}`);
      families.set(name, fam);
      return ['create', name, type, ...(fam === 6 ? ['family', 'inet6'] : []), ...(c['counters'] ? ['counters'] : [])].join(' ');
    }
    if (kind === 'add' || kind === 'del') {
      const a = tok.onlyKeys(o, field, kind === 'add' ? ['op', 'set', 'entry', 'nomatch'] : ['op', 'set', 'entry']);
      const name = tok.setName(a['set'], `${field}.set`);
      const entry = entryText(a['entry'], `${field}.entry`, families.get(name) ?? (String(a['entry']).includes(':') ? 6 : 4));
      if (a['nomatch'] !== undefined && typeof a['nomatch'] !== 'boolean') throw new SpecError(`${field}.nomatch: expected true or false, got ${JSON.stringify(a['nomatch'])}`);
      return [kind, name, entry, ...(a['nomatch'] ? ['nomatch'] : [])].join(' ');
    }
    if (kind === 'flush') return `flush ${tok.setName(tok.onlyKeys(o, field, ['op', 'set'])['set'], `${field}.set`)}`;
    throw new SpecError(`${field}.op: expected create, add, del or flush, got ${JSON.stringify(kind)}`);
  });
  return lines.join('\n') + '\n';
}

/**
 * `ipset restore -exist` inside `ns` (undefined = this process's namespace): every op in one run,
 * applied in order. Not atomic (the kernel has no ipset transaction): a failing line stops the
 * run with the lines before it applied; with -exist every op is idempotent, so running the same
 * ops again completes it.
 */
export async function restore(ns: Netns | undefined, ops: readonly IpsetOp[], opts: IpsetOptions = {}): Promise<void> {
  const payload = renderIpset(ops);
  const r = await execInNetns(ns, 'ipset', ['restore', '-exist'], { stdin: payload, timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS, check: false });
  if (r.status !== 0 || r.timedOut) throw IptablesError.from('ipset restore', 'ipset', r, payload);
}

/** `ipset save NAME`, parsed; undefined when the set does not exist. */
export async function save(ns: Netns | undefined, name: string, opts: IpsetOptions = {}): Promise<SavedSet | undefined> {
  const set = tok.setName(name, 'name');
  const r = await execInNetns(ns, 'ipset', ['save', set], { timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS, check: false });
  if (r.status !== 0 || r.timedOut) {
    if (/does not exist/.test(r.stderr)) return undefined;
    throw IptablesError.from('ipset save', 'ipset', r);
  }
  return parseIpsetSave(r.stdout, set);
}

/** Parse `ipset save` output for one set (`create NAME TYPE opts…` then `add NAME ENTRY opts…`). */
export function parseIpsetSave(text: string, name: string): SavedSet | undefined {
  let out: SavedSet | undefined;
  for (const line of text.split('\n')) {
    const t = line.trim().split(/\s+/);
    if (t[1] !== name) continue;
    if (t[0] === 'create') {
      const at = t.indexOf('family');
      out = { name, type: t[2] ?? '', family: at > 0 && t[at + 1] === 'inet6' ? 6 : 4, counters: t.includes('counters'), entries: [] };
    } else if (t[0] === 'add' && out && t[2] !== undefined) {
      out.entries.push({ entry: t[2], nomatch: t.slice(3).includes('nomatch') });
    }
  }
  return out;
}
