// STATUS and GC handed on to a delegate (the IPAM plugin, or the plugin a meta plugin wraps), as
// the spec asks of a plugin that delegates. Both exist from spec 1.1.0 on: a delegate whose
// executable does not speak 1.1.0 (the reference plugins before 1.5, say) has neither command, so
// it is not asked, and the caller's answer stands alone (its VERSION is asked once to know).
import { VALID_ATTACHMENTS } from './gc.js';
import type { PluginContext } from './plugin.js';

/**
 * Run the context's command (STATUS or GC) on the delegate `conf` (its `type` names it), in the
 * config's version, with the valid attachments for GC. `stdin`: the exact config to send instead
 * (IPAM gets our whole stdin). Returns whether the delegate was asked; its error is thrown as is.
 */
export async function forward(ctx: PluginContext, conf: Record<string, unknown>, stdin?: string): Promise<boolean> {
  const type = conf.type as string;
  const version = ctx.conf.cniVersion ?? '1.1.0';
  if (!(await ctx.delegate.speaks(type, version))) {
    ctx.log.info(`${ctx.command} not forwarded: the delegate does not speak ${version}`, { delegate: type });
    return false;
  }
  const out: Record<string, unknown> = { ...conf, cniVersion: version };
  if (ctx.command === 'GC' && ctx.conf[VALID_ATTACHMENTS] !== undefined) out[VALID_ATTACHMENTS] = ctx.conf[VALID_ATTACHMENTS];
  await ctx.delegate.run(ctx.command, out, stdin === undefined ? {} : { stdin });
  return true;
}
