// Addresses: `ip addr add/replace/del/show`. IPv6 addresses skip DAD by default (IFA_F_NODAD):
// a container address must be usable at once, not after a 1-2 s duplicate-address probe.
import { SpecError, unlessExists } from '../native/index.js';
import type { NetlinkHandle } from './handle.js';
import { delDevIndex, devIndex, family, scope, type ScopeName } from './inet.js';
import { parseIp, parsePrefix, type Family, type IpPrefix } from '../ip.js';
import { defineOp } from './ops.js';
import { bool, defined, int } from './validate.js';

const IFA_F_NODAD = 0x02;
const IFA_F_NOPREFIXROUTE = 0x200;
const FOREVER = 0xffffffff;

export interface AddrSpec {
  /** The interface, by name or index. */
  dev: string | number;
  /** Address with prefix, '10.0.0.2/24' or 'fd00::2/64' (a bare address gets /32 or /128). */
  address: string;
  /** Point-to-point peer; the prefix then applies to the peer. */
  peer?: string;
  /** IPv4 broadcast address, or true to derive it from the prefix (`brd +`). */
  broadcast?: string | true;
  /** Default: host for 127.0.0.0/8, else global (the kernel picks IPv6 scopes itself). */
  scope?: ScopeName | number;
  /** IPv4 label; must be the device name or start with "<dev>:". */
  label?: string;
  /** IFA_F_NODAD; default true for IPv6. */
  noDad?: boolean;
  /** IFA_F_NOPREFIXROUTE: do not add the prefix route for this address. */
  noPrefixRoute?: boolean;
  /** Lifetimes in seconds (default forever); preferred defaults to valid and may not exceed it. */
  validLft?: number;
  preferredLft?: number;
}

/** What identifies an address to delete: device, address/prefix (exact) and peer if any. */
export type AddrDelSpec = Pick<AddrSpec, 'dev' | 'address' | 'peer'>;

export interface AddrFilter {
  dev?: string | number;
  family?: Family;
}

/** An address as the kernel reports it. */
export interface Addr {
  family: Family;
  /** The interface's index. */
  index: number;
  /** 'local/prefixlen', in the form AddrSpec.address takes. */
  address: string;
  local: string;
  prefixlen: number;
  peer?: string;
  broadcast?: string;
  scope: 'global' | 'site' | 'link' | 'host' | 'nowhere' | number;
  label?: string;
  flags: number;
  noDad: boolean;
  permanent: boolean;
  tentative: boolean;
  dadFailed: boolean;
  noPrefixRoute: boolean;
  /** Seconds; 4294967295 is forever. */
  validLft?: number;
  preferredLft?: number;
}

/** The IPv4 broadcast of a prefix: all host bits set. None for /31 and /32 (RFC 3021). */
function broadcastOf(p: IpPrefix): Uint8Array | undefined {
  if (p.prefix >= 31) return undefined;
  const b = Uint8Array.from(p.bytes);
  for (let bit = p.prefix; bit < 32; bit++) b[bit >> 3]! |= 0x80 >> (bit & 7);
  return b;
}

function describeAddr(verb: string, s: AddrDelSpec): string {
  return `${verb} address ${s.address}${s.peer ? ` peer ${s.peer}` : ''} dev ${s.dev}`;
}

async function prepareAddr(h: NetlinkHandle, s: AddrSpec, verb: string): Promise<object> {
  const a = parsePrefix(s.address, 'addr.address');
  const peer = s.peer === undefined ? undefined : parseIp(s.peer, 'addr.peer');
  if (peer && peer.family !== a.family) throw new SpecError(`addr.peer: ${peer.text} is IPv${peer.family} but the address is IPv${a.family}`);
  let broadcast: Uint8Array | undefined;
  if (s.broadcast !== undefined) {
    if (a.family !== 4) throw new SpecError('addr.broadcast: IPv6 has no broadcast address');
    if (s.broadcast === true) broadcast = broadcastOf(a);
    else {
      const b = parseIp(s.broadcast, 'addr.broadcast');
      if (b.family !== 4) throw new SpecError(`addr.broadcast: expected an IPv4 address, got ${b.text}`);
      broadcast = b.bytes;
    }
  }
  if (s.label !== undefined) {
    if (a.family !== 4) throw new SpecError('addr.label: labels exist for IPv4 addresses only');
    if (typeof s.label !== 'string' || !/^[^/\s\0]{1,15}$/.test(s.label)) {
      throw new SpecError(`addr.label: expected 1-15 characters without '/' or whitespace, got ${JSON.stringify(s.label)}`);
    }
    if (typeof s.dev === 'string' && s.label !== s.dev && !s.label.startsWith(`${s.dev}:`)) {
      throw new SpecError(`addr.label: must be the device name or start with "${s.dev}:", got ${JSON.stringify(s.label)}`);
    }
  }
  const noDad = s.noDad === undefined ? a.family === 6 : bool(s.noDad, 'addr.noDad');
  if (noDad && a.family === 4) throw new SpecError('addr.noDad: duplicate address detection is IPv6 only');
  const noPrefixRoute = s.noPrefixRoute !== undefined && bool(s.noPrefixRoute, 'addr.noPrefixRoute');
  const valid = s.validLft === undefined ? undefined : int(s.validLft, 'addr.validLft', 0, FOREVER);
  const preferred = s.preferredLft === undefined ? valid : int(s.preferredLft, 'addr.preferredLft', 0, FOREVER);
  if ((preferred ?? FOREVER) > (valid ?? FOREVER)) throw new SpecError(`addr.preferredLft: ${preferred} exceeds validLft ${valid ?? 'forever'}`);
  const scopeNum = s.scope === undefined ? (a.family === 4 && a.bytes[0] === 127 ? 254 : 0) : scope(s.scope, 'addr.scope');
  return defined({
    family: a.family,
    index: await devIndex(h, s.dev, 'addr.dev', () => describeAddr(verb, s)),
    prefixlen: a.prefix,
    local: a.bytes,
    peer: peer?.bytes,
    broadcast,
    scope: scopeNum,
    label: s.label,
    flags: (noDad ? IFA_F_NODAD : 0) | (noPrefixRoute ? IFA_F_NOPREFIXROUTE : 0),
    valid: valid === undefined && preferred === undefined ? undefined : valid ?? FOREVER,
    preferred: valid === undefined && preferred === undefined ? undefined : preferred ?? FOREVER,
  });
}

declare module './ops.js' {
  interface OpSpecs {
    'addr.add': AddrSpec;
    'addr.replace': AddrSpec;
    'addr.del': AddrDelSpec;
    'addr.list': AddrFilter;
  }
}

defineOp('addr.add', {
  prepare: (h, s) => prepareAddr(h, s, 'add'),
  describe: (s) => describeAddr('add', s),
  undo: (s) => ({ op: 'addr.del', spec: { dev: s.dev, address: s.address, peer: s.peer } }),
});

defineOp('addr.replace', {
  prepare: (h, s) => prepareAddr(h, s, 'replace'),
  describe: (s) => describeAddr('replace', s),
});

defineOp('addr.del', {
  async prepare(h, s) {
    const a = parsePrefix(s.address, 'addr.address');
    const peer = s.peer === undefined ? undefined : parseIp(s.peer, 'addr.peer');
    if (peer && peer.family !== a.family) throw new SpecError(`addr.peer: ${peer.text} is IPv${peer.family} but the address is IPv${a.family}`);
    return defined({ family: a.family, index: await delDevIndex(h, s.dev, 'addr.dev'), prefixlen: a.prefix, local: a.bytes, peer: peer?.bytes });
  },
  describe: (s) => describeAddr('delete', s),
  // EADDRNOTAVAIL: no such address (v4 and v6); ENODEV: the device is gone, and its addresses with it.
  ok: ['EADDRNOTAVAIL', 'ENODEV'],
});

defineOp('addr.list', {
  async prepare(h, s) {
    return defined({
      family: s.family === undefined ? undefined : family(s.family, 'addr.list.family'),
      index: s.dev === undefined ? undefined : await devIndex(h, s.dev, 'addr.list.dev', () => `list addresses dev ${s.dev}`),
    });
  },
  describe: (s) => `list addresses${s.dev === undefined ? '' : ` dev ${s.dev}`}`,
});

/** The address verbs of one handle. */
export class AddrApi {
  constructor(private readonly h: NetlinkHandle) {}

  /** `ip addr add ADDRESS dev DEV`: fails with EEXIST if the device already has it. */
  async add(spec: AddrSpec): Promise<void> {
    await this.h.run('addr.add', spec);
  }

  /** add, where an existing identical address counts as success. */
  async ensure(spec: AddrSpec): Promise<void> {
    await unlessExists(this.add(spec));
  }

  /** `ip addr replace ...`: create or update flags, lifetimes, broadcast. */
  async replace(spec: AddrSpec): Promise<void> {
    await this.h.run('addr.replace', spec);
  }

  /** `ip addr del ADDRESS dev DEV`; succeeds when the address or the device is already gone. */
  async del(spec: AddrDelSpec): Promise<void> {
    await this.h.run('addr.del', spec);
  }

  /** `ip addr show [dev DEV]` for IPv4 and/or IPv6, filtered by the kernel. */
  async list(filter: AddrFilter = {}): Promise<Addr[]> {
    return (await this.h.run('addr.list', filter)) as Addr[];
  }
}
