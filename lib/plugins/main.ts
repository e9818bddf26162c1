// Entry for a plugin executable: run the plugin of `type`, with in-process delegation to the other
// plugins of `loaders` (the entry's own set, loaders.ts).
import { runPlugin } from '../cni/skel.js';
import { inProcessOf } from './in-process.js';
import { loadFrom, type Loaders } from './loaders.js';

export async function main(type: string, loaders: Loaders): Promise<void> {
  const plugin = await loadFrom(loaders, type);
  if (!plugin) throw new Error(`mesos-cni: no plugin ${type}`);
  await runPlugin(plugin, { inProcess: inProcessOf(loaders) });
}
