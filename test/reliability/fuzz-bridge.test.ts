// The fuzzer (fuzz.ts) on `bridge`: N inputs, standalone and through the daemon.
import { rootTest } from '../helpers/fixture.js';
import { fuzzPlugin } from './fuzz.js';

rootTest('fuzz: bridge, both paths', async (t) => {
  t.timeout(3_600_000);
  await fuzzPlugin(t, 'bridge');
});
