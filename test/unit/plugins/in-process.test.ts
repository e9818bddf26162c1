// Which plugins run in-process: only those the loaders name as their own keys; a type that is a
// name on every object (`constructor`, `toString`, `__proto__`) is none of ours.
import test from 'ava';
import { inProcessOf } from '../../../lib/plugins/in-process.js';
import { loadPlugin } from '../../../lib/plugins/registry.js';
import type { Plugin } from '../../../lib/cni/plugin.js';

test('inProcessOf runs the plugins its loaders name, and nothing for names every object has', async (t) => {
  const plugin = { type: 'fake', add: async () => ({}), del: async () => undefined } as unknown as Plugin;
  const inProcess = inProcessOf({ fake: async () => plugin });
  t.is(typeof (await inProcess('fake')), 'function');
  for (const type of ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'bridge']) t.is(await inProcess(type), undefined, type);
});

test('the registry loads no plugin for names every object has', async (t) => {
  for (const type of ['constructor', 'toString', '__proto__']) t.is(await loadPlugin(type), undefined, type);
  t.is((await loadPlugin('host-local'))?.type, 'host-local');
});
