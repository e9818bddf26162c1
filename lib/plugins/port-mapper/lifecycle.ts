// The port mapper's STATUS and GC (spec 1.1.0; Mesos sends neither). STATUS: iptables-restore is
// installed (else code 50), then the delegate's STATUS. GC: the DNAT (and snat) rules in the
// network's chain of every container the runtime no longer lists — the chain is the network's, the
// tag `container_id: <id>` (Mesos' own) names the container — then the delegate's GC.
import type { PluginContext } from '../../cni/plugin.js';
import { CniError, codeFor, ErrorCode } from '../../cni/errors.js';
import { forward } from '../../cni/forward.js';
import { tagsWithPrefix } from '../../iptables/index.js';
import { which } from '../../netns/index.js';
import { Netns } from '../../netns/netns.js';
import { parseConfig } from './config.js';
import { Code } from './errors.js';
import { remove } from './nat.js';
import { TAG_PREFIX } from './rules.js';

export async function status(ctx: PluginContext): Promise<void> {
  const cfg = parseConfig(ctx.conf);
  const installed = await which('iptables-restore').then(() => true, () => false);
  if (!installed) throw new CniError(ErrorCode.PluginNotAvailable, 'iptables-restore is not installed: no DNAT rule can be written');
  await forward(ctx, cfg.delegate);
}

export async function gc(ctx: PluginContext): Promise<void> {
  const cfg = parseConfig(ctx.conf);
  const valid = ctx.validAttachments;
  if (valid) {
    const host = Netns.current();
    try {
      const stale = new Set<string>();
      for (const family of [4, 6] as const) {
        for (const t of await tagsWithPrefix(host, family, 'nat', [cfg.chain], TAG_PREFIX)) {
          const id = t.slice(TAG_PREFIX.length);
          if (!valid.hasContainer(id)) stale.add(id);
        }
      }
      for (const id of stale) await remove(host, cfg.chain, id);
      if (stale.size) ctx.log.info('removed the rules of stale containers', { containers: [...stale] });
    } catch (e) {
      throw new CniError(codeFor(e, Code.PortMapFailure), `GC: Unable to remove iptables DNAT rules: ${(e as Error).message}`);
    } finally {
      host.close();
    }
  }
  await forward(ctx, cfg.delegate);
}
