// Networks as (family, base, prefix) with bigint arithmetic, for pools of addresses and blocks.
// Parsing and formatting go through lib/ip.ts.
import { bigToIp, formatIp, ipToBig, parsePrefix, type Family } from '../../ip.js';

export interface Net {
  family: Family;
  /** The address as written (host bits kept), as a number. */
  addr: bigint;
  /** The network address (host bits cleared). */
  base: bigint;
  prefix: number;
  /** Canonical text of the address as written, with its prefix (what upstream's stringify gives). */
  text: string;
}

export const bitsOf = (f: Family): number => (f === 4 ? 32 : 128);

export { ipToBig as bytesToBig, bigToIp };

export const hostMask = (family: Family, prefix: number): bigint => (1n << BigInt(bitsOf(family) - prefix)) - 1n;

/** Parse "a.b.c.d/p" (or IPv6) of the given family; the message says what was wrong. */
export function parseNet(s: unknown, family: Family): Net {
  const want = family === 4 ? 'an IPv4' : 'an IPv6';
  if (typeof s !== 'string' || !s.includes('/')) throw new Error(`expected ${want} network "address/prefix", got ${JSON.stringify(s)}`);
  let p;
  try {
    p = parsePrefix(s, 'network');
  } catch {
    throw new Error(`expected ${want} network "address/prefix", got ${JSON.stringify(s)}`);
  }
  if (p.family !== family) throw new Error(`expected ${want} network, got ${JSON.stringify(s)}`);
  const addr = ipToBig(p.bytes);
  const base = addr & ~hostMask(family, p.prefix);
  return { family, addr, base, prefix: p.prefix, text: `${formatIp(p.bytes)}/${p.prefix}` };
}

export function netText(base: bigint, prefix: number, family: Family): string {
  return `${bigToIp(base, family)}/${prefix}`;
}

/** The last address of a network. */
export const netEnd = (n: Net): bigint => n.base | hostMask(n.family, n.prefix);
