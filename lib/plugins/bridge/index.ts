// The bridge plugin, config-compatible with the reference one. ADD is a linear script with a
// rollback stack: IPAM, veth (one request, born in place, enslaved, UP), port options (hairpin,
// isolation) and VLANs, the container's sysctls, ONE container-side netlink batch (lo, addresses,
// link up, routes, MAC read back), gateway address on the bridge, masquerade in one transaction,
// the MAC spoof filter. An L2-only config (no ipam) stops after the port.
import type { Plugin, PluginContext } from '../../cni/plugin.js';
import { CniError, ErrorCode } from '../../cni/errors.js';
import { convertResult, type AnyResult, type Interface, type IpConfig, type Result, type Route } from '../../cni/result.js';
import { Rollback } from '../../cni/rollback.js';
import { allSettledOrThrow } from '../../util/settle.js';
import { NetlinkHandle } from '../../netlink/handle.js';
import { isErrno } from '../../native/index.js';
import type { Op } from '../../netlink/ops.js';
import type { Link } from '../../netlink/link.js';
import { hostAddress, parsePrefix } from '../../ip.js';
import { Netns } from '../../netns/netns.js';
import * as sysctl from '../../netns/sysctl.js';
import { parseConfig, type BridgeConfig } from './config.js';
import { createVeth, type Veth } from '../shared/veth.js';
import { ensureBridge, ensureGatewayAddr } from './bridge.js';
import * as masq from './masq.js';
import { setupSpoofCheck, teardownSpoofCheck } from './spoofcheck.js';
import { check } from './check.js';
import { familyOf, ipamRun, routeSpec } from './routes.js';
import { gc, status } from './gc.js';
import { announce } from './announce.js';


/** Gateways filled in (isGateway: the subnet's first address when IPAM gave none). */
function withGateways(cfg: BridgeConfig, ips: IpConfig[]): IpConfig[] {
  return ips.map((ip) => (cfg.isGateway && !ip.gateway ? { ...ip, gateway: hostAddress(parsePrefix(ip.address, 'ips.address'), 1) } : ip));
}

/** IPAM routes plus, for isDefaultGateway, a default route per family that has a gateway and no default route with one. */
function withDefaultRoutes(cfg: BridgeConfig, ips: IpConfig[], routes: Route[]): Route[] {
  const out = [...routes];
  if (!cfg.isDefaultGateway) return out;
  for (const family of [4, 6] as const) {
    const gw = ips.find((ip) => familyOf(ip.address) === family && ip.gateway)?.gateway;
    const dst = family === 4 ? '0.0.0.0/0' : '::/0';
    if (gw && !out.some((r) => r.dst === dst && r.gw)) out.push({ dst, gw });
  }
  return out;
}

/**
 * The container side in one round trip: lo up, addresses, link up (unless disabled), on a layer-3
 * attachment arp_notify (as the reference sets it), routes, then read the link.
 * arp_notify goes on after the link is up, as in the reference (which brings the link up before
 * it has addresses): set before, the kernel would announce every fresh address at link up, racing
 * the bridge's enabling of the host port: usually flooded to every port from this process,
 * sometimes dropped. A reused address is announced by announce.ts, once the port forwards.
 */
function containerOps(cfg: BridgeConfig, ifname: string, ips: IpConfig[], routes: Route[]): Op[] {
  const ops: Op[] = [{ op: 'link.set', spec: { name: 'lo', up: true } }];
  // No IFA_F_NODAD: DAD is off through accept_dad unless enabledad, as the reference has it.
  for (const ip of ips) ops.push({ op: 'addr.add', spec: { dev: ifname, address: ip.address, noDad: false } });
  if (!cfg.disableContainerInterface) ops.push({ op: 'link.set', spec: { name: ifname, up: true } });
  if (cfg.ipamType) ops.push({ op: 'link.set', spec: { name: ifname, arpNotify: true } });
  for (const r of routes) ops.push({ op: 'route.add', spec: routeSpec(ifname, ips, r) });
  ops.push({ op: 'link.get', spec: { name: ifname } });
  return ops;
}

/**
 * The port's host end gets no IPv6 address of its own (addrgenmode none). A port never receives
 * for itself (the bridge takes every frame it brings), so a link-local address on it serves
 * nothing: it would cost its DAD, MLD reports and router solicitations (sent into the container)
 * and two routes in the host's IPv6 table beside the same prefixes of every other port. Set before
 * the container's end comes up: the kernel makes a link's IPv6 addresses when it has a carrier,
 * i.e. when both veth ends are up, not when the host end alone is. A link without IPv6 (a host
 * without it, or an MTU below 1280) refuses the mode: nothing to turn off.
 */
async function portWithoutAddresses(host: NetlinkHandle, veth: Veth): Promise<void> {
  await host.link.set({ ...(veth.index !== undefined ? { index: veth.index } : { name: veth.name }), addrGenMode: 'none' }).catch((e: unknown) => {
    if (!isErrno(e, 'EAFNOSUPPORT')) throw e;
  });
}

/**
 * IPv6 DAD off on the container interface unless enabledad, as the reference has it on a layer-3
 * attachment (a hairpin port would echo its own probes back and fail it); set before the
 * addresses exist. (Its arp_notify goes over netlink, in containerOps.) A container without IPv6
 * has no accept_dad: nothing to turn off.
 */
async function containerSysctls(ns: Netns, cfg: BridgeConfig, ifname: string): Promise<void> {
  if (!cfg.enableDad) await sysctl.set(ns, `net/ipv6/conf/${ifname}/accept_dad`, 0).catch(() => undefined);
}

/** The port's VLANs: an access port (vlan: PVID, untagged) or a trunk (tagged), VLAN 1 dropped unless preserveDefaultVlan. */
function vlanOps(cfg: BridgeConfig, dev: string): Op[] {
  if (cfg.vlan === 0 && cfg.vlanTrunk.length === 0) return [];
  const ops: Op[] = [];
  if (!cfg.preserveDefaultVlan) ops.push({ op: 'bridgeVlan.del', spec: { dev, vid: 1 } });
  if (cfg.vlan > 0) ops.push({ op: 'bridgeVlan.add', spec: { dev, vid: cfg.vlan, pvid: true, untagged: true } });
  for (const vid of cfg.vlanTrunk) ops.push({ op: 'bridgeVlan.add', spec: { dev, vid } });
  return ops;
}

async function ipamAdd(ctx: PluginContext, type: string): Promise<Result> {
  const r = convertResult((await ipamRun(ctx, 'ADD', type)) ?? {}, '1.1.0') as Result;
  if (!r.ips?.length) throw new CniError(ErrorCode.Plugin, 'IPAM plugin returned missing IP config');
  return r;
}

async function add(ctx: PluginContext): Promise<AnyResult> {
  const cfg = parseConfig(ctx.conf, ctx.env);
  const containerNs = ctx.netns!;
  const { containerId, ifname } = ctx.env;
  const hostNs = Netns.current();
  // The bridge is looked at (made, the first time) while the container's handle opens.
  const hostOpen = NetlinkHandle.open();
  const bridge = hostOpen.then((h) => ensureBridge(h, hostNs, cfg));
  const [opened, ctrOpened, ensured] = await Promise.allSettled([hostOpen, NetlinkHandle.open(containerNs), bridge]);
  try {
    for (const r of [opened, ctrOpened, ensured]) if (r.status === 'rejected') throw r.reason;
    const host = (opened as PromiseFulfilledResult<NetlinkHandle>).value;
    const container = (ctrOpened as PromiseFulfilledResult<NetlinkHandle>).value;
    return await Rollback.guard(ctx.log, async (rb) => {
      const br = (ensured as PromiseFulfilledResult<Link>).value;
      host.knownLink(cfg.bridge, br.index); // the gateway address check below names it
      // The veth (kernel work on a native thread, ~2 ms), then the container interface's sysctls,
      // and the IPAM (host-local in-process: JS and a few file writes on this thread) need nothing
      // of each other: both at once, each undone should the other fail. (The reference makes the
      // veth before the IPAM call as well.) The sysctls are set on a layer-3 attachment, i.e. one
      // with an IPAM, which yields an address or fails the ADD. An error of the IPAM wins, as when
      // it ran first.
      const type = cfg.ipamType;
      const made = createVeth({ host, container, containerNs, ifname, master: br.index, mtu: cfg.mtu, mac: cfg.mac });
      made.catch(() => undefined); // settled below; the rule writes waiting on it fail with it
      const target = { network: cfg.name, containerId, ifname };
      let masqDone: Promise<void> | undefined;
      // The IPAM starts on the next turn of the event loop: its first steps are synchronous JS
      // (~0.3 ms: finding the plugin, decoding its config), which would otherwise run before the
      // veth's request, prepared in microtasks, reaches the kernel.
      const ipamDone = type ? new Promise(setImmediate).then(() => ipamAdd(ctx, type)) : Promise.resolve(undefined);
      // Once the IPAM has answered, the rule transactions that need only the addresses (the
      // masquerade, and through onAddresses a meta plugin's above, e.g. the port mapper's DNAT)
      // are checked and rendered on this thread while the kernel still makes the veth, and written
      // once it exists: a host link being registered waits for nf_tables' commit mutex, which a
      // transaction holds for as long as it waits out an earlier deletion's RCU grace period (its
      // xt comment matches flush the destroy work). Each is undone before the release, after its
      // write has settled, so a rollback never races the rules it removes.
      const allocating = ipamDone.then(async (ipam) => {
        if (type) rb.push('IPAM DEL', () => ipamRun(ctx, 'DEL', type));
        const ips = withGateways(cfg, ipam?.ips ?? []);
        const addresses = ips.map((ip) => ip.address);
        if (cfg.ipMasq && ips.length) {
          const backend = await masq.backendOf(cfg);
          const started = masq.setup(hostNs, backend, target, addresses, made);
          masqDone = started;
          started.catch(() => undefined); // awaited below; a failure of the links may come first
          rb.push('remove ipMasq rules', () => started.catch(() => undefined).then(() => masq.teardown(hostNs, backend, target, addresses)));
        }
        const withdraw = ips.length ? ctx.onAddresses?.(addresses, made) : undefined;
        if (withdraw) rb.push("the caller's rules for these addresses", withdraw);
        return { ipam, ips };
      });
      const [veth, allocated, tuned] = await Promise.allSettled([
        made,
        allocating,
        made.then((v) => Promise.all([type ? containerSysctls(containerNs, cfg, ifname) : undefined, portWithoutAddresses(host, v)])),
      ]);
      if (veth.status === 'fulfilled') rb.push(`delete link ${veth.value.name}`, () => host.link.del(veth.value.name));
      if (allocated.status === 'rejected') throw allocated.reason;
      if (veth.status === 'rejected') throw veth.reason;
      if (tuned.status === 'rejected') throw tuned.reason;
      const hostVeth = veth.value.name;
      if (veth.value.peerIndex !== undefined) {
        // The kernel said the container end's index: the batch below names it (and the loopback
        // device, index 1 in every namespace) without a lookup round trip first.
        container.knownLink(ifname, veth.value.peerIndex);
        container.knownLink('lo', 1);
      }
      const { ipam, ips } = allocated.value;
      const routes = ipam ? withDefaultRoutes(cfg, ips, ipam.routes ?? []) : [];
      const port = { ...(cfg.hairpinMode ? { hairpin: true } : {}), ...(cfg.portIsolation ? { isolated: true } : {}) };
      if (Object.keys(port).length) await host.bridgePort.set({ dev: hostVeth, ...port });
      const vlans = vlanOps(cfg, hostVeth);
      if (vlans.length) await host.request(vlans);

      // The container side (one batch) and the gateway addresses on the bridge (host side; like
      // the bridge itself, shared by the network and never undone) at once.
      const containerSide = async () => {
        const replies = await container.request(containerOps(cfg, ifname, ips, routes));
        return replies[replies.length - 1]![0] as Link;
      };
      const gateways = async () => {
        if (!cfg.isGateway) return;
        for (const ip of ips) {
          if (ip.gateway) await ensureGatewayAddr(host, cfg, ip.gateway, parsePrefix(ip.address, 'ip').prefix);
        }
        for (const f of new Set(ips.filter((ip) => ip.gateway).map((ip) => familyOf(ip.address)))) {
          await sysctl.set(hostNs, f === 4 ? 'net.ipv4.ip_forward' : 'net.ipv6.conf.all.forwarding', 1);
        }
      };
      const [ctrLink] = await allSettledOrThrow([containerSide(), gateways()] as const);
      // The container's gratuitous ARP for a reused address, once the bridge forwards its port
      // (announce.ts), beside the steps below.
      const v4 = ips.filter((ip) => familyOf(ip.address) === 4).map((ip) => ip.address.split('/')[0]!);
      const announced = cfg.disableContainerInterface ? undefined : announce({ host, bridge: cfg.bridge, hostVeth, container, link: ctrLink, addresses: v4 }, ctx.log);
      // The bridge's MAC is pinned (ensureBridge): it did not change as the port joined. The host
      // end's came with the veth, or is read while the masquerade transaction finishes.
      const hostMac = veth.value.mac !== undefined ? Promise.resolve(veth.value.mac) : host.link.get(hostVeth).then((l) => l.mac!);
      hostMac.catch(() => undefined); // awaited below; a failure before that comes first
      await masqDone;
      if (cfg.macSpoofCheck) {
        await setupSpoofCheck(hostNs, { containerId, ifname }, hostVeth, ctrLink.mac!);
        rb.push('remove the MAC spoof filter', () => teardownSpoofCheck(hostNs, { containerId, ifname }));
      }
      const hostVethMac = await hostMac;
      await announced;
      const interfaces: Interface[] = [
        { name: cfg.bridge, mac: br.mac! },
        { name: hostVeth, mac: hostVethMac },
        { name: ifname, mac: ctrLink.mac!, sandbox: ctx.env.netns! },
      ];
      // The config's dns wins over the IPAM's, as in the reference (Mesos writes resolv.conf from it).
      const dns = cfg.dns ?? (ipam?.dns && Object.keys(ipam.dns).length ? ipam.dns : undefined);
      return {
        cniVersion: '1.1.0',
        interfaces,
        ...(ips.length ? { ips: ips.map((ip) => ({ ...ip, interface: 2 })) } : {}),
        ...(routes.length ? { routes } : {}),
        ...(dns ? { dns } : {}),
      };
    });
  } finally {
    for (const r of [opened, ctrOpened]) if (r.status === 'fulfilled') r.value.close();
    hostNs.close();
  }
}

/**
 * DEL: link (if the namespace is still there) and rules, then the address lease — each
 * idempotent. The link and rule deletions run concurrently once the link's addresses are read
 * (they say which masquerade rules there are), both awaited to the end; the lease goes last so the
 * address is not reused early.
 */
async function del(ctx: PluginContext): Promise<void> {
  const cfg = parseConfig(ctx.conf, ctx.env);
  const { containerId, ifname } = ctx.env;
  const target = { network: cfg.name, containerId, ifname };
  const hostNs = Netns.current();
  try {
    const container = ctx.netns ? await NetlinkHandle.open(ctx.netns) : undefined;
    try {
      // Only a veth can be ours: another link of that name (`lo`, one the runtime or another plugin
      // made) is no attachment of this plugin, and `lo` cannot even be deleted (EOPNOTSUPP).
      const found = await container?.link.find(ifname);
      const link = found?.kind === 'veth' ? found : undefined;
      const masqOn = cfg.ipMasq && cfg.ipamType !== undefined;
      // Link-local aside; none known (no link, or flushed by someone) makes teardown look at both families.
      const addresses = link && masqOn ? (await container!.addr.list({ dev: link.index })).filter((a) => a.scope !== 'link').map((a) => a.address) : undefined;
      await allSettledOrThrow([
        // Both ends go; answered once the kernel has unlisted them, its RCU barrier waited out on
        // an addon thread (link.delVeth).
        link ? container!.link.delVeth(link, hostNs) : undefined,
        masqOn ? masq.backendOf(cfg).then((b) => masq.teardown(hostNs, b, target, addresses)) : undefined,
        cfg.macSpoofCheck ? teardownSpoofCheck(hostNs, { containerId, ifname }) : undefined,
      ]);
    } finally {
      container?.close();
    }
  } finally {
    hostNs.close();
  }
  if (cfg.ipamType) await ipamRun(ctx, 'DEL', cfg.ipamType);
}

export const plugin: Plugin = { type: 'bridge', validate: (c, e) => void parseConfig(c, e), add, del, check, status, gc };
