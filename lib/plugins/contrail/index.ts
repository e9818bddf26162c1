// contrail-cni-plugin: Contrail network labels for Mesos tasks, in two modes (docs/contrail.md).
// Contrail mode ("mode": "mesos") is a drop-in for Juniper's Go plugin against a Contrail cluster;
// local mode (the default) makes every label work on this package's overlay master and agent.
import type { Plugin, PluginContext } from '../../cni/plugin.js';
import { convertResult, type AnyResult } from '../../cni/result.js';
import { checkStdin, loadConfig } from './config.js';
import { check, gc as collect, status } from './lifecycle.js';
import { addLocal, delLocal } from './local/mode.js';
import { addMesos, delMesos } from './mesos/mode.js';

async function add(ctx: PluginContext): Promise<AnyResult> {
  const cfg = loadConfig(ctx.conf);
  return cfg.mode === 'mesos' ? addMesos(ctx, cfg) : addLocal(ctx, cfg);
}

async function del(ctx: PluginContext): Promise<void> {
  const cfg = loadConfig(ctx.conf);
  await (cfg.mode === 'mesos' ? delMesos(ctx, cfg) : delLocal(ctx, cfg));
}

async function gc(ctx: PluginContext): Promise<void> {
  await collect(ctx, loadConfig(ctx.conf).mode === 'mesos' ? delMesos : delLocal);
}

/**
 * The result in the layered config's version (stdin's, else the contrail.conf file's), and in the
 * 0.2.0 form without one, as upstream printed it (and as Mesos reads it).
 */
function answer(ctx: PluginContext, r: AnyResult): AnyResult {
  return convertResult(r, loadConfig(ctx.conf).cniVersion ?? '0.2.0');
}

export const plugin: Plugin = { type: 'contrail-cni-plugin', validate: (c) => checkStdin(c), add, del, check, status, gc, answer };
