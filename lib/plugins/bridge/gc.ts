// The bridge's STATUS and GC (CNI 1.1.0). STATUS: the tool its masquerade backend needs is
// installed (else code 50), then the IPAM's STATUS. GC: the masquerade rules of this network's
// attachments the runtime no longer lists (both backends), the MAC spoof filters of ports that are
// gone, then the IPAM's GC with the same list. No list, nothing released.
import type { PluginContext } from '../../cni/plugin.js';
import { CniError, ErrorCode } from '../../cni/errors.js';
import { forward } from '../../cni/forward.js';
import { NetlinkHandle } from '../../netlink/handle.js';
import { Netns } from '../../netns/netns.js';
import { available } from '../shared/nft.js';
import { parseConfig } from './config.js';
import * as masq from './masq.js';
import { collectSpoofChecks } from './spoofcheck.js';

export async function status(ctx: PluginContext): Promise<void> {
  const cfg = parseConfig(ctx.conf, ctx.env);
  if (cfg.ipMasq && cfg.ipamType) {
    const backend = await masq.backendOf(cfg);
    if (!(await masq.backendInstalled(backend))) {
      throw new CniError(ErrorCode.PluginNotAvailable, `ipMasq: ${backend === 'iptables' ? 'iptables-restore' : 'nft'} is not installed`);
    }
  }
  if (cfg.macSpoofCheck) {
    const host = Netns.current();
    try {
      if (!(await available(host))) throw new CniError(ErrorCode.PluginNotAvailable, 'macspoofchk: nft is not installed');
    } finally {
      host.close();
    }
  }
  if (cfg.ipamType) await forward(ctx, { type: cfg.ipamType }, ctx.stdin.toString('utf8'));
}

export async function gc(ctx: PluginContext): Promise<void> {
  const cfg = parseConfig(ctx.conf, ctx.env);
  const valid = ctx.validAttachments;
  if (valid) {
    const hostNs = Netns.current();
    const host = await NetlinkHandle.open();
    try {
      const ids = valid.list.map((a) => a.containerID);
      const rules = await masq.collect(hostNs, cfg.name, (id, ifname) => valid.has(id, ifname), ids);
      const filters = (await available(hostNs)) ? await collectSpoofChecks(hostNs, host) : 0;
      if (rules + filters) ctx.log.info('collected', { masquerade: rules, macspoofchk: filters });
    } finally {
      host.close();
      hostNs.close();
    }
  }
  if (cfg.ipamType) await forward(ctx, { type: cfg.ipamType }, ctx.stdin.toString('utf8'));
}
