// Address ranges of host-local: canonicalisation (defaults for start/end/gateway), membership and
// the round-robin walk, with the reference plugin's exact rules. Addresses are bigints here.
import { bigToIp, ipToBig, parseIp, parsePrefix, type Family } from '../../ip.js';
import { configError } from '../../cni/errors.js';

export interface Range {
  family: Family;
  /** Network address and prefix length of the subnet. */
  net: bigint;
  prefix: number;
  start: bigint;
  end: bigint;
  gateway: bigint;
  /** "10.1.0.0/24", as written back in errors. */
  subnetText: string;
}
/** A range set: ranges of one family, tried in order, allocating one address. */
export type RangeSet = Range[];


const bits = (f: Family) => (f === 4 ? 32 : 128);

export interface RawRange {
  subnet?: unknown;
  rangeStart?: unknown;
  rangeEnd?: unknown;
  gateway?: unknown;
}

/** Validate one range and fill its defaults: gateway .1, start .1, end = last (IPv4: before broadcast). */
export function canonicalize(raw: RawRange, field: string): Range {
  const sub = parsePrefix(raw.subnet, `${field}.subnet`);
  const width = bits(sub.family);
  if (sub.prefix > width - 2) throw configError(`${field}.subnet`, 'a network with room for addresses (at most /30 or /126)', raw.subnet);
  const hostMask = (1n << BigInt(width - sub.prefix)) - 1n;
  const net = ipToBig(sub.bytes) & ~hostMask;
  const subnetText = `${bigToIp(net, sub.family)}/${sub.prefix}`;
  if (ipToBig(sub.bytes) !== net) {
    // The reference's words: an address with host bits is not taken for its network.
    throw configError(`${field}.subnet`, `a network address: network has host bits set. For a subnet mask of length ${sub.prefix} the network address is ${bigToIp(net, sub.family)}`, raw.subnet);
  }
  const inSubnet = (v: bigint) => (v & ~hostMask) === net;
  const addr = (v: unknown, f: string, inside = true) => {
    const ip = parseIp(v, f);
    if (ip.family !== sub.family) throw configError(f, `an IPv${sub.family} address like the subnet ${subnetText}`, v);
    const b = ipToBig(ip.bytes);
    if (inside && !inSubnet(b)) throw configError(f, `an address in ${subnetText}`, v);
    return b;
  };
  // A gateway outside the subnet is the reference's to accept (an on-link router elsewhere).
  const gateway = raw.gateway === undefined ? net + 1n : addr(raw.gateway, `${field}.gateway`, false);
  const start = raw.rangeStart === undefined ? net + 1n : addr(raw.rangeStart, `${field}.rangeStart`);
  let end = raw.rangeEnd === undefined ? net | hostMask : addr(raw.rangeEnd, `${field}.rangeEnd`);
  if (raw.rangeEnd === undefined && sub.family === 4) end -= 1n;
  if (start > end) throw configError(`${field}.rangeStart`, `an address not after rangeEnd ${bigToIp(end, sub.family)}`, raw.rangeStart);
  return { family: sub.family, net, prefix: sub.prefix, start, end, gateway, subnetText };
}

export function contains(r: Range, family: Family, v: bigint): boolean {
  return r.family === family && v >= r.start && v <= r.end;
}

export function rangeFor(set: RangeSet, family: Family, v: bigint): Range | undefined {
  return set.find((r) => contains(r, family, v));
}

export function overlaps(a: Range, b: Range): boolean {
  return a.family === b.family && a.start <= b.end && b.start <= a.end;
}

export function describeSet(set: RangeSet): string {
  return set.map((r) => `${bigToIp(r.start, r.family)}-${bigToIp(r.end, r.family)}`).join(',');
}

/**
 * Candidate addresses in the reference order: from the one after `last` (when it lies in the set)
 * to the end of its range, on through the following ranges, wrapping round, skipping gateways,
 * each address once.
 */
export function* candidates(set: RangeSet, last: bigint | undefined): Generator<{ ip: bigint; range: Range }> {
  let idx = last === undefined ? -1 : set.findIndex((r) => last >= r.start && last <= r.end);
  let cur: bigint;
  if (idx < 0) {
    idx = 0;
    cur = set[0]!.start;
  } else {
    const r = set[idx]!;
    if (last === r.end) {
      idx = (idx + 1) % set.length;
      cur = set[idx]!.start;
    } else {
      cur = last! + 1n;
    }
  }
  const total = set.reduce((n, r) => n + (r.end - r.start + 1n), 0n);
  for (let seen = 0n; seen < total; seen++) {
    const r = set[idx]!;
    if (cur !== r.gateway) yield { ip: cur, range: r };
    if (cur === r.end) {
      idx = (idx + 1) % set.length;
      cur = set[idx]!.start;
    } else {
      cur += 1n;
    }
  }
}
