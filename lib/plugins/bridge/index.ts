// The bridge plugin, config-compatible with the reference one for the fields Mesos/DC/OS use.
// ADD is a linear script with a rollback stack: IPAM, veth (one request, born in place, enslaved,
// UP), hairpin, ONE container-side netlink batch (lo, addresses, link up, routes, MAC read back),
// gateway address on the bridge, ipMasq in one iptables transaction.
import type { Plugin, PluginContext } from '../../cni/plugin.js';
import { CniError, ErrorCode } from '../../cni/errors.js';
import { convertResult, type AnyResult, type Interface, type IpConfig, type Result, type Route } from '../../cni/result.js';
import { Rollback } from '../../cni/rollback.js';
import { allSettledOrThrow } from '../../util/settle.js';
import { findsByTag } from '../../iptables/index.js';
import { NetlinkHandle } from '../../netlink/handle.js';
import type { Op } from '../../netlink/ops.js';
import type { Link } from '../../netlink/link.js';
import { hostAddress, parsePrefix } from '../../netlink/ip.js';
import { Netns } from '../../netns/netns.js';
import * as sysctl from '../../netns/sysctl.js';
import { parseConfig, type BridgeConfig } from './config.js';
import { createVeth } from './veth.js';
import { missingMasq, setupMasq, teardownMasq } from './masq.js';
import { ensureBridge, ensureGatewayAddr } from './bridge.js';

const familyOf = (cidr: string) => (cidr.includes(':') ? 6 : 4);

/** Gateways filled in (isGateway: the subnet's first address when IPAM gave none). */
function withGateways(cfg: BridgeConfig, ips: IpConfig[]): IpConfig[] {
  return ips.map((ip) => (cfg.isGateway && !ip.gateway ? { ...ip, gateway: hostAddress(parsePrefix(ip.address, 'ips.address'), 1) } : ip));
}

/** IPAM routes plus, for isDefaultGateway, a default route per family that has a gateway. */
function withDefaultRoutes(cfg: BridgeConfig, ips: IpConfig[], routes: Route[]): Route[] {
  const out = [...routes];
  if (!cfg.isDefaultGateway) return out;
  for (const family of [4, 6] as const) {
    const gw = ips.find((ip) => familyOf(ip.address) === family && ip.gateway)?.gateway;
    const dst = family === 4 ? '0.0.0.0/0' : '::/0';
    if (gw && !out.some((r) => r.dst === dst)) out.push({ dst, gw });
  }
  return out;
}

/** The container side in one round trip: lo up, addresses, link up, routes, then read the link. */
function containerOps(ifname: string, ips: IpConfig[], routes: Route[]): Op[] {
  const ops: Op[] = [{ op: 'link.set', spec: { name: 'lo', up: true } }];
  for (const ip of ips) ops.push({ op: 'addr.add', spec: { dev: ifname, address: ip.address } });
  ops.push({ op: 'link.set', spec: { name: ifname, up: true } });
  for (const r of routes) {
    const family = familyOf(r.dst);
    const gw = r.gw ?? ips.find((ip) => familyOf(ip.address) === family)?.gateway;
    const dst = r.dst === '0.0.0.0/0' || r.dst === '::/0' ? 'default' : r.dst;
    ops.push({ op: 'route.add', spec: { dst, family, dev: ifname, ...(gw ? { gw } : {}) } });
  }
  ops.push({ op: 'link.get', spec: { name: ifname } });
  return ops;
}

async function ipamAdd(ctx: PluginContext, type: string): Promise<Result> {
  // The IPAM plugin gets our whole stdin, as the reference passes it (args.cni.ips etc. reach it).
  const raw = await ctx.delegate.run('ADD', { type }, { stdin: ctx.stdin.toString('utf8') });
  const r = convertResult(raw ?? {}, '1.1.0') as Result;
  if (!r.ips?.length) throw new CniError(ErrorCode.Plugin, 'IPAM plugin returned missing IP config');
  return r;
}

async function add(ctx: PluginContext): Promise<AnyResult> {
  const cfg = parseConfig(ctx.conf);
  const containerNs = ctx.netns!;
  const hostNs = Netns.current();
  const host = await NetlinkHandle.open();
  const container = await NetlinkHandle.open(containerNs);
  try {
    return await Rollback.guard(ctx.log, async (rb) => {
      const br = await ensureBridge(host, cfg);
      const ipam = await ipamAdd(ctx, cfg.ipamType);
      rb.push('IPAM DEL', () => ctx.delegate.run('DEL', { type: cfg.ipamType }, { stdin: ctx.stdin.toString('utf8') }));
      const ips = withGateways(cfg, ipam.ips!);
      const routes = withDefaultRoutes(cfg, ips, ipam.routes ?? []);
      // The masquerade rules need only the addresses: their iptables-restore (a process, ~4 ms)
      // runs while the links are made. Undoing them first waits for it to settle, so a rollback
      // never races the rules it removes.
      const target = { network: cfg.name, containerId: ctx.env.containerId };
      let masq: Promise<void> | undefined;
      if (cfg.ipMasq) {
        const started = setupMasq(hostNs, target, ips.map((ip) => ip.address));
        masq = started;
        started.catch(() => undefined); // awaited below; a link failure may come first
        rb.push('remove ipMasq rules', () => started.catch(() => undefined).then(() => teardownMasq(hostNs, target)));
      }

      const hostVeth = await createVeth({ host, container, containerNs, ifname: ctx.env.ifname, bridgeIndex: br.index, mtu: cfg.mtu, mac: cfg.mac });
      rb.push(`delete link ${hostVeth}`, () => host.link.del(hostVeth));
      if (cfg.hairpinMode) await host.bridgePort.set({ dev: hostVeth, hairpin: true });

      const replies = await container.request(containerOps(ctx.env.ifname, ips, routes));
      const ctrLink = replies[replies.length - 1]![0] as Link;

      if (cfg.isGateway) {
        for (const ip of ips) {
          if (ip.gateway) await ensureGatewayAddr(host, cfg, ip.gateway, parsePrefix(ip.address, 'ip').prefix);
        }
        for (const f of new Set(ips.filter((ip) => ip.gateway).map((ip) => familyOf(ip.address)))) {
          await sysctl.set(hostNs, f === 4 ? 'net.ipv4.ip_forward' : 'net.ipv6.conf.all.forwarding', 1);
        }
      }
      await masq;
      // The bridge's MAC may change as ports join (udev/MAC policy): read it and the port's now.
      const [brNow, hostLink] = await Promise.all([host.link.get(br.index), host.link.get(hostVeth)]);
      const interfaces: Interface[] = [
        { name: cfg.bridge, mac: brNow.mac! },
        { name: hostVeth, mac: hostLink.mac! },
        { name: ctx.env.ifname, mac: ctrLink.mac!, sandbox: ctx.env.netns! },
      ];
      return {
        cniVersion: '1.1.0',
        interfaces,
        ips: ips.map((ip) => ({ ...ip, interface: 2 })),
        ...(routes.length ? { routes } : {}),
        ...(ipam.dns && Object.keys(ipam.dns).length ? { dns: ipam.dns } : {}),
      };
    });
  } finally {
    host.close();
    container.close();
    hostNs.close();
  }
}

/**
 * DEL: link (if the namespace is still there) and rules, then the address lease — each
 * idempotent. The link and rule deletions both wait out kernel RCU grace periods (~20 ms each
 * here), so they run concurrently, both awaited to the end (the host namespace is closed after);
 * the lease goes last so the address is not reused early.
 */
async function del(ctx: PluginContext): Promise<void> {
  const cfg = parseConfig(ctx.conf);
  const target = { network: cfg.name, containerId: ctx.env.containerId };
  const hostNs = Netns.current();
  try {
    // On iptables-nft the rules are found by their tag over netlink: that starts at once, and the
    // container's addresses (what the exec path rebuilds the rules from) are not even read.
    const byTag = cfg.ipMasq && (await findsByTag());
    const addresses = deferred<string[] | undefined>();
    await allSettledOrThrow([
      removeLink(ctx, cfg.ipMasq && !byTag ? addresses.resolve : undefined).finally(() => addresses.resolve(undefined)),
      cfg.ipMasq ? (byTag ? teardownMasq(hostNs, target) : addresses.promise.then((a) => teardownMasq(hostNs, target, familiesOf(a), a))) : undefined,
    ]);
  } finally {
    hostNs.close();
  }
  await ctx.delegate.run('DEL', { type: cfg.ipamType }, { stdin: ctx.stdin.toString('utf8') });
}

/**
 * Delete the container's interface (its host end goes with it). `addresses`, when given, hears the
 * addresses it still held (link-local aside) before the delete.
 */
async function removeLink(ctx: PluginContext, addresses?: (a: string[]) => void): Promise<void> {
  if (!ctx.netns) return;
  const container = await NetlinkHandle.open(ctx.netns);
  try {
    const link = await container.link.find(ctx.env.ifname);
    // Only a veth can be ours: another link of that name (`lo`, one the runtime or another plugin
    // made) is no attachment of this plugin, and `lo` cannot even be deleted (EOPNOTSUPP).
    if (!link || link.kind !== 'veth') return;
    if (addresses) addresses((await container.addr.list({ dev: link.index })).filter((a) => a.scope !== 'link').map((a) => a.address));
    await container.link.del({ index: link.index });
  } finally {
    container.close();
  }
}

/** The families whose masquerade rules to remove: those of the addresses, both when none are known. */
function familiesOf(addresses: string[] | undefined): (4 | 6)[] {
  const held = [...new Set((addresses ?? []).map(familyOf))];
  return held.length ? held : [4, 6];
}

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** CHECK: the container link and its addresses from prevResult, the bridge, the rules, then IPAM. */
async function check(ctx: PluginContext): Promise<void> {
  const cfg = parseConfig(ctx.conf);
  if (!ctx.conf.prevResult) throw new CniError(ErrorCode.InvalidNetworkConfig, 'prevResult: required for CHECK');
  const prev = convertResult(ctx.conf.prevResult, '1.1.0') as Result;
  const host = await NetlinkHandle.open();
  const container = await NetlinkHandle.open(ctx.netns!);
  const hostNs = Netns.current();
  try {
    const br = await host.link.find(cfg.bridge);
    if (br?.kind !== 'bridge') throw new CniError(ErrorCode.Plugin, `bridge ${cfg.bridge}: not found`);
    const link = await container.link.find(ctx.env.ifname);
    if (!link) throw new CniError(ErrorCode.Plugin, `container interface ${ctx.env.ifname}: not found in ${ctx.env.netns}`);
    const have = new Set((await container.addr.list({ dev: link.index })).map((a) => a.address));
    for (const ip of prev.ips ?? []) {
      if (!have.has(ip.address)) throw new CniError(ErrorCode.Plugin, `container interface ${ctx.env.ifname}: address ${ip.address} missing`);
    }
    if (cfg.ipMasq) {
      const missing = await missingMasq(hostNs, { network: cfg.name, containerId: ctx.env.containerId }, (prev.ips ?? []).map((i) => i.address));
      if (missing.length) throw new CniError(ErrorCode.Plugin, `ipMasq: ${missing.length} rule(s) missing in chain ${missing[0]!.chain}`);
    }
  } finally {
    host.close();
    container.close();
    hostNs.close();
  }
  await ctx.delegate.run('CHECK', { type: cfg.ipamType }, { stdin: ctx.stdin.toString('utf8') });
}

export const plugin: Plugin = { type: 'bridge', validate: (c) => void parseConfig(c), add, del, check };
