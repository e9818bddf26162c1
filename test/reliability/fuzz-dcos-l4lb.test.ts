// The fuzzer (fuzz.ts) on `dcos-l4lb`: N inputs, standalone and through the daemon.
import { rootTest } from '../helpers/fixture.js';
import { fuzzPlugin } from './fuzz.js';

rootTest('fuzz: dcos-l4lb, both paths', async (t) => {
  t.timeout(3_600_000);
  await fuzzPlugin(t, 'dcos-l4lb');
});
