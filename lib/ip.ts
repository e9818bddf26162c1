// IP addresses and prefixes: strict parsing (errors name the field), formatting, subnet math.
import { SpecError } from './native/errors.js';

export type Family = 4 | 6;
export interface IpAddr {
  family: Family;
  bytes: Uint8Array;
  text: string;
}
export interface IpPrefix extends IpAddr {
  prefix: number;
}

// Our own checks rather than node:net's isIPv4/isIPv6: loading node:net (and the streams under it)
// cost ~4 ms of every plugin process here, for two regular expressions. Same rules: dotted quads
// without leading zeros; eight hextets, or fewer around one `::`, the last two optionally written
// as a dotted quad. (No zone suffix: parseIp refuses those anyway.)
const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const V4 = new RegExp(`^${OCTET}(?:\\.${OCTET}){3}$`);
const HEXTET = /^[0-9a-fA-F]{1,4}$/;

export function isIPv4(s: string): boolean {
  return V4.test(s);
}

export function isIPv6(s: string): boolean {
  const halves = s.split('::');
  if (halves.length > 2) return false;
  const parts = halves.map((h) => (h === '' ? [] : h.split(':')));
  const tail = parts[parts.length - 1]!;
  let width = 0; // in hextets
  if (tail.length > 0 && tail[tail.length - 1]!.includes('.')) {
    if (!V4.test(tail.pop()!)) return false;
    width += 2;
  }
  const groups = parts.flat();
  if (!groups.every((g) => HEXTET.test(g))) return false;
  width += groups.length;
  return halves.length === 2 ? width <= 7 : width === 8;
}

function v4Bytes(s: string): Uint8Array {
  return Uint8Array.from(s.split('.').map(Number));
}

function v6Bytes(s: string): Uint8Array {
  let text = s;
  const out = new Uint8Array(16);
  // A trailing dotted quad (::ffff:1.2.3.4) becomes two hextets.
  const quad = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (quad) {
    const b = v4Bytes(quad[1]!);
    text = text.slice(0, -quad[1]!.length) + ((b[0]! << 8) | b[1]!).toString(16) + ':' + ((b[2]! << 8) | b[3]!).toString(16);
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  groups.forEach((g, i) => {
    const v = parseInt(g, 16);
    out[i * 2] = v >> 8;
    out[i * 2 + 1] = v & 0xff;
  });
  return out;
}

/** Parse "10.0.0.1" or "fd00::1" (a zone suffix is refused). */
export function parseIp(s: unknown, field: string): IpAddr {
  if (typeof s === 'string') {
    if (isIPv4(s)) return { family: 4, bytes: v4Bytes(s), text: s };
    if (isIPv6(s) && !s.includes('%')) return { family: 6, bytes: v6Bytes(s), text: s };
  }
  throw new SpecError(`${field}: expected an IPv4 or IPv6 address, got ${JSON.stringify(s)}`);
}

/** Parse "10.0.0.1/24"; a bare address gets the host prefix (/32 or /128). */
export function parsePrefix(s: unknown, field: string): IpPrefix {
  if (typeof s === 'string') {
    const slash = s.indexOf('/');
    const addr = slash < 0 ? s : s.slice(0, slash);
    const plen = slash < 0 ? undefined : s.slice(slash + 1);
    const ip = (() => {
      try {
        return parseIp(addr, field);
      } catch {
        return undefined;
      }
    })();
    if (ip) {
      const max = ip.family === 4 ? 32 : 128;
      if (plen === undefined) return { ...ip, prefix: max, text: `${addr}/${max}` };
      // No leading zeros: iproute2 would read "024" as octal 20.
      if (/^(0|[1-9]\d{0,2})$/.test(plen) && Number(plen) <= max) return { ...ip, prefix: Number(plen), text: s };
    }
  }
  throw new SpecError(`${field}: expected an address with an optional /prefix (e.g. 10.0.0.1/24), got ${JSON.stringify(s)}`);
}

/** The network part of a prefix (host bits cleared), e.g. 10.0.0.7/24 → 10.0.0.0/24. */
export function networkOf(p: IpPrefix): IpPrefix {
  const bytes = Uint8Array.from(p.bytes);
  for (let bit = p.prefix; bit < bytes.length * 8; bit++) bytes[bit >> 3]! &= ~(0x80 >> (bit & 7));
  return { family: p.family, bytes, prefix: p.prefix, text: `${formatIp(bytes)}/${p.prefix}` };
}

/** Bytes back to text (IPv6 compressed per RFC 5952). */
export function formatIp(b: Uint8Array): string {
  if (b.length === 4) return Array.from(b).join('.');
  // IPv4-mapped addresses keep the dotted quad (RFC 5952 §5), as inet_ntop and the kernel print them.
  if (b.slice(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) return `::ffff:${Array.from(b.slice(12)).join('.')}`;
  const g = Array.from({ length: 8 }, (_, i) => (b[i * 2]! << 8) | b[i * 2 + 1]!);
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** The address `n` after the network address of `p` (n = 1: the usual gateway), as text. */
export function hostAddress(p: IpPrefix, n: number): string {
  const bytes = networkOf(p).bytes;
  let carry = n;
  for (let i = bytes.length - 1; i >= 0 && carry > 0; i--) {
    const v = bytes[i]! + carry;
    bytes[i] = v & 0xff;
    carry = v >> 8;
  }
  return formatIp(bytes);
}

/** An address's bytes as one number (for range arithmetic). */
export function ipToBig(b: Uint8Array): bigint {
  let n = 0n;
  for (const x of b) n = (n << 8n) | BigInt(x);
  return n;
}

/** A number back to address text of the family (IPv6 compressed as formatIp does). */
export function bigToIp(n: bigint, family: Family): string {
  const b = new Uint8Array(family === 4 ? 4 : 16);
  let v = n;
  for (let i = b.length - 1; i >= 0; i--) {
    b[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return formatIp(b);
}
