// The spartan attachment: a veth `spartan` in the container with a /32 leased from spartan-network
// and routes to the four spartan (DNS) addresses over it; the host end routes the lease back.
import type { PluginContext } from '../../cni/plugin.js';
import { asCniError, CniError, ErrorCode } from '../../cni/errors.js';
import { convertResult, type AnyResult, type Result } from '../../cni/result.js';
import type { Rollback } from '../../cni/rollback.js';
import type { NetlinkHandle } from '../../netlink/handle.js';
import type { Link } from '../../netlink/link.js';
import type { Op } from '../../netlink/ops.js';
import { networkOf, parsePrefix } from '../../ip.js';
import type { Netns } from '../../netns/netns.js';
import { createVeth, IfnameTakenError } from '../shared/veth.js';
import type { SpartanConfig } from './config.js';

export const SPARTAN_IFNAME = 'spartan';
export const SPARTAN_NETWORK = 'spartan-network';
export const SPARTAN_SUBNET = '198.51.100.0/24';
/** dcos-net answers DNS on these (the fourth, added last upstream, is the k8s DNS proxy's). */
export const SPARTAN_IPS = ['198.51.100.1', '198.51.100.2', '198.51.100.3', '198.51.100.4'] as const;

/**
 * The IPAM network upstream hands host-local. No cniVersion, as upstream: every host-local
 * release speaks the legacy version, so whichever one CNI_PATH finds first can answer.
 */
export function ipamConf(cfg: SpartanConfig): Record<string, unknown> {
  return {
    name: SPARTAN_NETWORK,
    type: 'host-local',
    ipam: {
      type: 'host-local',
      rangeStart: '198.51.100.10',
      rangeEnd: '198.51.100.253',
      subnet: SPARTAN_SUBNET,
      ...(cfg.dataDir ? { dataDir: cfg.dataDir } : {}),
    },
  };
}

const fail = (msg: string, e?: unknown) => {
  if (e === undefined) return new CniError(ErrorCode.Plugin, `spartan: ${msg}`);
  const err = asCniError(e);
  return new CniError(err.code, `spartan: ${msg}: ${err.msg}`, err.details, { cause: e });
};

/** The container's routes to the spartan addresses, from its lease (`ip route add X/32 dev spartan scope link src LEASE`). */
export function spartanRoutes(lease: string) {
  return SPARTAN_IPS.map((ip) => ({ dst: `${ip}/32`, dev: SPARTAN_IFNAME, scope: 'link' as const, src: lease }));
}

/** The one IPv4 address host-local leased (under the same CNI env as ours, keyed by container ID and ifname). */
async function lease(ctx: PluginContext, cfg: SpartanConfig): Promise<string> {
  let raw: AnyResult | undefined;
  try {
    raw = await ctx.delegate.run('ADD', ipamConf(cfg));
  } catch (e) {
    throw fail('failed to get IP address', e);
  }
  const ips = ((convertResult(raw ?? {}, '1.1.0') as Result).ips ?? []).filter((ip) => !ip.address.includes(':'));
  if (ips.length === 0) throw fail('IPAM plugin returned missing IPv4 config');
  if (ips.length > 1) throw fail(`expecting a single IPv4 address from IPAM, got ${ips.length}`);
  return parsePrefix(ips[0]!.address, 'IPAM address').text.split('/')[0]!;
}

/**
 * Give the lease back (idempotent: host-local releases nothing when there is nothing); `of`: another
 * attachment's (a GC), else the call's own.
 */
export async function release(ctx: PluginContext, cfg: SpartanConfig, of?: { containerId: string; ifname: string }): Promise<void> {
  try {
    await ctx.delegate.run('DEL', ipamConf(cfg), of ? { containerId: of.containerId, ifname: of.ifname } : {});
  } catch (e) {
    throw fail(`failed to release the ${SPARTAN_NETWORK} lease`, e);
  }
}

/** One request: host end `veth<8 hex>` UP, peer `spartan` born in the container. Returns the host name. */
async function spartanVeth(h: Handles): Promise<string> {
  try {
    return (await createVeth({ ...h, ifname: SPARTAN_IFNAME })).name;
  } catch (e) {
    if (e instanceof IfnameTakenError) throw fail(`the container already has an interface named "${SPARTAN_IFNAME}"`);
    throw fail('unable to create veth pair', e);
  }
}

export interface Handles {
  host: NetlinkHandle;
  container: NetlinkHandle;
  containerNs: Netns;
}

/** ADD's spartan step; every side effect registers its undo on `rb`. Returns the lease. */
export async function attach(ctx: PluginContext, cfg: SpartanConfig, h: Handles, rb: Rollback): Promise<string> {
  const ip = await lease(ctx, cfg);
  rb.push(`release ${SPARTAN_NETWORK} lease ${ip}`, () => release(ctx, cfg));
  const hostVeth = await spartanVeth(h);
  // The container end goes with it, and every address and route on either end.
  rb.push(`delete link ${hostVeth}`, () => h.host.link.del(hostVeth));

  // The container side in one round trip: address, up (a route with src needs both), routes.
  const ops: Op[] = [
    { op: 'addr.add', spec: { dev: SPARTAN_IFNAME, address: `${ip}/32` } },
    { op: 'link.set', spec: { name: SPARTAN_IFNAME, up: true } },
    ...spartanRoutes(ip).map((spec): Op => ({ op: 'route.add', spec })),
  ];
  try {
    await h.container.request(ops);
    await h.host.route.add({ dst: `${ip}/32`, dev: hostVeth, scope: 'link' });
  } catch (e) {
    throw fail('failed to configure the spartan interface', e);
  }
  return ip;
}

/** The container end of our pair (what DEL deletes; its host end, address and routes go with it). */
export const isSpartanLink = (l: Link) => l.name === SPARTAN_IFNAME && l.kind === 'veth';

/** CHECK's spartan step: the container link, its /32, the four routes, the host route back. */
export async function verify(host: NetlinkHandle, container: NetlinkHandle, netnsPath: string): Promise<void> {
  const link = await container.link.find(SPARTAN_IFNAME);
  if (!link || link.kind !== 'veth') throw fail(`interface ${SPARTAN_IFNAME} missing in ${netnsPath}`);
  if (!link.up) throw fail(`interface ${SPARTAN_IFNAME} is down`);
  const inSubnet = (ip: string) => networkOf(parsePrefix(`${ip}/24`, 'address')).text === SPARTAN_SUBNET;
  const leases = (await container.addr.list({ dev: link.index, family: 4 })).filter((a) => a.prefixlen === 32 && inSubnet(a.local));
  if (leases.length !== 1) throw fail(`interface ${SPARTAN_IFNAME}: expected one /32 address from ${SPARTAN_SUBNET}, found ${leases.length}`);
  const ip = leases[0]!.local;
  const routes = await container.route.list({ family: 4, dev: link.index });
  for (const want of spartanRoutes(ip)) {
    if (!routes.some((r) => r.dst === want.dst && r.scope === 'link' && r.src === ip)) {
      throw fail(`route ${want.dst} dev ${SPARTAN_IFNAME} scope link src ${ip} missing`);
    }
  }
  const back = (await host.route.list({ family: 4 })).find((r) => r.dst === `${ip}/32`);
  // A veth's `link` is its peer's index: the host route must lead to this container's pair.
  if (back?.dev === undefined || back.dev !== link.link) throw fail(`host route ${ip}/32 dev <the spartan veth's host end> missing`);
}
