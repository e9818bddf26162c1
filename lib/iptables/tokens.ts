// Validators for every token that can reach an iptables-restore payload, and the quoting rules
// of the payload's tokenizer. Nothing leaves here that could end a line, close a quote or start a
// new option: a container ID with a quote, newline or control character is refused, never escaped.
import { SpecError } from '../native/index.js';
import { formatIp, networkOf, parsePrefix } from '../ip.js';

export type Family = 4 | 6;
export type Table = 'filter' | 'nat' | 'mangle' | 'raw' | 'security';
export const TABLES: readonly Table[] = ['filter', 'nat', 'mangle', 'raw', 'security'];

/** Built-in chains per table: never declared, created or deleted by a transaction. */
export const BUILTIN_CHAINS: Record<Table, readonly string[]> = {
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
  raw: ['PREROUTING', 'OUTPUT'],
  security: ['INPUT', 'FORWARD', 'OUTPUT'],
};

// iptables refuses a chain named like a target it can load ("chain name may not clash with target
// name"); COMMIT is the payload's own keyword, never a chain of ours.
const RESERVED_NAMES = new Set([
  'COMMIT',
  'ACCEPT', 'DROP', 'RETURN', 'QUEUE', 'REJECT', 'LOG', 'NFLOG', 'NFQUEUE', 'DNAT', 'SNAT', 'MASQUERADE',
  'REDIRECT', 'NETMAP', 'MARK', 'CONNMARK', 'CT', 'NOTRACK', 'TRACE', 'CHECKSUM', 'TCPMSS', 'TPROXY',
  'AUDIT', 'CLASSIFY', 'DSCP', 'TOS', 'TTL', 'HL', 'SET', 'SECMARK', 'CONNSECMARK', 'IDLETIMER', 'LED',
  'RATEEST', 'TEE', 'SYNPROXY', 'HMARK', 'CLUSTERIP', 'ECN', 'TCPOPTSTRIP', 'JUMP', 'GOTO',
]);

export function table(v: unknown, field: string): Table {
  if (typeof v === 'string' && (TABLES as readonly string[]).includes(v)) return v as Table;
  throw new SpecError(`${field}: expected one of ${TABLES.join(', ')}, got ${JSON.stringify(v)}`);
}

export function family(v: unknown, field: string): Family {
  if (v === 4 || v === 6) return v;
  throw new SpecError(`${field}: expected 4 or 6, got ${JSON.stringify(v)}`);
}

/** Any chain name a rule may live in or refer to: [A-Za-z0-9_.-], 1-28 characters (XT_EXTENSION_MAXNAMELEN - 1). */
export function chain(v: unknown, field: string): string {
  if (typeof v === 'string' && /^[A-Za-z0-9_.][A-Za-z0-9_.-]{0,27}$/.test(v) && !RESERVED_NAMES.has(v)) return v;
  throw new SpecError(
    `${field}: expected a chain name of 1-28 characters [A-Za-z0-9_.-], not starting with '-' and not a target name, got ${JSON.stringify(v)}`,
  );
}

/** A user-defined chain of `tbl`: a valid name that is not one of the table's built-in chains. */
export function userChain(v: unknown, field: string, tbl: Table): string {
  const name = chain(v, field);
  if (BUILTIN_CHAINS[tbl].includes(name)) {
    throw new SpecError(`${field}: expected a user-defined chain, got the built-in ${tbl} chain ${name}`);
  }
  return name;
}

/** An interface name for -i/-o; a trailing '+' matches every name with that prefix. */
export function iface(v: unknown, field: string): string {
  if (typeof v === 'string' && /^[A-Za-z0-9_.@-]{1,15}\+?$/.test(v) && v.length <= 15 && v !== '.' && v !== '..') return v;
  throw new SpecError(`${field}: expected an interface name of 1-15 characters [A-Za-z0-9_.@-] with an optional trailing '+', got ${JSON.stringify(v)}`);
}

/**
 * An address or CIDR of the rule's family, in iptables-save's canonical form: host bits cleared and
 * the prefix always written (10.0.0.1 → 10.0.0.1/32), so a rendered rule compares equal to its save.
 */
export function cidr(v: unknown, field: string, fam: Family): string {
  const p = parsePrefix(v, field);
  if (p.family !== fam) {
    throw new SpecError(`${field}: expected an IPv${fam} address or CIDR (ip${fam === 6 ? '6' : ''}tables), got ${JSON.stringify(v)}`);
  }
  const n = networkOf(p);
  return `${formatIp(n.bytes)}/${n.prefix}`;
}

/** A single address of the rule's family (NAT targets), canonical text. */
export function address(v: unknown, field: string, fam: Family): string {
  const p = parsePrefix(v, field);
  if (p.family !== fam || (typeof v === 'string' && v.includes('/'))) {
    throw new SpecError(`${field}: expected an IPv${fam} address without a prefix, got ${JSON.stringify(v)}`);
  }
  return formatIp(p.bytes);
}

export type PortSpec = number | readonly [number, number];

function portNumber(v: unknown, field: string, min: number): number {
  if (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= 65535) return v;
  throw new SpecError(`${field}: expected a port from ${min} to 65535, got ${JSON.stringify(v)}`);
}

/** A port or [low, high] range; `sep` is ':' in matches and '-' in NAT targets. */
export function ports(v: unknown, field: string, sep: ':' | '-', min = 0): string {
  if (Array.isArray(v) && v.length === 2) {
    const lo = portNumber(v[0], `${field}[0]`, min);
    const hi = portNumber(v[1], `${field}[1]`, min);
    if (lo > hi) throw new SpecError(`${field}: expected a range with low <= high, got ${JSON.stringify(v)}`);
    return lo === hi ? String(lo) : `${lo}${sep}${hi}`;
  }
  if (typeof v === 'number') return String(portNumber(v, field, min));
  throw new SpecError(`${field}: expected a port number or a [low, high] range, got ${JSON.stringify(v)}`);
}

export type Protocol = 'tcp' | 'udp' | 'sctp' | 'icmp' | 'icmpv6' | 'ipv6-icmp';
/** Protocols with --sport/--dport matches. */
export const PORT_PROTOCOLS: readonly string[] = ['tcp', 'udp', 'sctp'];

/** A protocol by the name iptables-save prints for it in this family. */
export function protocol(v: unknown, field: string, fam: Family): string {
  const ok = fam === 4 ? ['tcp', 'udp', 'sctp', 'icmp'] : ['tcp', 'udp', 'sctp', 'icmpv6', 'ipv6-icmp'];
  if (typeof v === 'string' && ok.includes(v)) return v === 'icmpv6' ? 'ipv6-icmp' : v;
  throw new SpecError(`${field}: expected one of ${ok.join(', ')} for IPv${fam}, got ${JSON.stringify(v)}`);
}

/**
 * Comment text (container IDs, tags): printable ASCII without '"' or '\\', 1-255 characters (the
 * kernel's xt_comment holds 256 bytes including the NUL). No escaping is attempted: refusing is the
 * only way a hostile label can never become payload syntax.
 */
export function comment(v: unknown, field: string): string {
  if (isComment(v)) return v;
  throw new SpecError(
    `${field}: expected 1-255 printable ASCII characters without '"' or '\\' (no newline, NUL or control characters), got ${JSON.stringify(v)}`,
  );
}

/** Whether `v` is a comment that `comment` accepts. */
export function isComment(v: unknown): v is string {
  return typeof v === 'string' && /^[\x20-\x7e]{1,255}$/.test(v) && !/["\\]/.test(v);
}

/** An ipset name (IPSET_MAXNAMELEN 32 including the NUL). */
export function setName(v: unknown, field: string): string {
  if (typeof v === 'string' && /^[A-Za-z0-9_.:-]{1,31}$/.test(v) && !v.startsWith('-')) return v;
  throw new SpecError(`${field}: expected an ipset name of 1-31 characters [A-Za-z0-9_.:-], got ${JSON.stringify(v)}`);
}

/** A 32-bit mark value or mask, as iptables-save prints it (lower-case hex). */
export function mark(v: unknown, field: string): string {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff) return '0x' + v.toString(16);
  throw new SpecError(`${field}: expected an integer from 0 to 0xffffffff, got ${JSON.stringify(v)}`);
}

export const ADDR_TYPES = [
  'UNSPEC', 'UNICAST', 'LOCAL', 'BROADCAST', 'ANYCAST', 'MULTICAST', 'BLACKHOLE', 'UNREACHABLE', 'PROHIBIT', 'THROW', 'NAT', 'XRESOLVE',
] as const;
export type AddrType = (typeof ADDR_TYPES)[number];

// The order libxt_conntrack prints states in, so a rendered --ctstate equals the saved one.
export const CT_STATES = ['INVALID', 'NEW', 'RELATED', 'ESTABLISHED', 'UNTRACKED', 'SNAT', 'DNAT'] as const;
export type CtState = (typeof CT_STATES)[number];

/** One of a fixed set of strings. */
export function oneOf<T extends string>(v: unknown, field: string, allowed: readonly T[]): T {
  if (typeof v === 'string' && (allowed as readonly string[]).includes(v)) return v as T;
  throw new SpecError(`${field}: expected one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
}

/** Refuse keys the model does not know: a typo (`dPort`) must not silently drop a match. */
export function onlyKeys(v: unknown, field: string, keys: readonly string[]): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new SpecError(`${field}: expected an object, got ${JSON.stringify(v)}`);
  for (const k of Object.keys(v)) {
    if (!keys.includes(k)) throw new SpecError(`${field}.${k}: unknown field (expected one of ${keys.join(', ')})`);
  }
  return v as Record<string, unknown>;
}

// Tokens written bare; anything else is double-quoted exactly as iptables-save quotes it.
const BARE = /^[A-Za-z0-9_.:\/,+@%=!-]+$/;

/**
 * One token as payload text. Our own tokens are validated before they get here; tokens read back
 * from iptables-save (for -D) may hold quotes or backslashes, which the restore tokenizer accepts
 * backslash-escaped inside double quotes. Line breaks and control characters can never be written.
 */
export function quote(tok: string, field = 'token'): string {
  if (BARE.test(tok)) return tok;
  if (/[\x00-\x1f\x7f]/.test(tok)) throw new SpecError(`${field}: control characters cannot be written to an iptables payload, got ${JSON.stringify(tok)}`);
  return '"' + tok.replace(/["\\']/g, (c) => '\\' + c) + '"';
}

/**
 * Split one payload/save line into tokens the way iptables-restore does: whitespace separates,
 * a double quote opens a quoted token in which a backslash escapes the next character, and the
 * closing quote ends the token.
 */
export function tokenize(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inToken = false;
  let quoted = false;
  let escaped = false;
  for (const ch of line) {
    if (quoted) {
      if (escaped) {
        cur += ch;
        escaped = false;
      } else if (ch === '\\') {
        escaped = true;
      } else if (ch === '"') {
        quoted = false;
        out.push(cur);
        cur = '';
        inToken = false;
      } else {
        cur += ch;
      }
      continue;
    }
    if (ch === '"') {
      quoted = true;
      inToken = true;
    } else if (ch === ' ' || ch === '\t' || ch === '\n') {
      if (inToken) out.push(cur);
      cur = '';
      inToken = false;
    } else {
      cur += ch;
      inToken = true;
    }
  }
  if (quoted) throw new SpecError(`iptables line: unterminated quote in ${JSON.stringify(line)}`);
  if (inToken) out.push(cur);
  return out;
}
