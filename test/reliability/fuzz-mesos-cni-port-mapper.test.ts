// The fuzzer (fuzz.ts) on `mesos-cni-port-mapper`: N inputs, standalone and through the daemon.
import { rootTest } from '../helpers/fixture.js';
import { fuzzPlugin } from './fuzz.js';

rootTest('fuzz: mesos-cni-port-mapper, both paths', async (t) => {
  t.timeout(3_600_000);
  await fuzzPlugin(t, 'mesos-cni-port-mapper');
});
