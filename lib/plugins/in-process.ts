// How the plugins of this package run each other without an exec: the delegator finds a delegate's
// executable, sees (by its marker) that it is one of ours, and calls this for a runner that is the
// same entry point the executable runs. Given to the skel by its callers (the executables, the
// daemon, `mesos-cni exec`), so lib/cni never needs to know the plugins.
import type { InProcess, InProcessRunner } from '../cni/invoke.js';
import { handle } from '../cni/skel.js';
import { loadFrom, type Loaders } from './loaders.js';

/** Runs the plugins `loaders` has in-process (and their delegates, from the same set); others are exec'd. */
export function inProcessOf(loaders: Loaders): InProcess {
  const inProcess: InProcess = async (type: string): Promise<InProcessRunner | undefined> => {
    const plugin = await loadFrom(loaders, type);
    return plugin && ((env, stdin, o) => handle(plugin, env, stdin, { ...o, inProcess }));
  };
  return inProcess;
}
