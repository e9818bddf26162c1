// Links: `ip link add/set/del/show` for every kind. Kind-specific fields are validated by the
// kind's own module (link_veth.ts, link_vxlan.ts, ...), registered with defineLinkKind.
import { isErrno, SpecError, unlessExists } from '../native/index.js';
import type { Netns } from '../netns/netns.js';
import type { NetlinkHandle } from './handle.js';
import { defineOp } from './ops.js';
import { alias, bool, defined, ifname, int, mac, oneOf } from './validate.js';

/** Fields every link has. `master` by name is looked up in the handle's namespace. */
export interface LinkCommon {
  name: string;
  /** Pin the ifindex (the kernel honours a veth peer's only if the primary's is pinned too). */
  index?: number;
  mtu?: number;
  mac?: string;
  up?: boolean;
  promisc?: boolean;
  master?: string | number;
  /** Create the link directly in this namespace (never moved afterwards). */
  netns?: Netns;
  txqlen?: number;
  group?: number;
}

/** Kind-specific fields, keyed by kind. Kind modules add their entries by declaration merging. */
export interface LinkKinds {}
export type LinkSpec = { [K in keyof LinkKinds]: LinkCommon & { kind: K } & LinkKinds[K] }[keyof LinkKinds];
export type LinkKind = keyof LinkKinds;

/** A link as the kernel reports it. Kind-specific fields appear for kinds that decode them. */
export interface Link {
  index: number;
  name: string;
  kind?: string;
  slaveKind?: string;
  flags: number;
  up: boolean;
  lowerUp: boolean;
  promisc: boolean;
  operstate?: number;
  mtu?: number;
  mac?: string;
  master?: number;
  /** For veth: the peer's index (in the peer's namespace); for macvlan/vxlan: the lower device. */
  link?: number;
  linkNetnsId?: number;
  group?: number;
  txqlen?: number;
  [kindField: string]: unknown;
}

export interface LinkSetSpec {
  /** Which link: by name or index. */
  name?: string;
  index?: number;
  /** Rename to. */
  newName?: string;
  up?: boolean;
  promisc?: boolean;
  mtu?: number;
  mac?: string;
  /** Enslave to (name or index), or null to release (`nomaster`). */
  master?: string | number | null;
  /** Move to this namespace (slow: ~21 ms here; create in place instead when you can). */
  netns?: Netns;
  txqlen?: number;
  group?: number;
  /** The interface alias (`ip link set … alias TEXT`); '' clears it. Not settable at creation: the kernel ignores it there. */
  alias?: string;
  /** The IPv4 setting `net.ipv4.conf.<link>.arp_notify` (announce the addresses when the link comes up), over netlink. */
  arpNotify?: boolean;
  /**
   * How IPv6 makes the link's own addresses (`ip link set … addrgenmode`): 'none' gives it no
   * link-local address (so no DAD, MLD reports or router solicitations of its own). IPv6 makes
   * them when the link is up with a carrier, and the kernel applies this after a request's flags:
   * set it before that, not in the request that brings the link up.
   */
  addrGenMode?: AddrGenMode;
}

/** IN6_ADDR_GEN_MODE_* (linux/if_link.h), in order. */
export const ADDR_GEN_MODES = ['eui64', 'none', 'stable_secret', 'random'] as const;
export type AddrGenMode = (typeof ADDR_GEN_MODES)[number];

/** IF_OPER_UP (linux/if.h): the link's operstate once its carrier is reported. */
const IF_OPER_UP = 6;

export type LinkSelect = { name: string } | { index: number } | { group: number };

type KindPrepare<K extends LinkKind> = (h: NetlinkHandle, spec: LinkCommon & { kind: K } & LinkKinds[K], field: string) => object | Promise<object>;
const kinds = new Map<string, KindPrepare<never>>();

/** Register how a kind's extra fields are validated and turned into the native spec. */
export function defineLinkKind<K extends LinkKind>(kind: K, prepare: KindPrepare<K>): void {
  kinds.set(kind, prepare as KindPrepare<never>);
}

/** Validate the fields every link shares into their native form. */
export async function prepareCommon(h: NetlinkHandle, s: Partial<LinkCommon>, field: string): Promise<object> {
  if (s.master !== undefined && typeof s.master === 'string' && s.netns) {
    throw new SpecError(`${field}.master: give an index when the link is created in another namespace (names resolve in the handle's)`);
  }
  return defined({
    name: s.name === undefined ? undefined : ifname(s.name, `${field}.name`),
    index: s.index === undefined ? undefined : int(s.index, `${field}.index`, 1, 2 ** 31 - 1),
    mtu: s.mtu === undefined ? undefined : int(s.mtu, `${field}.mtu`, 68, 65535),
    mac: s.mac === undefined ? undefined : mac(s.mac, `${field}.mac`),
    up: s.up === undefined ? undefined : bool(s.up, `${field}.up`),
    promisc: s.promisc === undefined ? undefined : bool(s.promisc, `${field}.promisc`),
    master: s.master === undefined ? undefined : await h.linkIndex(s.master, `${field}.master`),
    netnsFd: s.netns?.fd,
    txqlen: s.txqlen === undefined ? undefined : int(s.txqlen, `${field}.txqlen`, 0, 2 ** 32 - 1),
    group: s.group === undefined ? undefined : int(s.group, `${field}.group`, 0, 2 ** 32 - 1),
  });
}

function selectSpec(s: LinkSelect, field: string): object {
  if ('index' in s && s.index !== undefined) return { index: int(s.index, `${field}.index`, 1, 2 ** 31 - 1) };
  if ('name' in s && s.name !== undefined) return { name: ifname(s.name, `${field}.name`) };
  if ('group' in s && s.group !== undefined) return { group: int(s.group, `${field}.group`, 1, 2 ** 32 - 1) };
  throw new SpecError(`${field}: expected name, index or group`);
}

function selectText(s: LinkSelect): string {
  return 'index' in s ? `index ${s.index}` : 'name' in s ? s.name : `group ${s.group}`;
}

declare module './ops.js' {
  interface OpSpecs {
    'link.add': LinkSpec;
    'link.set': LinkSetSpec;
    'link.del': LinkSelect;
    'link.get': { name: string } | { index: number };
    'link.list': { master?: string | number; kind?: string };
  }
}

defineOp('link.add', {
  async prepare(h, s) {
    const prep = kinds.get(s.kind);
    if (!prep) throw new SpecError(`link.kind: expected one of ${[...kinds.keys()].join(', ')}, got ${JSON.stringify(s.kind)}`);
    if (s.name === undefined) throw new SpecError('link.name: required');
    return { ...(await prepareCommon(h, s, 'link')), kind: s.kind, ...(await prep(h, s as never, 'link')) };
  },
  describe: (s) => `add link ${s.name} type ${s.kind}`,
  undo: (s) => ({ op: 'link.del', spec: { name: s.name } }),
});

defineOp('link.set', {
  async prepare(h, s) {
    const index = await h.linkIndex(s.index ?? s.name ?? '', 'link.set.name');
    const master = s.master === null ? 0 : s.master === undefined ? undefined : await h.linkIndex(s.master, 'link.set.master');
    const common = await prepareCommon(h, { ...s, name: s.newName, master: undefined }, 'link.set');
    return defined({
      ...common,
      index,
      master,
      alias: s.alias === undefined ? undefined : alias(s.alias, 'link.set.alias'),
      arpNotify: s.arpNotify === undefined ? undefined : bool(s.arpNotify, 'link.set.arpNotify'),
      addrGenMode: s.addrGenMode === undefined ? undefined : ADDR_GEN_MODES.indexOf(oneOf(s.addrGenMode, 'link.set.addrGenMode', ADDR_GEN_MODES)),
    });
  },
  describe: (s) => `set link ${s.name ?? `index ${s.index}`}`,
});

defineOp('link.del', {
  prepare: (_h, s) => selectSpec(s, 'link.del'),
  describe: (s) => `delete link ${selectText(s)}`,
  ok: ['ENODEV'],
});

defineOp('link.get', {
  prepare: (_h, s) => selectSpec(s, 'link.get'),
  describe: (s) => `get link ${selectText(s)}`,
});

defineOp('link.list', {
  async prepare(h, s) {
    return defined({ master: s.master === undefined ? undefined : await h.linkIndex(s.master, 'link.list.master'), kind: s.kind });
  },
  describe: () => 'list links',
});

/** The link verbs of one handle. */
export class LinkApi {
  constructor(private readonly h: NetlinkHandle) {}

  /**
   * `ip link add NAME type KIND ...`: fails with EEXIST if the name is taken. Returns the link as
   * the kernel made it when it echoes it (NLM_F_ECHO; this one, 6.18, does; an older one may not):
   * its index, and for a veth the peer's (`link`, in the peer's namespace), without a lookup.
   */
  async add(spec: LinkSpec): Promise<Link | undefined> {
    return (await this.h.run('link.add', spec))[0] as Link | undefined;
  }

  /** Create unless a link of that name exists; an existing one must be of the same kind. */
  async ensure(spec: LinkSpec): Promise<Link> {
    await unlessExists(this.add(spec));
    const h = spec.netns ? await this.h.openAt(spec.netns) : this.h;
    try {
      const link = await h.link.get(spec.name);
      if (link.kind !== spec.kind) {
        throw new SpecError(`ensure link ${spec.name}: exists with kind ${link.kind ?? 'none'}, expected ${spec.kind}`);
      }
      return link;
    } finally {
      if (h !== this.h) h.close();
    }
  }

  /** `ip link set ...`: up/down, mtu, mac, master, rename, move to another namespace. */
  async set(spec: LinkSetSpec): Promise<void> {
    await this.h.run('link.set', spec);
  }

  /** `ip link del NAME` (or index, or a whole group at once); succeeds when already gone. */
  async del(which: string | LinkSelect): Promise<void> {
    await this.h.run('link.del', typeof which === 'string' ? { name: which } : which);
  }

  /**
   * Delete a veth (both ends), answering once the kernel has unlisted them: the RTM_DELLINK of its
   * peer, the last end of the kernel's unregister batch, by which both ends are gone from every
   * dump, their names free, their addresses, routes and bridge port dropped. The kernel then
   * waits out an RCU barrier (15-30 ms here) before it frees them and answers the request; that
   * wait goes on on an addon thread instead of in the caller's time. `peerNetns`: the namespace of
   * the peer; when it is not known (a DEL without its namespace), or the link reports no peer, the
   * link is deleted as `del` does. Succeeds when already gone. This handle's socket stays busy
   * until the kernel answers: a later request on it waits for that.
   */
  async delVeth(link: Pick<Link, 'index' | 'link'>, peerNetns: Netns | undefined): Promise<void> {
    if (link.link === undefined || peerNetns === undefined) return this.del({ index: link.index });
    await this.h.delLinkEarly({ index: link.index }, { netns: peerNetns, index: link.link });
  }

  /** `ip link show NAME`; throws NetlinkError ENODEV when absent. */
  async get(which: string | number): Promise<Link> {
    const spec = typeof which === 'number' ? { index: which } : { name: which };
    return (await this.h.run('link.get', spec))[0] as Link;
  }

  /** Like get, but undefined when absent. */
  async find(which: string | number): Promise<Link | undefined> {
    try {
      return await this.get(which);
    } catch (e) {
      if (isErrno(e, 'ENODEV')) return undefined;
      throw e;
    }
  }

  /**
   * Whether the link's operational state became UP within `timeoutMs` (polled every millisecond):
   * the kernel's link-watch work has then reported its carrier, after which a bridge forwards on
   * the port and the device transmits. Bringing a link up does not wait for that.
   */
  async waitOperUp(which: string | number, timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      if ((await this.get(which)).operstate === IF_OPER_UP) return true;
      if (performance.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 1));
    }
  }

  /** `ip link show [master M] [type K]`. */
  async list(filter: { master?: string | number; kind?: string } = {}): Promise<Link[]> {
    return (await this.h.run('link.list', filter)) as Link[];
  }
}
