// dcos-l4lb's STATUS and GC (spec 1.1.0; Mesos sends neither). STATUS: the delegate's. GC: every
// attachment of this network (its record) the runtime no longer lists loses what DEL would take —
// the spartan and minuteman links while its namespace exists, the spartan lease (a DEL to the IPAM
// under that attachment's ID and interface), the minuteman checkpoint once no network's record
// names the container — then the delegate's GC. No list, nothing released.
import type { PluginContext } from '../../cni/plugin.js';
import { forward } from '../../cni/forward.js';
import { isNetns } from '../../netns/index.js';
import { Netns } from '../../netns/netns.js';
import { parseConfig } from './config.js';
import { deleteLinks } from './links.js';
import * as minuteman from './minuteman.js';
import { RecordStore } from './records.js';
import * as spartan from './spartan.js';

export async function status(ctx: PluginContext): Promise<void> {
  await forward(ctx, parseConfig(ctx.conf).delegate);
}

export async function gc(ctx: PluginContext): Promise<void> {
  const cfg = parseConfig(ctx.conf);
  const valid = ctx.validAttachments;
  if (valid) {
    const records = new RecordStore(cfg.spartan.dataDir, cfg.name);
    const stale = (await records.all()).filter((r) => !valid.has(r.containerId, r.ifname));
    for (const r of stale) {
      if (await isNetns(r.netns)) {
        const ns = await Netns.open(r.netns);
        try {
          await deleteLinks(ns, [spartan.isSpartanLink, minuteman.isMinutemanLink]);
        } finally {
          ns.close();
        }
      }
      if (cfg.spartan.enable) await spartan.release(ctx, cfg.spartan, r);
      await records.remove(r.containerId, r.ifname);
      if (cfg.minuteman.enable && !(await records.containerRecorded(r.containerId))) await minuteman.removeCheckpoint(cfg.minuteman, r.containerId);
    }
    if (stale.length) ctx.log.info('released stale attachments', { attachments: stale.map((r) => `${r.containerId}/${r.ifname}`) });
  }
  await forward(ctx, cfg.delegate);
}
