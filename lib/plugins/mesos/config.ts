// mesos plugin configuration: the network's name and version, the delegate config to run, and the
// network labels Mesos put in args["org.apache.mesos"].network_info. All validation happens here;
// labels.ts turns a valid config into the delegate's config.
import { isObject, type NetConf } from '../../cni/config.js';
import { configError } from '../../cni/errors.js';

export interface Label {
  key: string;
  /** Mesos labels may omit the value. */
  value: string | undefined;
}

export interface MesosConfig {
  name: string;
  cniVersion: string | undefined;
  /** The delegate's config as written (never mutated; labels.ts builds a new one). */
  delegate: Record<string, unknown>;
  /** The network's own args (org.apache.mesos included): they flow through to the delegate. */
  args: Record<string, unknown> | undefined;
  labels: Label[];
  prevResult: unknown;
  runtimeConfig: Record<string, unknown> | undefined;
}

const LABELS_PATH = 'args.org.apache.mesos.network_info.labels.labels';

/** `args.cni` of either level: an object whose `ips`, when present, is an array of strings. */
function checkCniArgs(args: unknown, field: string): void {
  if (args === undefined) return;
  if (!isObject(args)) throw configError(field, 'an object', args);
  const cni = args.cni;
  if (cni === undefined) return;
  if (!isObject(cni)) throw configError(`${field}.cni`, 'an object', cni);
  if (cni.ips !== undefined && (!Array.isArray(cni.ips) || cni.ips.some((ip) => typeof ip !== 'string'))) {
    throw configError(`${field}.cni.ips`, 'an array of IP address strings', cni.ips);
  }
}

/** The labels of network_info, in order; none when the config did not come from Mesos. */
function labelsOf(args: Record<string, unknown> | undefined): Label[] {
  const mesos = args?.['org.apache.mesos'];
  if (mesos === undefined) return [];
  if (!isObject(mesos)) throw configError('args.org.apache.mesos', 'an object with network_info', mesos);
  const info = mesos.network_info;
  if (info === undefined) return [];
  if (!isObject(info)) throw configError('args.org.apache.mesos.network_info', 'an object', info);
  if (info.labels === undefined) return [];
  if (!isObject(info.labels)) throw configError('args.org.apache.mesos.network_info.labels', 'an object {labels: [...]}', info.labels);
  const list = info.labels.labels ?? [];
  if (!Array.isArray(list)) throw configError(LABELS_PATH, 'an array of {key, value}', list);
  return list.map((l, i) => {
    if (!isObject(l) || typeof l.key !== 'string') throw configError(`${LABELS_PATH}[${i}].key`, 'a string', isObject(l) ? l.key : l);
    if (l.value !== undefined && typeof l.value !== 'string') throw configError(`${LABELS_PATH}[${i}].value`, 'a string', l.value);
    return { key: l.key, value: l.value };
  });
}

export function parseConfig(conf: NetConf): MesosConfig {
  if (typeof conf.name !== 'string' || conf.name === '') throw configError('name', 'a network name', conf.name);
  const d = conf.delegate;
  // Upstream let a missing delegate through and then crashed invoking a plugin without a type.
  if (!isObject(d)) throw configError('delegate', 'an object: the config of the plugin to run', d);
  if (typeof d.type !== 'string' || d.type === '') throw configError('delegate.type', 'a string naming the plugin to run', d.type);
  if (d.name !== undefined) {
    throw configError('delegate.name', `no name: the delegate runs under the network's name ${JSON.stringify(conf.name)}`, d.name);
  }
  if (d.ipam !== undefined && !isObject(d.ipam)) throw configError('delegate.ipam', 'an object', d.ipam);
  checkCniArgs(d.args, 'delegate.args');
  checkCniArgs(conf.args, 'args');
  return {
    name: conf.name,
    cniVersion: conf.cniVersion || undefined,
    delegate: d,
    args: conf.args,
    labels: labelsOf(conf.args),
    prevResult: conf.prevResult,
    runtimeConfig: conf.runtimeConfig,
  };
}
