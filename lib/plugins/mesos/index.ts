// The mesos meta plugin: applies the network labels Marathon/Mesos attach to a task (chiefly
// CNI_ARGS=IP=<addr>) to the delegate's config, then runs the delegate with the same command.
// ADD, DEL and CHECK all rewrite the same way: Mesos replays the checkpointed config on DEL, so
// the delegate sees on DEL exactly what it allocated on ADD.
import type { Command } from '../../cni/env.js';
import type { Plugin, PluginContext } from '../../cni/plugin.js';
import type { AnyResult } from '../../cni/result.js';
import { forward } from '../../cni/forward.js';
import { parseConfig } from './config.js';
import { rewriteDelegate } from './labels.js';

function delegateConfig(ctx: PluginContext, command: Command): Record<string, unknown> {
  const { delegate, notes } = rewriteDelegate(parseConfig(ctx.conf), { lenient: command !== 'ADD' && command !== 'CHECK' });
  for (const note of notes) ctx.log.info(note, { delegate: delegate.type });
  return delegate;
}

async function add(ctx: PluginContext): Promise<AnyResult> {
  return ctx.delegate.add(delegateConfig(ctx, 'ADD'));
}

async function del(ctx: PluginContext): Promise<void> {
  await ctx.delegate.del(delegateConfig(ctx, 'DEL'));
}

async function check(ctx: PluginContext): Promise<void> {
  await ctx.delegate.check(delegateConfig(ctx, 'CHECK'));
}

/** STATUS and GC (1.1.0) go to the delegate, as the spec asks of a plugin that delegates; this one holds no state. */
async function forwarded(ctx: PluginContext): Promise<void> {
  await forward(ctx, delegateConfig(ctx, ctx.command));
}

// The namespace is the delegate's business (it opens and checks CNI_NETNS itself); the labels
// need none, so this plugin never opens it (upstream opened it once per label, for nothing).
export const plugin: Plugin = { type: 'mesos', usesNetns: false, validate: (c) => void parseConfig(c), add, del, check, status: forwarded, gc: forwarded };
