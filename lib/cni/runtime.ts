// The runtime side (what libcni does for a container runtime): run one config or a conflist's
// chain for ADD/CHECK/DEL, injecting name, cniVersion and prevResult, DEL in reverse order.
import type { NetConf, NetConfList } from './config.js';
import { isObject } from './config.js';
import type { CniEnv, Command } from './env.js';
import { configError } from './errors.js';
import { createDelegator, type Delegator, type InProcess, type PluginExec } from './invoke.js';
import { convertResult, type AnyResult } from './result.js';

export interface Attachment {
  containerId: string;
  netns?: string;
  ifname: string;
  path: string[];
  /** CNI_ARGS, verbatim. */
  args?: string;
  /** runtimeConfig entries for plugins that declare the capability (portMappings, ips, ...). */
  capabilityArgs?: Record<string, unknown>;
}

export interface RuntimeOptions {
  inProcess?: InProcess;
  exec?: PluginExec;
  baseEnv?: Record<string, string | undefined>;
}

function envFor(a: Attachment, command: Command): CniEnv {
  return { command, containerId: a.containerId, netns: a.netns, ifname: a.ifname, args: [], argsRaw: a.args, path: a.path };
}

/** A conflist (or a single config, as a list of one) after the checks libcni makes. */
export function asList(doc: unknown): NetConfList {
  if (!isObject(doc)) throw configError('network config', 'a JSON object');
  if (Array.isArray(doc.plugins)) {
    if (typeof doc.name !== 'string') throw configError('name', 'a string', doc.name);
    if (doc.plugins.length === 0) throw configError('plugins', 'at least one plugin');
    doc.plugins.forEach((p, i) => {
      if (!isObject(p) || typeof p.type !== 'string') throw configError(`plugins[${i}].type`, 'a string');
    });
    return doc as unknown as NetConfList;
  }
  if (typeof doc.type !== 'string') throw configError('type', 'a string', doc.type);
  const { cniVersion, name } = doc as NetConf;
  return { cniVersion, name: name ?? '', plugins: [doc as NetConf] };
}

/** Build the config one plugin of the chain receives. */
function pluginConf(list: NetConfList, p: NetConf, a: Attachment, prev: AnyResult | undefined): NetConf {
  const conf: NetConf = { ...p, name: list.name };
  if (list.cniVersion !== undefined) conf.cniVersion = list.cniVersion;
  if (prev !== undefined) conf.prevResult = prev;
  const caps = Object.entries(p.capabilities ?? {}).filter(([k, on]) => on && a.capabilityArgs?.[k] !== undefined);
  if (caps.length) conf.runtimeConfig = { ...(p.runtimeConfig ?? {}), ...Object.fromEntries(caps.map(([k]) => [k, a.capabilityArgs![k]])) };
  return conf;
}

/** ADD every plugin in order; each gets the previous result. Returns the last result. */
export async function addList(list: NetConfList, a: Attachment, o: RuntimeOptions = {}): Promise<AnyResult> {
  const d = createDelegator(envFor(a, 'ADD'), o);
  let prev: AnyResult | undefined;
  for (const p of list.plugins) prev = await d.add(pluginConf(list, p, a, prev));
  return list.cniVersion ? convertResult(prev!, list.cniVersion) : prev!;
}

/** CHECK every plugin in order with the result of the ADD. */
export async function checkList(list: NetConfList, a: Attachment, prev: AnyResult | undefined, o: RuntimeOptions = {}): Promise<void> {
  const d = createDelegator(envFor(a, 'CHECK'), o);
  for (const p of list.plugins) await d.check(pluginConf(list, p, a, prev));
}

/** DEL every plugin in reverse order (each with the ADD's result when known). */
export async function delList(list: NetConfList, a: Attachment, prev: AnyResult | undefined, o: RuntimeOptions = {}): Promise<void> {
  const d: Delegator = createDelegator(envFor(a, 'DEL'), o);
  for (const p of [...list.plugins].reverse()) await d.del(pluginConf(list, p, a, prev));
}
