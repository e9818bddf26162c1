// Neighbours: `ip neigh add/replace/del/show` (ARP/NDP, family 4|6) and `bridge fdb add/append/
// del/show` (family 'bridge': a MAC on a bridge port, or a MAC → remote VTEP on a vxlan device).
import { isErrno, SpecError, unlessExists } from '../native/index.js';
import type { NetlinkHandle } from './handle.js';
import { commonFamily, delDevIndex, devIndex } from './inet.js';
import { parseIp, type Family, type IpAddr } from '../ip.js';
import { defineOp } from './ops.js';
import { bool, defined, int, mac, oneOf } from './validate.js';

const STATES = { none: 0, incomplete: 0x01, reachable: 0x02, stale: 0x04, delay: 0x08, probe: 0x10, failed: 0x20, noarp: 0x40, permanent: 0x80 } as const;
/**
 * FDB entries take `bridge fdb`'s words, sent as it sends them: permanent = NOARP|PERMANENT (the
 * only state every driver accepts: a local entry on a bridge, a fixed remote on a vxlan, the
 * default FDB of other devices), static = NOARP (a bridge entry that never ages), dynamic = REACHABLE.
 */
const FDB_STATES = { permanent: 0xc0, static: 0x40, dynamic: 0x02 } as const;
export type NeighState = keyof typeof STATES;
export type FdbState = keyof typeof FDB_STATES;
const NTF_SELF = 0x02;
const NTF_MASTER = 0x04;
const NTF_ROUTER = 0x80;

export type NeighFamily = Family | 'bridge';

export interface NeighSpec {
  dev: string | number;
  /** Default: from `address` (ip neigh); 'bridge' for FDB entries. */
  family?: NeighFamily;
  /** The neighbour's IP (ip neigh only). */
  address?: string;
  /** The neighbour's MAC; for FDB entries the MAC being forwarded. */
  lladdr?: string;
  /** Default permanent. ip neigh: a NUD state; FDB: permanent, static or dynamic. */
  state?: NeighState | FdbState;
  /** FDB: act on the device's own table (NTF_SELF; the default when master is not set). */
  self?: boolean;
  /** FDB: act on the bridge the device is a port of (NTF_MASTER). */
  master?: boolean;
  /** NDP: the neighbour is a router (NTF_ROUTER). */
  router?: boolean;
  /** FDB on vxlan: the remote VTEP frames for this MAC are tunnelled to. */
  dst?: string;
  /** FDB on vxlan: remote VNI and UDP port, when they differ from the device's. */
  vni?: number;
  port?: number;
  /** FDB on a VLAN-aware bridge. */
  vlan?: number;
}

export type NeighDelSpec = Omit<NeighSpec, 'state' | 'router'>;

/** One neighbour (ip neigh) by its device and IP. */
export interface NeighGetSpec {
  dev: string | number;
  address: string;
}

export interface NeighFilter {
  family?: NeighFamily;
  dev?: string | number;
  /** Only entries of ports of this bridge. */
  master?: string | number;
}

/** A neighbour or FDB entry as the kernel reports it. */
export interface Neigh {
  family: NeighFamily;
  /** The device's index. */
  dev: number;
  /** ip neigh: the neighbour's IP. */
  address?: string;
  lladdr?: string;
  /** State names (a bit set), e.g. ['permanent'] or ['noarp']. */
  state: (keyof typeof STATES)[];
  /** Flag names: self, master, router, extern_learn, offload, sticky, proxy, use. */
  flags: string[];
  /** FDB on vxlan: the remote VTEP. */
  dst?: string;
  vni?: number;
  port?: number;
  vlan?: number;
  /** FDB: the bridge's index. */
  master?: number;
}

function neighFamily(v: unknown, field: string): NeighFamily {
  if (v === 4 || v === 6 || v === 'bridge') return v;
  throw new SpecError(`${field}: expected 4, 6 or 'bridge', got ${JSON.stringify(v)}`);
}

function describeNeigh(verb: string, s: NeighDelSpec): string {
  if (s.family === 'bridge') {
    return `${verb} fdb ${s.lladdr ?? '?'} dev ${s.dev}${s.dst ? ` dst ${s.dst}` : ''}${s.master ? ' master' : ''}${s.self ? ' self' : ''}`;
  }
  return `${verb} neighbour ${s.address ?? '?'}${s.lladdr ? ` lladdr ${s.lladdr}` : ''} dev ${s.dev}`;
}

async function prepareNeigh(h: NetlinkHandle, s: NeighSpec, verb: string): Promise<object> {
  const del = verb === 'delete';
  const fdb = s.family !== undefined && neighFamily(s.family, 'neigh.family') === 'bridge';
  const address = s.address === undefined ? undefined : parseIp(s.address, 'neigh.address');
  const dst = s.dst === undefined ? undefined : parseIp(s.dst, 'neigh.dst');
  const lladdr = s.lladdr === undefined ? undefined : mac(s.lladdr, 'neigh.lladdr');
  let fam: NeighFamily;
  if (fdb) {
    fam = 'bridge';
    if (address) throw new SpecError('neigh.address: FDB entries have no IP address (the remote VTEP goes in dst)');
    if (!lladdr) throw new SpecError('neigh.lladdr: required for an FDB entry');
  } else {
    for (const k of ['dst', 'vni', 'port', 'vlan', 'self', 'master'] as const) {
      if (s[k] !== undefined) throw new SpecError(`neigh.${k}: only for FDB entries (family 'bridge')`);
    }
    if (!address) throw new SpecError('neigh.address: required (the neighbour IP)');
    fam = commonFamily(s.family, 'neigh', [['address', address as IpAddr]]);
  }
  const self = s.self !== undefined && bool(s.self, 'neigh.self');
  const master = s.master !== undefined && bool(s.master, 'neigh.master');
  const router = s.router !== undefined && bool(s.router, 'neigh.router');
  // As `bridge fdb`: an entry for neither table goes to the device's own.
  const flags = (self || (fdb && !master) ? NTF_SELF : 0) | (master ? NTF_MASTER : 0) | (router ? NTF_ROUTER : 0);
  // FDB deletes carry the state too: the default FDB of plain devices only deletes PERMANENT entries.
  let state: number | undefined;
  if (fdb) state = FDB_STATES[oneOf(del ? 'permanent' : (s.state ?? 'permanent'), 'neigh.state', Object.keys(FDB_STATES) as FdbState[])];
  else if (!del) state = STATES[oneOf(s.state ?? 'permanent', 'neigh.state', Object.keys(STATES) as NeighState[])];
  const index = del ? await delDevIndex(h, s.dev, 'neigh.dev') : await devIndex(h, s.dev, 'neigh.dev', () => describeNeigh(verb, s));
  return defined({
    family: fam,
    index,
    state,
    flags,
    dst: (address ?? dst)?.bytes,
    lladdr,
    vni: s.vni === undefined ? undefined : int(s.vni, 'neigh.vni', 0, 2 ** 24 - 1),
    port: s.port === undefined ? undefined : int(s.port, 'neigh.port', 1, 65535),
    vlan: s.vlan === undefined ? undefined : int(s.vlan, 'neigh.vlan', 1, 4094),
  });
}

declare module './ops.js' {
  interface OpSpecs {
    'neigh.add': NeighSpec;
    'neigh.replace': NeighSpec;
    'neigh.append': NeighSpec;
    'neigh.del': NeighDelSpec;
    'neigh.list': NeighFilter;
    'neigh.get': NeighGetSpec;
  }
}

const undoByDel = (s: NeighSpec) => ({ op: 'neigh.del' as const, spec: s });

defineOp('neigh.add', { prepare: (h, s) => prepareNeigh(h, s, 'add'), describe: (s) => describeNeigh('add', s), undo: undoByDel });
defineOp('neigh.replace', { prepare: (h, s) => prepareNeigh(h, s, 'replace'), describe: (s) => describeNeigh('replace', s) });
defineOp('neigh.append', { prepare: (h, s) => prepareNeigh(h, s, 'append'), describe: (s) => describeNeigh('append', s), undo: undoByDel });
defineOp('neigh.del', {
  prepare: (h, s) => prepareNeigh(h, s, 'delete'),
  describe: (s) => describeNeigh('delete', s),
  ok: ['ENOENT', 'ENODEV'],
});

defineOp('neigh.list', {
  async prepare(h, s) {
    return defined({
      family: s.family === undefined ? undefined : neighFamily(s.family, 'neigh.list.family'),
      index: s.dev === undefined ? undefined : await devIndex(h, s.dev, 'neigh.list.dev', () => `list neighbours dev ${s.dev}`),
      master: s.master === undefined ? undefined : await devIndex(h, s.master, 'neigh.list.master', () => `list neighbours master ${s.master}`),
    });
  },
  describe: (s) => `list ${s.family === 'bridge' ? 'fdb' : 'neighbours'}${s.dev === undefined ? '' : ` dev ${s.dev}`}`,
});

defineOp('neigh.get', {
  async prepare(h, s) {
    const address = parseIp(s.address, 'neigh.get.address');
    return { family: address.family, index: await devIndex(h, s.dev, 'neigh.get.dev', () => `get neighbour ${s.address} dev ${s.dev}`), dst: address.bytes };
  },
  describe: (s) => `get neighbour ${s.address} dev ${s.dev}`,
});

/** The neighbour and FDB verbs of one handle. */
export class NeighApi {
  constructor(private readonly h: NetlinkHandle) {}

  /** `ip neigh add` / `bridge fdb add`: EEXIST when the entry exists. */
  async add(spec: NeighSpec): Promise<void> {
    await this.h.run('neigh.add', spec);
  }

  /** add, where an existing entry counts as success (it is not compared). */
  async ensure(spec: NeighSpec): Promise<void> {
    await unlessExists(this.add(spec));
  }

  /** `ip neigh replace` / `bridge fdb replace`: create or overwrite. */
  async replace(spec: NeighSpec): Promise<void> {
    await this.h.run('neigh.replace', spec);
  }

  /** `bridge fdb append`: one more remote for a MAC on a vxlan (e.g. 00:00:00:00:00:00 for flooding). */
  async append(spec: NeighSpec): Promise<void> {
    await this.h.run('neigh.append', spec);
  }

  /** `ip neigh del` / `bridge fdb del`; succeeds when the entry or its device is gone. */
  async del(spec: NeighDelSpec): Promise<void> {
    await this.h.run('neigh.del', spec);
  }

  /**
   * `ip neigh get ADDRESS dev DEV`: that one entry, or undefined when the device holds none for the
   * address. One lookup in the kernel, where list returns the device's whole table.
   */
  async get(spec: NeighGetSpec): Promise<Neigh | undefined> {
    try {
      return (await this.h.run('neigh.get', spec))[0] as Neigh | undefined;
    } catch (e) {
      if (isErrno(e, 'ENOENT')) return undefined;
      throw e;
    }
  }

  /** `ip neigh show` (family 4|6, or both by default) or `bridge fdb show` (family 'bridge'). */
  async list(filter: NeighFilter = {}): Promise<Neigh[]> {
    return (await this.h.run('neigh.list', filter)) as Neigh[];
  }
}
