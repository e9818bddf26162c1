// This package's plugins by CNI type, loaded lazily: the executables' entry and the resolver
// that lets lib/cni/invoke call one of ours in-process instead of exec'ing it.
import type { Plugin } from '../cni/plugin.js';

const loaders: Record<string, () => Promise<Plugin>> = {
  'host-local': async () => (await import('./host-local/index.js')).plugin,
  bridge: async () => (await import('./bridge/index.js')).plugin,
  mesos: async () => (await import('./mesos/index.js')).plugin,
  macvtap: async () => (await import('./macvtap/index.js')).plugin,
  'mesos-cni-port-mapper': async () => (await import('./port-mapper/index.js')).plugin,
  'dcos-l4lb': async () => (await import('./dcos-l4lb/index.js')).plugin,
};

export const PLUGIN_TYPES = Object.keys(loaders);

export async function loadPlugin(type: string): Promise<Plugin | undefined> {
  return loaders[type]?.();
}
