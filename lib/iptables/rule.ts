// The typed rule model and its rendering into tokens, in exactly the form iptables-save prints
// them (option order, address prefixes, hex marks), so a rendered rule can be compared with a
// saved one token for token.
import { SpecError } from '../native/index.js';
import * as tok from './tokens.js';
import type { AddrType, CtState, Family, PortSpec, Protocol, Table } from './tokens.js';

/** A match value, or its negation (`! -i dev`). */
export type Neg<T> = T | { not: T };

export type Target =
  | { kind: 'ACCEPT' | 'DROP' | 'RETURN' }
  /** `-j CHAIN` */
  | { kind: 'jump'; chain: string }
  /** `-g CHAIN` */
  | { kind: 'goto'; chain: string }
  /** `-j DNAT --to-destination ip[:port[-port]]` (nat table) */
  | { kind: 'DNAT'; ip: string; port?: PortSpec }
  /** `-j SNAT --to-source ip[:port[-port]]` (nat table) */
  | { kind: 'SNAT'; ip: string; port?: PortSpec }
  /** `-j MASQUERADE [--random]` (nat table) */
  | { kind: 'MASQUERADE'; random?: boolean }
  /** `-j MARK --set-xmark value/mask` (mask defaults to 0xffffffff, i.e. --set-mark) */
  | { kind: 'MARK'; value: number; mask?: number };

export interface Rule {
  chain: string;
  /** `-s` address or CIDR */
  source?: Neg<string>;
  /** `-d` address or CIDR */
  destination?: Neg<string>;
  /** `-i` interface (trailing '+' = prefix) */
  inInterface?: Neg<string>;
  /** `-o` interface */
  outInterface?: Neg<string>;
  /** `-p` */
  protocol?: Neg<Protocol>;
  /** `-m <proto> --sport` (needs protocol tcp, udp or sctp) */
  sport?: Neg<PortSpec>;
  /** `-m <proto> --dport` */
  dport?: Neg<PortSpec>;
  /** `-m addrtype --src-type/--dst-type` */
  addrType?: { src?: Neg<AddrType>; dst?: Neg<AddrType> };
  /** `-m set --match-set NAME src,dst` */
  matchSet?: Neg<{ name: string; flags: readonly ('src' | 'dst')[] }>;
  /** `-m mark --mark value[/mask]` */
  mark?: Neg<{ value: number; mask?: number }>;
  /** `-m conntrack --ctstate A,B` */
  ctState?: Neg<readonly CtState[]>;
  /** `-m comment --comment TEXT`: the tag removeTagged matches exactly */
  comment?: string;
  target: Target;
}

const RULE_KEYS = [
  'chain', 'source', 'destination', 'inInterface', 'outInterface', 'protocol', 'sport', 'dport', 'addrType',
  'matchSet', 'mark', 'ctState', 'comment', 'target',
] as const;
const NAT_TARGETS = ['DNAT', 'SNAT', 'MASQUERADE'];

function isNot(v: unknown): v is { not: unknown } {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 1 && 'not' in v;
}

/** Split a Neg<T> into its value and whether it is negated. */
function neg(v: unknown): [unknown, boolean] {
  return isNot(v) ? [v.not, true] : [v, false];
}

/** `[! ] opt value` for an option that may be negated. */
function opt(out: string[], negated: boolean, option: string, value: string): void {
  if (negated) out.push('!');
  out.push(option, value);
}

// `portProto`: the rule matches -p tcp/udp/sctp (not negated), which a NAT port needs.
function target(v: unknown, field: string, fam: Family, tbl: Table | undefined, portProto: boolean): string[] {
  const kind = tok.onlyKeys(v, field, ['kind', 'chain', 'ip', 'port', 'random', 'value', 'mask'])['kind'];
  const only = (keys: string[]) => tok.onlyKeys(v, field, ['kind', ...keys]);
  if (typeof kind === 'string' && NAT_TARGETS.includes(kind) && tbl !== undefined && tbl !== 'nat') {
    throw new SpecError(`${field}.kind: ${kind} is only valid in the nat table, not ${tbl}`);
  }
  switch (kind) {
    case 'ACCEPT':
    case 'DROP':
    case 'RETURN':
      only([]);
      if (kind === 'DROP' && tbl === 'nat') throw new SpecError(`${field}.kind: DROP is refused in the nat table (not meant for filtering)`);
      return ['-j', kind];
    case 'jump':
    case 'goto': {
      const t = only(['chain']);
      const c = tbl ? tok.userChain(t['chain'], `${field}.chain`, tbl) : tok.chain(t['chain'], `${field}.chain`);
      return [kind === 'jump' ? '-j' : '-g', c];
    }
    case 'DNAT':
    case 'SNAT': {
      const t = only(['ip', 'port']);
      if (t['port'] !== undefined && !portProto) {
        throw new SpecError(`${field}.port: a NAT port needs the rule's protocol to be tcp, udp or sctp (not negated)`);
      }
      const ip = tok.address(t['ip'], `${field}.ip`, fam);
      const host = fam === 6 && t['port'] !== undefined ? `[${ip}]` : ip;
      const to = t['port'] === undefined ? host : `${host}:${tok.ports(t['port'], `${field}.port`, '-', 1)}`;
      return ['-j', kind, kind === 'DNAT' ? '--to-destination' : '--to-source', to];
    }
    case 'MASQUERADE': {
      const t = only(['random']);
      if (t['random'] !== undefined && typeof t['random'] !== 'boolean') {
        throw new SpecError(`${field}.random: expected true or false, got ${JSON.stringify(t['random'])}`);
      }
      return t['random'] ? ['-j', 'MASQUERADE', '--random'] : ['-j', 'MASQUERADE'];
    }
    case 'MARK': {
      const t = only(['value', 'mask']);
      const value = tok.mark(t['value'], `${field}.value`);
      const mask = tok.mark(t['mask'] ?? 0xffffffff, `${field}.mask`);
      return ['-j', 'MARK', '--set-xmark', `${value}/${mask}`];
    }
    default:
      throw new SpecError(
        `${field}.kind: expected one of ACCEPT, DROP, RETURN, jump, goto, DNAT, SNAT, MASQUERADE, MARK, got ${JSON.stringify(kind)}`,
      );
  }
}

/**
 * Validate a rule and render everything after `-A CHAIN` as tokens (unquoted values).
 * `tbl` enables table checks (NAT targets only in nat; jumps only to user chains).
 */
export function renderRule(rule: unknown, fam: Family, tbl?: Table, field = 'rule'): { chain: string; args: string[] } {
  const r = tok.onlyKeys(rule, field, RULE_KEYS);
  const chain = tok.chain(r['chain'], `${field}.chain`);
  const out: string[] = [];
  for (const [key, option] of [['source', '-s'], ['destination', '-d']] as const) {
    if (r[key] === undefined) continue;
    const [v, n] = neg(r[key]);
    opt(out, n, option, tok.cidr(v, `${field}.${key}`, fam));
  }
  for (const [key, option] of [['inInterface', '-i'], ['outInterface', '-o']] as const) {
    if (r[key] === undefined) continue;
    const [v, n] = neg(r[key]);
    opt(out, n, option, tok.iface(v, `${field}.${key}`));
  }
  let proto: string | undefined;
  let protoNegated = false;
  if (r['protocol'] !== undefined) {
    const [v, n] = neg(r['protocol']);
    proto = tok.protocol(v, `${field}.protocol`, fam);
    protoNegated = n;
    opt(out, n, '-p', proto);
  }
  if (r['sport'] !== undefined || r['dport'] !== undefined) {
    if (proto === undefined || protoNegated || !tok.PORT_PROTOCOLS.includes(proto)) {
      throw new SpecError(`${field}.protocol: expected tcp, udp or sctp (not negated) when sport/dport is set, got ${JSON.stringify(r['protocol'])}`);
    }
    out.push('-m', proto);
    for (const [key, option] of [['sport', '--sport'], ['dport', '--dport']] as const) {
      if (r[key] === undefined) continue;
      const [v, n] = neg(r[key]);
      opt(out, n, option, tok.ports(v, `${field}.${key}`, ':'));
    }
  }
  if (r['addrType'] !== undefined) {
    const a = tok.onlyKeys(r['addrType'], `${field}.addrType`, ['src', 'dst']);
    if (a['src'] === undefined && a['dst'] === undefined) throw new SpecError(`${field}.addrType: expected src and/or dst`);
    out.push('-m', 'addrtype');
    for (const [key, option] of [['src', '--src-type'], ['dst', '--dst-type']] as const) {
      if (a[key] === undefined) continue;
      const [v, n] = neg(a[key]);
      opt(out, n, option, tok.oneOf(v, `${field}.addrType.${key}`, tok.ADDR_TYPES));
    }
  }
  if (r['matchSet'] !== undefined) {
    const [v, n] = neg(r['matchSet']);
    const s = tok.onlyKeys(v, `${field}.matchSet`, ['name', 'flags']);
    const flags = s['flags'];
    if (!Array.isArray(flags) || flags.length < 1 || flags.length > 6) {
      throw new SpecError(`${field}.matchSet.flags: expected 1-6 of 'src'/'dst', got ${JSON.stringify(flags)}`);
    }
    const f = flags.map((x, i) => tok.oneOf(x, `${field}.matchSet.flags[${i}]`, ['src', 'dst'] as const));
    out.push('-m', 'set');
    opt(out, n, '--match-set', tok.setName(s['name'], `${field}.matchSet.name`));
    out.push(f.join(','));
  }
  if (r['mark'] !== undefined) {
    const [v, n] = neg(r['mark']);
    const m = tok.onlyKeys(v, `${field}.mark`, ['value', 'mask']);
    const value = tok.mark(m['value'], `${field}.mark.value`);
    const mask = m['mask'] === undefined || m['mask'] === 0xffffffff ? '' : '/' + tok.mark(m['mask'], `${field}.mark.mask`);
    out.push('-m', 'mark');
    opt(out, n, '--mark', value + mask);
  }
  if (r['ctState'] !== undefined) {
    const [v, n] = neg(r['ctState']);
    if (!Array.isArray(v) || v.length === 0) throw new SpecError(`${field}.ctState: expected a non-empty list of ${tok.CT_STATES.join(', ')}`);
    const states = new Set(v.map((s, i) => tok.oneOf(s, `${field}.ctState[${i}]`, tok.CT_STATES)));
    out.push('-m', 'conntrack');
    opt(out, n, '--ctstate', tok.CT_STATES.filter((s) => states.has(s)).join(','));
  }
  if (r['comment'] !== undefined) out.push('-m', 'comment', '--comment', tok.comment(r['comment'], `${field}.comment`));
  const portProto = proto !== undefined && !protoNegated && tok.PORT_PROTOCOLS.includes(proto);
  out.push(...target(r['target'], `${field}.target`, fam, tbl, portProto));
  return { chain, args: out };
}
