// Every plugin of this package by CNI type, loaded lazily: what the daemon, `mesos-cni exec` and
// `mesos-cni install` know. An executable's entry names its own smaller set (loaders.ts).
import type { Plugin } from '../cni/plugin.js';
import { inProcessOf } from './in-process.js';
import { bridge, contrail, dcosL4lb, hostLocal, loadFrom, macvtap, mesos, portMapper, type Loaders } from './loaders.js';

const loaders: Loaders = {
  'host-local': hostLocal,
  bridge,
  mesos,
  macvtap,
  'mesos-cni-port-mapper': portMapper,
  'dcos-l4lb': dcosL4lb,
  'contrail-cni-plugin': contrail,
};

export const PLUGIN_TYPES = Object.keys(loaders);

export function loadPlugin(type: string): Promise<Plugin | undefined> {
  return loadFrom(loaders, type);
}

/** Runs any plugin of this package in-process. */
export const inProcess = inProcessOf(loaders);
