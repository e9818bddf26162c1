// One loader per plugin of this package, each its own export: an executable's entry (bin/*.ts)
// names the plugins it may run in-process, and the bundler (scripts/bundle.ts) then leaves every
// other plugin's code out of that executable, and out of the code cache every start reads and
// deserialises (the bridge's: 0.37 → 0.23 MB of source, 0.77 → 0.47 MB of cache, ~2 ms per start
// here). registry.ts holds them all, for the daemon and the CLI.
import type { Plugin } from '../cni/plugin.js';

/** Plugin loaders by CNI type. */
export type Loaders = Readonly<Record<string, () => Promise<Plugin>>>;

/** The plugin `type` of `loaders`, or undefined: only an own key (`constructor`, `__proto__` are names on every object). */
export async function loadFrom(loaders: Loaders, type: string): Promise<Plugin | undefined> {
  return Object.hasOwn(loaders, type) ? loaders[type]!() : undefined;
}

export const hostLocal = async (): Promise<Plugin> => (await import('./host-local/index.js')).plugin;
export const bridge = async (): Promise<Plugin> => (await import('./bridge/index.js')).plugin;
export const mesos = async (): Promise<Plugin> => (await import('./mesos/index.js')).plugin;
export const macvtap = async (): Promise<Plugin> => (await import('./macvtap/index.js')).plugin;
export const portMapper = async (): Promise<Plugin> => (await import('./port-mapper/index.js')).plugin;
export const dcosL4lb = async (): Promise<Plugin> => (await import('./dcos-l4lb/index.js')).plugin;
export const contrail = async (): Promise<Plugin> => (await import('./contrail/index.js')).plugin;

/**
 * The delegates a meta plugin's executable runs in-process, beside itself: the port mapper's and
 * dcos-l4lb's chains end in the bridge (mesos-bridge, the overlay), mesos's in macvtap or the
 * bridge; each with our IPAM. Any other delegate is exec'd, as any executable is.
 */
export const BRIDGE_CHAIN: Loaders = { bridge, 'host-local': hostLocal };
export const MESOS_DELEGATES: Loaders = { macvtap, bridge, 'host-local': hostLocal };
