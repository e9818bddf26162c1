// The fuzzer (fuzz.ts) on `macvtap`: N inputs, standalone and through the daemon.
import { rootTest } from '../helpers/fixture.js';
import { fuzzPlugin } from './fuzz.js';

rootTest('fuzz: macvtap, both paths', async (t) => {
  t.timeout(3_600_000);
  await fuzzPlugin(t, 'macvtap');
});
