// The fuzzer (fuzz.ts) on `mesos`: N inputs, standalone and through the daemon.
import { rootTest } from '../helpers/fixture.js';
import { fuzzPlugin } from './fuzz.js';

rootTest('fuzz: mesos, both paths', async (t) => {
  t.timeout(3_600_000);
  await fuzzPlugin(t, 'mesos');
});
