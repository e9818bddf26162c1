// Hostile hosts for every plugin, both paths (hostile.ts): bad CNI_NETNS, locks held elsewhere,
// dataDirs that cannot be made, stdout /dev/full, unreadable stdin.
import { rootTest } from '../helpers/fixture.js';
import { hostile } from './hostile.js';
import { PLUGINS } from './world.js';

for (const plugin of PLUGINS) {
  rootTest(`hostile hosts: ${plugin}, both paths`, async (t) => {
    t.timeout(3_600_000);
    await hostile(t, plugin);
  });
}
