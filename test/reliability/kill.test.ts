// kill -9 mid-ADD for every plugin, standalone and through the daemon (kill.ts), then DEL and the leak check.
import { rootTest } from '../helpers/fixture.js';
import { killPlugin } from './kill.js';
import { PLUGINS } from './world.js';

for (const plugin of PLUGINS) {
  rootTest.serial(`kill -9 mid-ADD: ${plugin}, both paths`, async (t) => {
    t.timeout(3_600_000);
    await killPlugin(t, plugin);
  });
}
