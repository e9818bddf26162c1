// Routes: `ip route add/replace/append/del/get/show`, with iproute2's defaults (table main,
// proto boot, scope link for a gateway-less unicast route) so results read the same as `ip route`.
import { SpecError, unlessExists } from '../native/index.js';
import type { NetlinkHandle } from './handle.js';
import { commonFamily, delDevIndex, devIndex, family, scope, table, TABLES, type ScopeName, type TableName } from './inet.js';
import { networkOf, parseIp, parsePrefix, type Family, type IpAddr, type IpPrefix } from '../ip.js';
import { defineOp } from './ops.js';
import { bool, defined, int, oneOf } from './validate.js';

const TYPES = ['unicast', 'local', 'broadcast', 'anycast', 'multicast', 'blackhole', 'unreachable', 'prohibit', 'throw', 'nat'] as const;
export type RouteType = (typeof TYPES)[number];
const PROTOS = { redirect: 1, kernel: 2, boot: 3, static: 4, ra: 9, dhcp: 16 } as const;
export type RouteProto = keyof typeof PROTOS;
/** Types that drop or divert packets: they take no gateway and no device. */
const NO_NEXTHOP = new Set<RouteType>(['blackhole', 'unreachable', 'prohibit', 'throw']);
const SCOPE_NOWHERE = 255;

export interface RouteSpec {
  /** 'default' or a network '10.0.0.0/24' (host bits must be clear). */
  dst: string;
  /** Needed only for dst 'default' without a gateway. */
  family?: Family;
  gw?: string;
  dev?: string | number;
  /** Preferred source address. */
  src?: string;
  /** Default (add): link for a gateway-less unicast route, host for local, else universe. */
  scope?: ScopeName | number;
  /** Default main (local for type local). */
  table?: TableName | number;
  type?: RouteType;
  metric?: number;
  /** Default boot (what `ip route add` sets). */
  proto?: RouteProto | number;
  mtu?: number;
  /** The TCP MSS to advertise on connections through this route (`ip route … advmss`). */
  advmss?: number;
  /** Treat the gateway as on-link even without a matching prefix route. */
  onlink?: boolean;
}

export interface RouteGetSpec {
  /** The destination to look up. */
  dst: string;
  from?: string;
  dev?: string | number;
  mark?: number;
}

export interface RouteFilter {
  family?: Family;
  /** Default main, as `ip route show`; 'all' for every table. */
  table?: TableName | number | 'all';
  dev?: string | number;
  proto?: RouteProto | number;
  type?: RouteType;
}

/** A route as the kernel reports it. */
export interface Route {
  family: Family;
  /** 'default' or 'network/prefixlen'. */
  dst: string;
  gw?: string;
  /** Output interface index. */
  dev?: number;
  src?: string;
  table: number;
  scope: 'universe' | 'site' | 'link' | 'host' | 'nowhere' | number;
  type: RouteType | 'unspec' | number;
  proto: RouteProto | 'unspec' | number;
  metric?: number;
  mtu?: number;
  advmss?: number;
  flags: number;
  onlink: boolean;
  /** Multipath routes: one entry per nexthop. */
  nexthops?: { gw?: string; dev: number; weight: number }[];
}

function proto(v: unknown, field: string): number {
  if (typeof v === 'string' && Object.hasOwn(PROTOS, v)) return PROTOS[v as RouteProto];
  if (typeof v === 'number') return int(v, field, 0, 255);
  throw new SpecError(`${field}: expected one of ${Object.keys(PROTOS).join(', ')} or 0-255, got ${JSON.stringify(v)}`);
}

function typeNum(v: unknown, field: string): number {
  return TYPES.indexOf(oneOf(v, field, TYPES)) + 1; // RTN_UNICAST = 1, in this order
}

function parseDst(v: unknown, field: string): IpPrefix | undefined {
  if (v === 'default') return undefined;
  const p = parsePrefix(v, field);
  const net = networkOf(p);
  if (net.bytes.some((b, i) => b !== p.bytes[i])) {
    throw new SpecError(`${field}: ${p.text} has host bits set (the network is ${net.text})`);
  }
  return p;
}

function describeRoute(verb: string, s: RouteSpec): string {
  const parts = [`${verb} route`];
  if (s.type && s.type !== 'unicast') parts.push(s.type);
  parts.push(s.dst);
  if (s.gw !== undefined) parts.push(`via ${s.gw}`);
  if (s.dev !== undefined) parts.push(`dev ${s.dev}`);
  if (s.table !== undefined) parts.push(`table ${s.table}`);
  if (s.metric !== undefined) parts.push(`metric ${s.metric}`);
  return parts.join(' ');
}

async function prepareRoute(h: NetlinkHandle, s: RouteSpec, verb: string): Promise<object> {
  const del = verb === 'delete';
  const dst = parseDst(s.dst, 'route.dst');
  const gw = s.gw === undefined ? undefined : parseIp(s.gw, 'route.gw');
  const src = s.src === undefined ? undefined : parseIp(s.src, 'route.src');
  const fam = commonFamily(s.family, 'route', [['dst', dst], ['gw', gw], ['src', src]] as [string, IpAddr | undefined][]);
  const type = s.type === undefined ? (del ? 0 : 1) : typeNum(s.type, 'route.type');
  if (s.type && NO_NEXTHOP.has(s.type) && (gw || s.dev !== undefined)) {
    throw new SpecError(`route.type: a ${s.type} route takes no gw or dev`);
  }
  let scopeNum: number;
  if (s.scope !== undefined) scopeNum = scope(s.scope, 'route.scope');
  else if (fam === 6) scopeNum = 0; // the kernel ignores IPv6 route scopes
  else if (s.type === 'local' || s.type === 'nat') scopeNum = 254;
  else if (s.type === 'broadcast' || s.type === 'multicast' || s.type === 'anycast') scopeNum = 253;
  else if (del) scopeNum = SCOPE_NOWHERE; // a wildcard when deleting
  else scopeNum = (s.type ?? 'unicast') === 'unicast' && !gw ? 253 : 0;
  const dev =
    s.dev === undefined ? undefined : del ? await delDevIndex(h, s.dev, 'route.dev') : await devIndex(h, s.dev, 'route.dev', () => describeRoute(verb, s));
  return defined({
    family: fam,
    dstLen: dst?.prefix ?? 0,
    dst: dst?.bytes,
    gw: gw?.bytes,
    oif: dev,
    src: src?.bytes,
    scope: scopeNum,
    table: s.table === undefined ? (s.type === 'local' ? TABLES.local : TABLES.main) : table(s.table, 'route.table'),
    type,
    proto: s.proto === undefined ? (del ? 0 : PROTOS.boot) : proto(s.proto, 'route.proto'),
    metric: s.metric === undefined ? undefined : int(s.metric, 'route.metric', 0, 2 ** 32 - 1),
    mtu: s.mtu === undefined ? undefined : int(s.mtu, 'route.mtu', 68, 65535),
    // Any 32-bit value, as `ip route` takes it: the kernel lowers one above 65535 - 40 to that.
    advmss: s.advmss === undefined ? undefined : int(s.advmss, 'route.advmss', 1, 2 ** 32 - 1),
    onlink: s.onlink === undefined ? undefined : bool(s.onlink, 'route.onlink'),
  });
}

declare module './ops.js' {
  interface OpSpecs {
    'route.add': RouteSpec;
    'route.replace': RouteSpec;
    'route.append': RouteSpec;
    'route.del': RouteSpec;
    'route.get': RouteGetSpec;
    'route.list': RouteFilter;
  }
}

const undoByDel = (s: RouteSpec) => ({ op: 'route.del' as const, spec: s });

defineOp('route.add', { prepare: (h, s) => prepareRoute(h, s, 'add'), describe: (s) => describeRoute('add', s), undo: undoByDel });
defineOp('route.replace', { prepare: (h, s) => prepareRoute(h, s, 'replace'), describe: (s) => describeRoute('replace', s) });
defineOp('route.append', { prepare: (h, s) => prepareRoute(h, s, 'append'), describe: (s) => describeRoute('append', s), undo: undoByDel });
defineOp('route.del', {
  prepare: (h, s) => prepareRoute(h, s, 'delete'),
  describe: (s) => describeRoute('delete', s),
  // ESRCH: no such route; ENOENT: its table does not exist either.
  ok: ['ESRCH', 'ENOENT'],
});

defineOp('route.get', {
  async prepare(h, s) {
    const dst = parseIp(s.dst, 'route.get.dst');
    const from = s.from === undefined ? undefined : parseIp(s.from, 'route.get.from');
    const fam = commonFamily(undefined, 'route.get', [['dst', dst], ['from', from]]);
    return defined({
      family: fam,
      dst: dst.bytes,
      from: from?.bytes,
      oif: s.dev === undefined ? undefined : await devIndex(h, s.dev, 'route.get.dev', () => `get route ${s.dst} dev ${s.dev}`),
      mark: s.mark === undefined ? undefined : int(s.mark, 'route.get.mark', 0, 2 ** 32 - 1),
    });
  },
  describe: (s) => `get route ${s.dst}${s.from ? ` from ${s.from}` : ''}${s.dev !== undefined ? ` dev ${s.dev}` : ''}`,
});

defineOp('route.list', {
  async prepare(h, s) {
    return defined({
      family: s.family === undefined ? undefined : family(s.family, 'route.list.family'),
      table: s.table === 'all' ? undefined : table(s.table ?? 'main', 'route.list.table'),
      oif: s.dev === undefined ? undefined : await devIndex(h, s.dev, 'route.list.dev', () => `list routes dev ${s.dev}`),
      proto: s.proto === undefined ? undefined : proto(s.proto, 'route.list.proto'),
      type: s.type === undefined ? undefined : typeNum(s.type, 'route.list.type'),
    });
  },
  describe: (s) => `list routes${s.table === undefined ? '' : ` table ${s.table}`}${s.dev === undefined ? '' : ` dev ${s.dev}`}`,
  // A table that does not exist (yet) simply has no routes.
  ok: ['ENOENT'],
});

/** The route verbs of one handle. */
export class RouteApi {
  constructor(private readonly h: NetlinkHandle) {}

  /** `ip route add ...`: fails with EEXIST when the same route (dst, table, tos, metric) exists. */
  async add(spec: RouteSpec): Promise<void> {
    await this.h.run('route.add', spec);
  }

  /** add, where an existing route with the same key counts as success (it is not compared). */
  async ensure(spec: RouteSpec): Promise<void> {
    await unlessExists(this.add(spec));
  }

  /** `ip route replace ...`: create, or overwrite the route with the same key. */
  async replace(spec: RouteSpec): Promise<void> {
    await this.h.run('route.replace', spec);
  }

  /** `ip route append ...`: add another route with the same key (IPv6: another ECMP nexthop). */
  async append(spec: RouteSpec): Promise<void> {
    await this.h.run('route.append', spec);
  }

  /** `ip route del ...`: given fields narrow the match; succeeds when nothing matches. */
  async del(spec: RouteSpec): Promise<void> {
    await this.h.run('route.del', spec);
  }

  /** `ip route get DST`: the route the kernel would use. */
  async get(spec: RouteGetSpec | string): Promise<Route> {
    return (await this.h.run('route.get', typeof spec === 'string' ? { dst: spec } : spec))[0] as Route;
  }

  /** `ip route show [table T] [dev D]`: the main table unless `table` says otherwise. */
  async list(filter: RouteFilter = {}): Promise<Route[]> {
    return (await this.h.run('route.list', filter)) as Route[];
  }
}
