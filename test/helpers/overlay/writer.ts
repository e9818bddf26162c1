// A child that commits to an EmbeddedStore in a loop (state k holds agents 1..k, each record a
// function of k) and prints "committed k" after each write returns: the test kills it with
// SIGKILL at a random moment and checks the file holds a whole state, never a torn one.
import { EmbeddedStore } from '../../../lib/overlay/master/store/embedded.js';
import type { StoredAgent } from '../../../lib/overlay/master/types.js';

export function record(i: number, k: number): StoredAgent {
  return {
    ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
    backend: { vxlan: { vni: 1024, vtep_name: 'vtep1024', vtep_ip: `44.128.0.1/16`, vtep_mac: `written at ${k}` } },
    // Padding makes each write large enough to be interrupted mid-way.
    overlays: [{ info: { name: 'pad', enabled: true }, subnet: 'x'.repeat(400), backend: { vxlan: { vni: k, vtep_name: '', vtep_ip: '', vtep_mac: '' } } }],
  };
}

if (process.argv[1]?.endsWith('writer.js')) {
  const store = new EmbeddedStore(process.argv[2]!);
  await store.start({ lead: () => {}, follow: () => {}, lost: () => {}, refuse: () => {} });
  for (let k = store.version + 1; ; k++) {
    // Every record is rewritten each time: a mix of two versions would show.
    const changes = Array.from({ length: Math.min(k, 300) }, (_, j) => ({ ip: record(j + 1, k).ip, after: record(j + 1, k) }));
    await store.commit(changes);
    process.stdout.write(`committed ${k}\n`);
  }
}
