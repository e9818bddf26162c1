// dcos-l4lb: a drop-in for DC/OS' L4LB CNI plugin. Around any delegate it attaches the container to
// spartan (DNS) and registers it with minuteman (VIPs). ADD in upstream's order — ip_forward, the
// delegate, spartan, minuteman — undoing all of it (the delegate included) on a failure; DEL takes
// ours down before the delegate's, each step idempotent; CHECK verifies every piece, then the delegate.
import type { Plugin, PluginContext } from '../../cni/plugin.js';
import { asCniError, CniError, ErrorCode, InputError } from '../../cni/errors.js';
import { convertResult, type AnyResult } from '../../cni/result.js';
import { Rollback } from '../../cni/rollback.js';
import { NetlinkHandle } from '../../netlink/handle.js';
import { Netns } from '../../netns/netns.js';
import * as sysctl from '../../netns/sysctl.js';
import { parseConfig, type L4lbConfig } from './config.js';
import { deleteLinks } from './links.js';
import * as minuteman from './minuteman.js';
import * as spartan from './spartan.js';
import { RecordStore } from './records.js';
import { gc, status } from './lifecycle.js';

/**
 * The delegate's failure, keeping its code (a runtime may act on "try again later") and whether it
 * refused its input for what it is (then a DEL of it succeeds: InputError).
 */
function delegateError(cfg: L4lbConfig, e: unknown): CniError {
  const err = asCniError(e);
  const Err = e instanceof InputError ? InputError : CniError;
  return new Err(err.code, `failed to invoke delegate plugin ${cfg.delegateType}: ${err.msg}`, err.details, { cause: e });
}

async function add(ctx: PluginContext): Promise<AnyResult> {
  const cfg = parseConfig(ctx.conf);
  const hostNs = Netns.current();
  try {
    // Upstream's first step, in the namespace the plugin runs in (the host's).
    await sysctl.set(hostNs, 'net.ipv4.ip_forward', 1).catch((e) => {
      throw new CniError(ErrorCode.Plugin, `failed to enable forwarding: ${(e as Error).message}`);
    });
  } finally {
    hostNs.close();
  }
  let result: AnyResult;
  try {
    result = await ctx.delegate.add(cfg.delegate);
  } catch (e) {
    throw delegateError(cfg, e);
  }
  if (!cfg.spartan.enable && !cfg.minuteman.enable) return result;

  const containerNs = ctx.netns!;
  let host: NetlinkHandle | undefined;
  let container: NetlinkHandle | undefined;
  try {
    // The guard runs the undos before it rethrows, while the handles they use are still open.
    return await Rollback.guard(ctx.log, async (rb) => {
      // The runtime may never DEL a failed ADD: the delegate's attachment must not leak.
      rb.push(`delegate ${cfg.delegateType} DEL`, () => ctx.delegate.del(cfg.delegate));
      // Which network this attachment is, for a GC (the lease and checkpoint do not say it). Only GC
      // needs it: a disk that refuses it costs GC this attachment, not the attachment itself.
      const records = new RecordStore(cfg.spartan.dataDir, cfg.name);
      await records.write({ containerId: ctx.env.containerId, ifname: ctx.env.ifname, netns: ctx.env.netns! }).then(
        () => rb.push('remove the attachment record', () => records.remove(ctx.env.containerId, ctx.env.ifname)),
        (e: Error) => ctx.log.warn('no GC record for this attachment', { error: e.message }),
      );
      host = await NetlinkHandle.open();
      container = await NetlinkHandle.open(containerNs);
      if (cfg.spartan.enable) await spartan.attach(ctx, cfg.spartan, { host, container, containerNs }, rb);
      if (cfg.minuteman.enable) await minuteman.register(cfg.minuteman, container, ctx.env.containerId, ctx.env.netns!, rb);
      // Upstream prints the delegate's result untouched; the skel converts it to our version.
      return result;
    });
  } finally {
    host?.close();
    container?.close();
  }
}

/**
 * DEL, each step a no-op when already done (so DEL repeats, and works without the namespace).
 * The checkpoint goes first (dcos-net lets go of the namespace). Then two independent strands
 * run at once, since each mostly waits out kernel RCU grace periods: ours — the container links in
 * one group delete, then the spartan lease (after the link, so the address is not handed out while
 * our host route still holds it) — and the delegate's DEL. The first failure is reported.
 */
async function del(ctx: PluginContext): Promise<void> {
  const cfg = parseConfig(ctx.conf);
  if (cfg.minuteman.enable) await minuteman.removeCheckpoint(cfg.minuteman, ctx.env.containerId);
  const ours = async () => {
    const claims = [...(cfg.spartan.enable ? [spartan.isSpartanLink] : []), ...(cfg.minuteman.enable ? [minuteman.isMinutemanLink] : [])];
    if (ctx.netns && claims.length) {
      try {
        await deleteLinks(ctx.netns, claims);
      } catch (e) {
        throw new CniError(ErrorCode.Plugin, `failed to delete the spartan/minuteman interfaces in ${ctx.env.netns}: ${(e as Error).message}`, '', { cause: e });
      }
    }
    if (cfg.spartan.enable) await spartan.release(ctx, cfg.spartan);
  };
  const delegate = ctx.delegate.del(cfg.delegate).catch((e) => {
    throw delegateError(cfg, e);
  });
  const [a, b] = await Promise.allSettled([ours(), delegate]);
  if (a.status === 'rejected') throw a.reason;
  if (b.status === 'rejected') throw b.reason;
  if (cfg.spartan.enable || cfg.minuteman.enable) await new RecordStore(cfg.spartan.dataDir, cfg.name).remove(ctx.env.containerId, ctx.env.ifname);
}

/** CHECK (upstream has none): the spartan and minuteman pieces, then the delegate's own CHECK. */
async function check(ctx: PluginContext): Promise<void> {
  const cfg = parseConfig(ctx.conf);
  if (ctx.conf.prevResult === undefined) throw new CniError(ErrorCode.InvalidNetworkConfig, 'prevResult: required for CHECK');
  if (cfg.spartan.enable || cfg.minuteman.enable) {
    const host = await NetlinkHandle.open();
    const container = await NetlinkHandle.open(ctx.netns!);
    try {
      if (cfg.spartan.enable) await spartan.verify(host, container, ctx.env.netns!);
      if (cfg.minuteman.enable) await minuteman.verify(cfg.minuteman, container, ctx.env.containerId, ctx.env.netns!);
    } finally {
      host.close();
      container.close();
    }
  }
  // Our result is the delegate's: hand it back in the version the delegate was told to speak.
  const conf = { ...cfg.delegate, prevResult: convertResult(ctx.conf.prevResult, cfg.cniVersion) };
  try {
    await ctx.delegate.check(conf);
  } catch (e) {
    throw delegateError(cfg, e);
  }
}

export const plugin: Plugin = { type: 'dcos-l4lb', validate: (c) => void parseConfig(c), add, del, check, status, gc };
