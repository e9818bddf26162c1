// The runtime side (what libcni does for a container runtime): run one config or a conflist's
// chain for ADD/CHECK/DEL, injecting name, cniVersion and prevResult, DEL in reverse order; STATUS
// and GC of a network (1.1.0); the list's cniVersions, disableCheck and disableGC honoured.
import type { NetConf, NetConfList } from './config.js';
import { isObject } from './config.js';
import type { CniEnv, Command } from './env.js';
import { configError } from './errors.js';
import { VALID_ATTACHMENTS, type Attachment as ValidAttachment } from './gc.js';
import { createDelegator, type Delegator, type InProcess, type PluginExec } from './invoke.js';
import { convertResult, type AnyResult } from './result.js';
import { compareVersions, hasCommand, isSupported } from './version.js';

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

/**
 * The version a list runs with: the highest of `cniVersion` and `cniVersions` that we speak
 * (libcni's rule), undefined for a legacy list without either. Versions we do not know are
 * skipped; a list naming only such versions is refused.
 */
export function listVersion(doc: { cniVersion?: unknown; cniVersions?: unknown }): string | undefined {
  if (doc.cniVersions !== undefined && (!Array.isArray(doc.cniVersions) || doc.cniVersions.some((v) => typeof v !== 'string'))) {
    throw configError('cniVersions', 'an array of version strings', doc.cniVersions);
  }
  const all = [...(typeof doc.cniVersion === 'string' && doc.cniVersion ? [doc.cniVersion] : []), ...((doc.cniVersions as string[] | undefined) ?? [])];
  if (all.length === 0) return undefined;
  const known = all.filter(isSupported).sort(compareVersions);
  if (known.length === 0) throw configError('cniVersions', `a version this runtime speaks`, all);
  return known[known.length - 1];
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
    for (const k of ['disableCheck', 'disableGC'] as const) {
      if (doc[k] !== undefined && typeof doc[k] !== 'boolean') throw configError(k, 'true or false', doc[k]);
    }
    const list = { ...(doc as unknown as NetConfList) };
    const v = listVersion(doc);
    if (v === undefined) delete list.cniVersion;
    else list.cniVersion = v;
    return list;
  }
  if (typeof doc.type !== 'string') throw configError('type', 'a string', doc.type);
  const { name } = doc as NetConf;
  const cniVersion = listVersion(doc);
  return { ...(cniVersion !== undefined ? { cniVersion } : {}), name: name ?? '', plugins: [doc as NetConf] };
}

/**
 * Build the config one plugin of the chain receives: name and cniVersion injected, prevResult when
 * there is one, runtimeConfig from the capabilities it declares — and `capabilities` itself left
 * out (the spec has no plugin receive it). A single config keeps its own cniVersions key.
 */
function pluginConf(list: NetConfList, p: NetConf, a: Attachment | undefined, prev: AnyResult | undefined): NetConf {
  const { capabilities, ...rest } = p;
  const conf: NetConf = { ...rest, name: list.name };
  if (list.cniVersion !== undefined) conf.cniVersion = list.cniVersion;
  if (prev !== undefined) conf.prevResult = prev;
  const caps = Object.entries(capabilities ?? {}).filter(([k, on]) => on && a?.capabilityArgs?.[k] !== undefined);
  if (caps.length) conf.runtimeConfig = { ...(p.runtimeConfig ?? {}), ...Object.fromEntries(caps.map(([k]) => [k, a!.capabilityArgs![k]])) };
  return conf;
}

/** ADD every plugin in order; each gets the previous result. Returns the last result. */
export async function addList(list: NetConfList, a: Attachment, o: RuntimeOptions = {}): Promise<AnyResult> {
  const d = createDelegator(envFor(a, 'ADD'), { ...o, runtime: true });
  let prev: AnyResult | undefined;
  for (const p of list.plugins) prev = await d.add(pluginConf(list, p, a, prev));
  return list.cniVersion ? convertResult(prev!, list.cniVersion) : prev!;
}

/** CHECK every plugin in order with the result of the ADD; nothing when the list says disableCheck. */
export async function checkList(list: NetConfList, a: Attachment, prev: AnyResult | undefined, o: RuntimeOptions = {}): Promise<void> {
  if (list.disableCheck) return;
  const d = createDelegator(envFor(a, 'CHECK'), { ...o, runtime: true });
  for (const p of list.plugins) await d.check(pluginConf(list, p, a, prev));
}

/** DEL every plugin in reverse order (each with the ADD's result when known). */
export async function delList(list: NetConfList, a: Attachment, prev: AnyResult | undefined, o: RuntimeOptions = {}): Promise<void> {
  const d: Delegator = createDelegator(envFor(a, 'DEL'), { ...o, runtime: true });
  for (const p of [...list.plugins].reverse()) await d.del(pluginConf(list, p, a, prev));
}

/** The runtime environment of a network-wide command: CNI_PATH only. */
function networkEnv(path: string[], command: Command): CniEnv {
  return { command, containerId: '', netns: undefined, ifname: '', args: [], argsRaw: undefined, path };
}

/**
 * STATUS of a network (1.1.0): every plugin in order, the first error thrown. A list of an older
 * version has no STATUS: nothing is run (libcni's rule).
 */
export async function statusList(list: NetConfList, path: string[], o: RuntimeOptions = {}): Promise<void> {
  if (!list.cniVersion || !hasCommand(list.cniVersion, 'STATUS')) return;
  const d = createDelegator(networkEnv(path, 'STATUS'), { ...o, runtime: true });
  for (const p of list.plugins) await d.run('STATUS', pluginConf(list, p, undefined, undefined));
}

/**
 * GC of a network (1.1.0): every plugin gets the attachments still valid and releases the rest.
 * Nothing when the list says disableGC or is of an older version. Every plugin is asked even when
 * one fails; the first error is thrown after.
 */
export async function gcList(list: NetConfList, path: string[], valid: readonly ValidAttachment[], o: RuntimeOptions = {}): Promise<void> {
  if (list.disableGC || !list.cniVersion || !hasCommand(list.cniVersion, 'GC')) return;
  const d = createDelegator(networkEnv(path, 'GC'), { ...o, runtime: true });
  const errors: unknown[] = [];
  for (const p of list.plugins) {
    await d.run('GC', { ...pluginConf(list, p, undefined, undefined), [VALID_ATTACHMENTS]: valid }).catch((e: unknown) => errors.push(e));
  }
  if (errors.length) throw errors[0];
}
