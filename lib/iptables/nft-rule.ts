// A rule in iptables-save's canonical tokens (what renderRule writes and iptables-save prints)
// lowered for the addon's nf_tables encoder (native/netlink/nft_rule.cc), which writes it in the
// form iptables-nft 1.8.x does. Only the shapes of the rule model are lowered; anything else
// (a token this does not know) returns undefined and the transaction keeps iptables-restore.
import { parseIp, parsePrefix, networkOf } from '../ip.js';
import type { NativeNftMatch, NativeNftPorts, NativeNftRule, NativeNftTarget } from '../native/index.js';
import { ADDR_TYPES, CT_STATES, type Family } from './tokens.js';

const PROTOCOLS: Record<string, number> = { tcp: 6, udp: 17, sctp: 132, icmp: 1, 'ipv6-icmp': 58 };
const VERDICTS = ['ACCEPT', 'DROP', 'RETURN'];

class Unknown extends Error {}
const unknown = (): never => {
  throw new Unknown();
};

function ports(v: string | undefined, neg: boolean): NativeNftPorts {
  const m = /^(\d{1,5})(?::(\d{1,5}))?$/.exec(v ?? '') ?? unknown();
  const lo = Number(m[1]);
  const hi = m[2] === undefined ? lo : Number(m[2]);
  if (hi > 65535 || lo > hi) unknown();
  return { lo, hi, neg };
}

function hex32(v: string): number {
  if (!/^0x[0-9a-f]{1,8}$/.test(v)) unknown();
  return parseInt(v.slice(2), 16);
}

function address(v: string | undefined, family: Family, neg: boolean) {
  const p = (() => {
    try {
      return parsePrefix(v, 'address');
    } catch {
      return unknown();
    }
  })();
  // 0/0 matches everything: iptables writes no expression for it; rare enough to leave to it.
  if (p.family !== family || p.prefix === 0) unknown();
  // The canonical form has the host bits clear (iptables-save never prints them set).
  const n = networkOf(p);
  if (!n.bytes.every((b, i) => b === p.bytes[i])) unknown();
  return { addr: n.bytes, prefix: n.prefix, neg };
}

/** `ip[:port[-port]]` / `[ip6]:port[-port]` / `ip6` of a NAT target. */
function natTo(v: string | undefined, family: Family): { addr: Uint8Array; ports?: { lo: number; hi: number } } {
  const m = (family === 6 ? /^(?:\[([0-9a-f:.]+)\]|([0-9a-f:.]+))(?::(\d{1,5})(?:-(\d{1,5}))?)?$/ : /^()([0-9.]+)(?::(\d{1,5})(?:-(\d{1,5}))?)?$/).exec(v ?? '') ?? unknown();
  if (family === 6 && m[3] !== undefined && m[1] === undefined) unknown();
  const ip = (() => {
    try {
      return parseIp(m[1] || m[2], 'address');
    } catch {
      return unknown();
    }
  })();
  if (ip.family !== family) unknown();
  if (m[3] === undefined) return { addr: ip.bytes };
  const lo = Number(m[3]);
  const hi = m[4] === undefined ? lo : Number(m[4]);
  if (lo < 1 || hi > 65535 || lo > hi) unknown();
  return { addr: ip.bytes, ports: { lo, hi } };
}

function target(t: string[], family: Family): NativeNftTarget {
  const [flag, name, ...rest] = t;
  if (flag === '-g') return rest.length === 0 && name ? { kind: 'goto', chain: name } : unknown();
  if (flag !== '-j' || !name) unknown();
  if (VERDICTS.includes(name!)) return rest.length === 0 ? { kind: name as 'ACCEPT' } : unknown();
  switch (name) {
    case 'DNAT':
    case 'SNAT':
      if (rest.length !== 2 || rest[0] !== (name === 'DNAT' ? '--to-destination' : '--to-source')) unknown();
      return { kind: name, ...natTo(rest[1], family) };
    case 'MASQUERADE':
      if (rest.length === 0) return { kind: 'MASQUERADE', random: false };
      return rest.length === 1 && rest[0] === '--random' ? { kind: 'MASQUERADE', random: true } : unknown();
    case 'MARK': {
      if (rest.length !== 2 || rest[0] !== '--set-xmark') unknown();
      const [v, m] = rest[1]!.split('/');
      return { kind: 'MARK', value: hex32(v!), mask: m === undefined ? 0xffffffff : hex32(m) };
    }
    default:
      // A user chain: iptables-save writes a jump to it as -j NAME, with nothing after.
      return rest.length === 0 && /^[A-Za-z0-9_.][A-Za-z0-9_.-]{0,27}$/.test(name!) && !KNOWN_TARGETS.has(name!) ? { kind: 'jump', chain: name! } : unknown();
  }
}
// Targets iptables has as extensions: a `-j` of one of these is not a chain we can jump to.
const KNOWN_TARGETS = new Set([
  'QUEUE', 'REJECT', 'LOG', 'NFLOG', 'NFQUEUE', 'REDIRECT', 'NETMAP', 'CONNMARK', 'CT', 'NOTRACK', 'TRACE', 'CHECKSUM', 'TCPMSS',
  'TPROXY', 'AUDIT', 'CLASSIFY', 'DSCP', 'TOS', 'TTL', 'HL', 'SET', 'SECMARK', 'CONNSECMARK', 'IDLETIMER', 'LED', 'RATEEST', 'TEE',
  'SYNPROXY', 'HMARK', 'CLUSTERIP', 'ECN', 'TCPOPTSTRIP',
]);

/**
 * `args` (the tokens after `-A CHAIN`, unquoted) as the encoder's spec, or undefined when they
 * hold anything outside the rule model.
 */
export function lowerArgs(chain: string, args: readonly string[], family: Family): NativeNftRule | undefined {
  try {
    return lower(chain, args, family);
  } catch (e) {
    if (e instanceof Unknown) return undefined;
    throw e;
  }
}

function lower(chain: string, args: readonly string[], family: Family): NativeNftRule {
  const r: NativeNftRule = { chain, matches: [], target: { kind: 'ACCEPT' } };
  let i = 0;
  let neg = false;
  const next = () => args[i++];
  const take = () => {
    const n = neg;
    neg = false;
    return n;
  };
  const seen = new Set<string>();
  const once = (k: string) => (seen.has(k) ? unknown() : seen.add(k));
  while (i < args.length) {
    const a = next()!;
    if (a === '!') {
      if (neg) unknown();
      neg = true;
      continue;
    }
    switch (a) {
      case '-s':
      case '-d':
        once(a);
        r[a === '-s' ? 'src' : 'dst'] = address(next(), family, take());
        break;
      case '-i':
      case '-o': {
        once(a);
        const name = next() ?? unknown();
        if (!/^[A-Za-z0-9_.@-]{1,15}\+?$/.test(name) || name.length > 15) unknown();
        r[a === '-i' ? 'iif' : 'oif'] = { name, neg: take() };
        break;
      }
      case '-p': {
        once(a);
        const num = PROTOCOLS[next() ?? ''] ?? unknown();
        if ((num === 1 && family !== 4) || (num === 58 && family !== 6)) unknown();
        r.proto = { num, neg: take() };
        break;
      }
      case '-m': {
        if (neg) unknown();
        const name = next() ?? unknown();
        i = match(r, args, i, name, family);
        break;
      }
      case '-j':
      case '-g':
        if (neg) unknown();
        r.target = target(args.slice(i - 1), family);
        return r;
      default:
        unknown();
    }
  }
  return unknown(); // no target
}

/** One `-m NAME` and its options from args[i]; returns the index after them. */
function match(r: NativeNftRule, args: readonly string[], i: number, name: string, family: Family): number {
  const opts: { neg: boolean; opt: string; value: string; flags?: string }[] = [];
  while (i < args.length && args[i] !== '-m' && args[i] !== '-j' && args[i] !== '-g') {
    let neg = false;
    if (args[i] === '!') {
      neg = true;
      i++;
    }
    const opt = args[i++];
    if (!opt?.startsWith('--')) unknown();
    // Every option of the model's matches takes one value; --match-set takes the flags too.
    const value = args[i++] ?? unknown();
    const flags = name === 'set' && opt === '--match-set' ? (args[i++] ?? unknown()) : undefined;
    opts.push({ neg, opt: opt!, value, ...(flags === undefined ? {} : { flags }) });
  }
  const one = (o: string) => {
    const found = opts.filter((x) => x.opt === o);
    return found.length > 1 ? unknown() : found[0];
  };
  const only = (...names: string[]) => opts.every((o) => names.includes(o.opt)) || unknown();
  let m: NativeNftMatch;
  switch (name) {
    case 'tcp':
    case 'udp':
    case 'sctp': {
      only('--sport', '--dport');
      if (r.proto === undefined || r.proto.neg || r.proto.num !== PROTOCOLS[name]) unknown();
      const s = one('--sport');
      const d = one('--dport');
      if (!s && !d) unknown();
      m = { kind: name, ...(s ? { sport: ports(s.value, s.neg) } : {}), ...(d ? { dport: ports(d.value, d.neg) } : {}) };
      break;
    }
    case 'addrtype': {
      only('--src-type', '--dst-type');
      const s = one('--src-type');
      const d = one('--dst-type');
      const ok = (v: string) => (ADDR_TYPES as readonly string[]).includes(v) || unknown();
      if (s) ok(s.value);
      if (d) ok(d.value);
      if (!s && !d) unknown();
      m = { kind: 'addrtype', ...(s ? { srcType: s.value, srcNeg: s.neg } : {}), ...(d ? { dstType: d.value, dstNeg: d.neg } : {}) };
      break;
    }
    case 'set': {
      // `--match-set NAME src,dst`
      if (opts.length !== 1 || opts[0]!.opt !== '--match-set') unknown();
      const flags = (opts[0]!.flags ?? unknown()).split(',');
      if (flags.length < 1 || flags.length > 6 || !flags.every((f) => f === 'src' || f === 'dst')) unknown();
      if (!/^[A-Za-z0-9_.:-]{1,31}$/.test(opts[0]!.value)) unknown();
      m = { kind: 'set', name: opts[0]!.value, flags: flags as ('src' | 'dst')[], neg: opts[0]!.neg };
      break;
    }
    case 'mark': {
      only('--mark');
      const o = one('--mark') ?? unknown();
      const [v, mask] = o.value.split('/');
      m = { kind: 'mark', value: hex32(v!), mask: mask === undefined ? 0xffffffff : hex32(mask), neg: o.neg };
      break;
    }
    case 'conntrack': {
      only('--ctstate');
      const o = one('--ctstate') ?? unknown();
      const states = o.value.split(',');
      if (!states.every((s) => (CT_STATES as readonly string[]).includes(s))) unknown();
      m = { kind: 'conntrack', states, neg: o.neg };
      break;
    }
    case 'comment': {
      only('--comment');
      const o = one('--comment') ?? unknown();
      // The kernel's xt_comment holds 255 characters and a NUL.
      if (o.neg || o.value.length === 0 || o.value.length > 255 || o.value.includes('\0')) unknown();
      m = { kind: 'comment', text: o.value };
      break;
    }
    default:
      return unknown();
  }
  r.matches.push(m);
  // Matches iptables-nft writes natively (tcp, udp, mark) cannot be negated as a whole here,
  // and a rule that repeats one is outside the model.
  if (r.matches.filter((x) => x.kind === m.kind).length > 1) unknown();
  return i;
}
