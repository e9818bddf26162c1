// This package's plugins by CNI type, loaded lazily: what the executables, the daemon and the
// in-process runner (in-process.ts) load.
import type { Plugin } from '../cni/plugin.js';

const loaders: Record<string, () => Promise<Plugin>> = {
  'host-local': async () => (await import('./host-local/index.js')).plugin,
  bridge: async () => (await import('./bridge/index.js')).plugin,
  mesos: async () => (await import('./mesos/index.js')).plugin,
  macvtap: async () => (await import('./macvtap/index.js')).plugin,
  'mesos-cni-port-mapper': async () => (await import('./port-mapper/index.js')).plugin,
  'dcos-l4lb': async () => (await import('./dcos-l4lb/index.js')).plugin,
  'contrail-cni-plugin': async () => (await import('./contrail/index.js')).plugin,
};

export const PLUGIN_TYPES = Object.keys(loaders);

export async function loadPlugin(type: string): Promise<Plugin | undefined> {
  return loaders[type]?.();
}
