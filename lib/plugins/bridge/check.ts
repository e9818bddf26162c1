// The bridge's CHECK, as thorough as the reference's: the IPAM's CHECK first; then every interface
// of prevResult as it should be — the bridge (kind, MAC, promisc), the host veth (enslaved to the
// bridge, peer of the container's), the container interface (in the sandbox named, a veth, its MAC)
// — its addresses and routes; and ours on top: the masquerade rules and the MAC spoof filter.
import type { PluginContext } from '../../cni/plugin.js';
import { CniError, ErrorCode } from '../../cni/errors.js';
import { convertResult, type Result } from '../../cni/result.js';
import { NetlinkHandle } from '../../netlink/handle.js';
import type { Link } from '../../netlink/link.js';
import { Netns } from '../../netns/netns.js';
import { parseConfig } from './config.js';
import * as masq from './masq.js';
import { hasSpoofCheck } from './spoofcheck.js';
import { ipamRun, routeSpec } from './routes.js';

const fail = (msg: string) => new CniError(ErrorCode.Plugin, msg);
const sameMac = (a: string | undefined, b: string | undefined) => (a ?? '').toLowerCase() === (b ?? '').toLowerCase();

export async function check(ctx: PluginContext): Promise<void> {
  const cfg = parseConfig(ctx.conf, ctx.env);
  if (!ctx.conf.prevResult) throw new CniError(ErrorCode.InvalidNetworkConfig, 'prevResult: required for CHECK');
  const prev = convertResult(ctx.conf.prevResult, '1.1.0') as Result;
  const { ifname, containerId } = ctx.env;
  if (cfg.ipamType) await ipamRun(ctx, 'CHECK', cfg.ipamType);

  const intfs = prev.interfaces ?? [];
  const ctrIntf = intfs.find((i) => i.name === ifname && i.sandbox);
  if (!ctrIntf) throw fail(`prevResult: no interface ${ifname} with a sandbox`);
  if (ctrIntf.sandbox !== ctx.env.netns) throw fail(`Sandbox in prevResult ${ctrIntf.sandbox} doesn't match configured netns: ${ctx.env.netns}`);

  const host = await NetlinkHandle.open();
  const container = await NetlinkHandle.open(ctx.netns!);
  const hostNs = Netns.current();
  try {
    const br = await host.link.find(cfg.bridge);
    if (br?.kind !== 'bridge') throw fail(`bridge ${cfg.bridge}: not found (or not a bridge)`);
    if (cfg.promiscMode && !br.promisc) throw fail(`bridge ${cfg.bridge}: promiscuous mode off, the config asks for it`);
    const link = await container.link.find(ifname);
    if (!link) throw fail(`container interface ${ifname}: not found in ${ctx.env.netns}`);
    if (link.kind !== 'veth') throw fail(`container interface ${ifname}: a ${link.kind ?? 'plain'} link, expected veth`);
    if (ctrIntf.mac && !sameMac(ctrIntf.mac, link.mac)) throw fail(`container interface ${ifname}: MAC ${link.mac}, prevResult has ${ctrIntf.mac}`);
    if (!cfg.disableContainerInterface && !link.up) throw fail(`container interface ${ifname}: down`);

    // The host veth of prevResult: enslaved to the bridge, and the container interface's peer.
    let peer: Link | undefined;
    for (const i of intfs.filter((x) => !x.sandbox)) {
      const l = await host.link.find(i.name);
      if (!l) throw fail(`interface ${i.name} of prevResult: not found on the host`);
      if (i.mac && !sameMac(i.mac, l.mac)) throw fail(`interface ${i.name}: MAC ${l.mac}, prevResult has ${i.mac}`);
      if (i.name === cfg.bridge) continue;
      if (l.kind !== 'veth' || l.master !== br.index) throw fail(`interface ${i.name}: not a veth on bridge ${cfg.bridge}`);
      if (l.index === link.link) peer = l;
    }
    if (!peer) throw fail(`container interface ${ifname}: its host end is not in prevResult's interfaces`);

    const have = new Set((await container.addr.list({ dev: link.index })).map((a) => a.address));
    for (const ip of prev.ips ?? []) {
      if (!have.has(ip.address)) throw fail(`container interface ${ifname}: address ${ip.address} missing`);
    }
    const kernelRoutes = await container.route.list({ table: 'all' });
    for (const r of prev.routes ?? []) {
      const want = routeSpec(ifname, prev.ips ?? [], r);
      const found = kernelRoutes.some((k) => (k.dst === want.dst || (want.dst === 'default' && (k.dst === '0.0.0.0/0' || k.dst === '::/0' || k.dst === 'default'))) && (want.gw === undefined || k.gw === want.gw));
      if (!found) throw fail(`container: route to ${r.dst}${want.gw ? ` via ${want.gw}` : ''} missing`);
    }
    if (cfg.ipMasq && cfg.ipamType) {
      const target = { network: cfg.name, containerId, ifname };
      const gone = await masq.missing(hostNs, await masq.backendOf(cfg), target, (prev.ips ?? []).map((i) => i.address));
      if (gone.length) throw fail(`ipMasq: ${gone.length} rule(s) missing, first: ${gone[0]}`);
    }
    if (cfg.macSpoofCheck && !(await hasSpoofCheck(hostNs, { containerId, ifname }, peer.name!, link.mac!))) {
      throw fail(`macspoofchk: the filter of ${peer.name} for ${link.mac} is missing`);
    }
  } finally {
    host.close();
    container.close();
    hostNs.close();
  }
}
