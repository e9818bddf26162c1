// Entry for a plugin executable: run the plugin with in-process delegation to our other plugins.
import { runPlugin } from '../cni/skel.js';
import { inProcess } from './in-process.js';
import { loadPlugin } from './registry.js';

export async function main(type: string): Promise<void> {
  const plugin = await loadPlugin(type);
  if (!plugin) throw new Error(`mesos-cni: no plugin ${type}`);
  await runPlugin(plugin, { inProcess });
}
