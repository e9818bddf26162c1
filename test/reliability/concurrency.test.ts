// N-way concurrency for every plugin, both paths (concurrency.ts): the port mapper's storm of first
// ADDs on a fresh chain, ADDs and DELs racing, then everything deleted and the leak check.
import { rootTest } from '../helpers/fixture.js';
import { concurrency } from './concurrency.js';
import { PLUGINS } from './world.js';

for (const plugin of PLUGINS) {
  rootTest.serial(`concurrency: ${plugin}, both paths`, async (t) => {
    t.timeout(3_600_000);
    await concurrency(t, plugin);
  });
}
