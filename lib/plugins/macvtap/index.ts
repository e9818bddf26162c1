// The macvtap plugin: a macvtap on a host interface, born in the container netns, addressed by
// IPAM, optionally reachable from the host through `hostrouteif` and routed back per interface
// with `hostrouteip`. ADD is a linear script with a rollback stack; docs/macvtap.md lists what
// differs from upstream (f1-outsourcing/plugins, branch hostrouteif) and why.
import type { Plugin, PluginContext } from '../../cni/plugin.js';
import { CniError, ErrorCode } from '../../cni/errors.js';
import { isErrno } from '../../native/index.js';
import { convertResult, type AnyResult, type IpConfig, type Result, type Route } from '../../cni/result.js';
import { Rollback } from '../../cni/rollback.js';
import { NetlinkHandle } from '../../netlink/handle.js';
import type { Link } from '../../netlink/link.js';
import type { Netns } from '../../netns/netns.js';
import * as sysctl from '../../netns/sysctl.js';
import { parseConfig, type MacvtapConfig } from './config.js';
import {
  canonicalDst,
  containerOps,
  familyOf,
  hasGatewayRoute,
  hostPrefix,
  hostRoutes,
  ownSourceRules,
  routeTable,
  sourceRulePriority,
  sourceRules,
} from './routing.js';
import { HostRouteStore } from './state.js';
import { forward } from '../../cni/forward.js';
import { sha256Hex } from '../../util/digest.js';

async function ipamAdd(ctx: PluginContext, type: string): Promise<Result> {
  // The IPAM plugin gets our whole stdin, as upstream passes it: args.cni.ips reach host-local.
  const raw = await ctx.delegate.run('ADD', { type }, { stdin: ctx.stdin.toString('utf8') });
  const r = convertResult(raw ?? {}, '1.1.0') as Result;
  if (!r.ips?.length) throw new CniError(ErrorCode.Plugin, 'IPAM plugin returned missing IP config');
  return r;
}

function ipamRun(ctx: PluginContext, command: 'DEL' | 'CHECK', type: string): Promise<unknown> {
  return ctx.delegate.run(command, { type }, { stdin: ctx.stdin.toString('utf8') });
}

/** A host link by name, or a config error naming the field. */
async function hostLink(host: NetlinkHandle, name: string, field: string): Promise<Link> {
  const link = await host.link.find(name);
  if (!link) throw new CniError(ErrorCode.InvalidNetworkConfig, `${field}: no interface ${JSON.stringify(name)} in the host namespace`);
  return link;
}

/**
 * proxy_arp as upstream sets it; arp_notify (and ndisc_notify for IPv6) make the kernel announce
 * every address with a gratuitous ARP / unsolicited NA the moment the link comes up, which the
 * container batch does right after adding the addresses: no arping, no packet socket, no sleep.
 */
async function linkSysctls(ns: Netns, dev: string, ipv6: boolean): Promise<void> {
  const keys = [`net.ipv4.conf.${dev}.proxy_arp`, `net.ipv4.conf.${dev}.arp_notify`, ...(ipv6 ? [`net.ipv6.conf.${dev}.ndisc_notify`] : [])];
  await Promise.all(
    keys.map((k) =>
      sysctl.set(ns, k, 1).catch((e: Error) => {
        throw new CniError(ErrorCode.Plugin, `set ${k}=1 on the new interface`, e.message);
      }),
    ),
  );
}

async function add(ctx: PluginContext): Promise<AnyResult> {
  const cfg = parseConfig(ctx.conf);
  const { containerId, ifname } = ctx.env;
  const containerNs = ctx.netns!;
  const host = await NetlinkHandle.open();
  const container = await NetlinkHandle.open(containerNs);
  const store = new HostRouteStore(cfg.dataDir, cfg.name);
  try {
    return await Rollback.guard(ctx.log, async (rb) => {
      // Whatever can be refused is looked up before the first side effect.
      const master = await hostLink(host, cfg.master, 'master');
      const routeIf = cfg.hostRouteIf ? await hostLink(host, cfg.hostRouteIf, 'hostrouteif') : undefined;

      const ipam = await ipamAdd(ctx, cfg.ipamType);
      rb.push('IPAM DEL', () => ipamRun(ctx, 'DEL', cfg.ipamType));
      const ips = ipam.ips!;
      const routes = ipam.routes ?? [];
      const hostDsts = ips.map((ip) => hostPrefix(ip.address));
      if (routeIf) {
        // Recorded before the routes exist: DEL can always find what ADD may have installed.
        await store.write(containerId, ifname, { hostrouteif: routeIf.name, dsts: hostDsts, containerId, ifname });
        rb.push('remove the host route record', () => store.remove(containerId, ifname));
        // Up before the container announces itself, so its gratuitous ARP reaches the host (as
        // upstream, it is never set down again: other containers' routes may use it).
        if (!routeIf.up) await host.link.set({ index: routeIf.index, up: true });
      }

      // Born in the container under a temporary name (never moved: moving costs ~21 ms here).
      const tmp = temporaryName(containerId, ifname);
      try {
        await host.link.add({ kind: 'macvtap', name: tmp, link: master.index, mode: cfg.mode, netns: containerNs, mtu: cfg.mtu, mac: cfg.mac });
      } catch (e) {
        throw new CniError(ErrorCode.Plugin, `create macvtap on master ${JSON.stringify(cfg.master)}`, (e as Error).message);
      }
      let index: number | undefined;
      rb.push(`delete link ${tmp}`, () => container.link.del(index === undefined ? { name: tmp } : { index }));
      index = (await container.link.get(tmp)).index;
      await linkSysctls(containerNs, tmp, ips.some((ip) => familyOf(ip.address) === 6));

      let link: Link;
      try {
        const replies = await container.request(containerOps({ index, ifname, ips, routes, hostRouteIp: cfg.hostRouteIp }));
        link = replies[replies.length - 1]![0] as Link;
      } catch (e) {
        if (isErrno(e, 'EEXIST') && e.op === 'link.set') {
          throw new CniError(ErrorCode.Plugin, `container interface ${ifname} already exists in ${ctx.env.netns}`);
        }
        throw new CniError(ErrorCode.Plugin, `configure ${ifname} in ${ctx.env.netns}`, (e as Error).message);
      }

      if (cfg.hostRouteIp) await sourceRouting(container, link.index, cfg, ips, routes, rb);
      if (routeIf) {
        const specs = hostRoutes(hostDsts, routeIf.index);
        rb.push(`delete host routes via ${routeIf.name}`, () => host.request(specs.map((spec) => ({ op: 'route.del' as const, spec }))));
        try {
          await host.request(specs.map((spec) => ({ op: 'route.replace' as const, spec })));
        } catch (e) {
          throw new CniError(ErrorCode.Plugin, `hostrouteif ${routeIf.name}: route to the container`, (e as Error).message);
        }
      }
      const dns = cfg.dns ?? (ipam.dns && Object.keys(ipam.dns).length ? ipam.dns : undefined);
      return {
        cniVersion: '1.1.0',
        interfaces: [{ name: ifname, mac: link.mac!, sandbox: ctx.env.netns! }],
        ips: ips.map((ip) => ({ ...ip, interface: 0 })),
        ...(routes.length ? { routes } : {}),
        ...(dns ? { dns } : {}),
      };
    });
  } finally {
    host.close();
    container.close();
  }
}

/**
 * hostrouteip: replies from this interface's addresses to the host leave through this interface
 * (`from <addr> lookup <table>`, the table holding only the route to the host), and the main table
 * gets the route to the host through the interface that carries the gateway (or the first one).
 */
async function sourceRouting(
  c: NetlinkHandle,
  index: number,
  cfg: MacvtapConfig,
  ips: IpConfig[],
  routes: Route[],
  rb: Rollback,
): Promise<void> {
  const hostIp = cfg.hostRouteIp!;
  const table = routeTable(index);
  const rules = sourceRules(ips, hostIp, table, sourceRulePriority(await c.rule.list({ family: hostIp.family })));
  // Rules outlive the link; everything else here goes with it.
  rb.push('delete source rules', () => c.request(rules.map((spec) => ({ op: 'rule.del' as const, spec }))));
  try {
    if (rules.length) await c.request(rules.map((spec) => ({ op: 'rule.add' as const, spec })));
    const toHost = { dst: hostPrefix(hostIp.text), dev: index };
    if (hasGatewayRoute(routes, ips)) await c.route.replace(toHost);
    else await c.route.ensure(toHost);
  } catch (e) {
    throw new CniError(ErrorCode.Plugin, `hostrouteip ${hostIp.text}: source routing`, (e as Error).message);
  }
}

/**
 * DEL, idempotent, with or without the netns: source rules and the link (if the namespace is
 * still there), the host routes (from the record, so also without the netns), then the lease —
 * released last, so no new container gets the address while an old route still points at it.
 */
/**
 * The name the macvtap is born under before its rename to CNI_IFNAME: one per attachment, so that
 * a DEL finds it when an ADD was killed between the two (the container's lock keeps a second ADD
 * of the attachment from using it meanwhile).
 */
export function temporaryName(containerId: string, ifname: string): string {
  return `mvt${sha256Hex(`${containerId}\0${ifname}`).slice(0, 8)}`;
}

async function del(ctx: PluginContext): Promise<void> {
  const cfg = parseConfig(ctx.conf);
  const { containerId, ifname } = ctx.env;
  let addresses: string[] = [];
  if (ctx.netns) {
    const container = await NetlinkHandle.open(ctx.netns);
    try {
      // An ADD killed between creating the macvtap and renaming it left it under its temporary name.
      const orphan = await container.link.find(temporaryName(containerId, ifname));
      if (orphan?.kind === 'macvtap') await container.link.del({ index: orphan.index });
      const link = await container.link.find(ifname);
      if (link?.kind === 'macvtap') {
        if (cfg.hostRouteIf) {
          const addrs = await container.addr.list({ dev: link.index });
          addresses = addrs.filter((a) => a.scope === 'global').map((a) => a.address);
        }
        const rules = cfg.hostRouteIp ? await ownSourceRules(container, routeTable(link.index)) : [];
        if (rules.length) await container.request(rules.map((r) => ({ op: 'rule.del' as const, spec: { from: r.from, table: r.table, priority: r.priority } })));
        await container.link.del({ index: link.index });
      }
    } finally {
      container.close();
    }
  }
  const store = new HostRouteStore(cfg.dataDir, cfg.name);
  if (cfg.hostRouteIf) {
    // The record is the truth; the link's addresses only stand in when there is none (an
    // attachment made by upstream's plugin, which kept no record).
    const rec = await store.read(containerId, ifname);
    const dsts = rec?.dsts ?? addresses.map(hostPrefix);
    if (dsts.length) {
      const host = await NetlinkHandle.open();
      try {
        const dev = rec?.hostrouteif ?? cfg.hostRouteIf;
        await host.request(dsts.map((dst) => ({ op: 'route.del' as const, spec: { dst, dev } })));
      } finally {
        host.close();
      }
    }
  }
  await ipamRun(ctx, 'DEL', cfg.ipamType);
  if (cfg.hostRouteIf) await store.remove(containerId, ifname);
}

/** CHECK: what ADD made is still there — link, addresses, routes, host routes, rules — then IPAM. */
async function check(ctx: PluginContext): Promise<void> {
  const cfg = parseConfig(ctx.conf);
  if (!ctx.conf.prevResult) throw new CniError(ErrorCode.InvalidNetworkConfig, 'prevResult: required for CHECK');
  const prev = convertResult(ctx.conf.prevResult, '1.1.0') as Result;
  const { ifname } = ctx.env;
  const fail = (msg: string) => new CniError(ErrorCode.Plugin, msg);
  const intf = prev.interfaces?.find((i) => i.name === ifname);
  if (!intf || intf.sandbox !== ctx.env.netns) {
    throw fail(`prevResult: no interface ${ifname} with sandbox ${ctx.env.netns} (got ${JSON.stringify(intf?.sandbox ?? null)})`);
  }
  const host = await NetlinkHandle.open();
  const container = await NetlinkHandle.open(ctx.netns!);
  try {
    const master = await hostLink(host, cfg.master, 'master');
    const link = await container.link.find(ifname);
    if (!link) throw fail(`container interface ${ifname}: not found in ${ctx.env.netns}`);
    // Upstream's CHECK expected a macvlan here, so it failed for every macvtap it had made.
    if (link.kind !== 'macvtap') throw fail(`container interface ${ifname}: a ${link.kind ?? 'plain'} link, expected macvtap`);
    if (link.mode !== cfg.mode) throw fail(`container interface ${ifname}: mode ${String(link.mode)}, expected ${cfg.mode}`);
    if (link.link !== master.index) throw fail(`container interface ${ifname}: not on master ${cfg.master}`);
    if (intf.mac && intf.mac.toLowerCase() !== link.mac) throw fail(`container interface ${ifname}: MAC ${link.mac}, prevResult has ${intf.mac}`);
    const have = new Set((await container.addr.list({ dev: link.index })).map((a) => a.address));
    for (const ip of prev.ips ?? []) {
      if (!have.has(ip.address)) throw fail(`container interface ${ifname}: address ${ip.address} missing`);
    }
    const dsts = new Set((await container.route.list({ table: 'all', dev: link.index })).map((r) => canonicalDst(r.dst)));
    for (const r of prev.routes ?? []) {
      if (!dsts.has(canonicalDst(r.dst))) throw fail(`container interface ${ifname}: route to ${r.dst} missing`);
    }
    if (cfg.hostRouteIf) {
      const routeIf = await hostLink(host, cfg.hostRouteIf, 'hostrouteif');
      const onIf = new Set((await host.route.list({ dev: routeIf.index })).map((r) => r.dst));
      for (const ip of prev.ips ?? []) {
        const dst = hostPrefix(ip.address);
        if (!onIf.has(dst)) throw fail(`hostrouteif ${cfg.hostRouteIf}: host route to ${dst} missing`);
      }
    }
    if (cfg.hostRouteIp) {
      const froms = new Set((await ownSourceRules(container, routeTable(link.index))).map((r) => r.from));
      for (const spec of sourceRules(prev.ips ?? [], cfg.hostRouteIp, routeTable(link.index), 0)) {
        if (!froms.has(spec.from)) throw fail(`hostrouteip: rule from ${spec.from} lookup ${spec.table} missing`);
      }
    }
  } finally {
    host.close();
    container.close();
  }
  await ipamRun(ctx, 'CHECK', cfg.ipamType);
}

/** STATUS (1.1.0): the master (and hostrouteif) exist on the host, else code 50; then the IPAM's STATUS. */
async function status(ctx: PluginContext): Promise<void> {
  const cfg = parseConfig(ctx.conf);
  const host = await NetlinkHandle.open();
  try {
    for (const [field, name] of [['master', cfg.master], ['hostrouteif', cfg.hostRouteIf]] as const) {
      if (name && !(await host.link.find(name))) throw new CniError(ErrorCode.PluginNotAvailable, `${field}: no interface ${JSON.stringify(name)} in the host namespace`);
    }
  } finally {
    host.close();
  }
  await forward(ctx, { type: cfg.ipamType }, ctx.stdin.toString('utf8'));
}

/**
 * GC (1.1.0): the host routes (hostrouteif) of attachments the runtime no longer lists, from their
 * records, and the records; then the IPAM's GC with the same list. No list, nothing released.
 */
async function gc(ctx: PluginContext): Promise<void> {
  const cfg = parseConfig(ctx.conf);
  const valid = ctx.validAttachments;
  if (valid) {
    const store = new HostRouteStore(cfg.dataDir, cfg.name);
    const stale = (await store.all()).filter((r) => !valid.has(r.containerId, r.ifname));
    if (stale.length) {
      const host = await NetlinkHandle.open();
      try {
        for (const r of stale) {
          // The interface itself may be gone, and its routes with it.
          if (r.dsts.length && (await host.link.find(r.hostrouteif))) {
            await host.request(r.dsts.map((dst) => ({ op: 'route.del' as const, spec: { dst, dev: r.hostrouteif } })));
          }
          await store.remove(r.containerId, r.ifname);
        }
      } finally {
        host.close();
      }
      ctx.log.info('removed the host routes of stale attachments', { attachments: stale.map((r) => `${r.containerId}/${r.ifname}`) });
    }
  }
  await forward(ctx, { type: cfg.ipamType }, ctx.stdin.toString('utf8'));
}

export const plugin: Plugin = { type: 'macvtap', validate: (c) => void parseConfig(c), add, del, check, status, gc };
