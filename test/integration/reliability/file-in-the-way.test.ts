// A directory named by config that can never be made (a regular file in the way, a component
// longer than NAME_MAX): ADD is refused and DEL succeeds, for every plugin that keeps files of its own (macvtap's host-route records,
// dcos-l4lb's checkpoints, host-local's leases); found by the reliability suite for the first two,
// whose DEL failed with ENOTDIR / ENAMETOOLONG, so a runtime would have retried it forever.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { namespaces, rootTest, uniq } from '../../helpers/fixture.js';
import { tempDir } from '../../helpers/daemon.js';
import { fakeHost, macvtapConf, runIn } from '../../helpers/macvtap.js';
import { oneDocument, run } from '../../helpers/reliability.js';

for (const [what, under] of [
  ['under a regular file', 'file'],
  ['with a name longer than a file name may be', 'd'.repeat(300)],
] as const) {
  rootTest(`macvtap and dcos-l4lb: a dataDir ${what} refuses ADD, and DEL succeeds`, async (t) => {
    const dir = await tempDir(t, 'mcni-fw-');
    await writeFile(join(dir, 'file'), '');
    const blocked = join(dir, under, 'x');

    const f = await fakeHost(t, 1, 'fw');
    const mv = { ...macvtapConf(f.dir, { hostrouteif: 'mvhost' }), dataDir: blocked };
    const id = uniq('fw');
    const madd = await runIn(f.host, 'macvtap', mv, { command: 'ADD', containerId: id, netns: f.ctrs[0]!.path });
    t.is(madd.exitCode, 1, madd.stdout);
    oneDocument(t, madd, 'macvtap ADD');
    for (const netns of [f.ctrs[0]!.path, undefined]) {
      const mdel = await runIn(f.host, 'macvtap', mv, { command: 'DEL', containerId: id, netns });
      t.deepEqual([mdel.exitCode, mdel.stdout], [0, ''], `macvtap DEL: ${mdel.stdout}`);
    }

    const [host, ctr] = await namespaces(t, 2, 'fx');
    const l4 = {
      cniVersion: '0.3.1',
      name: 'fwl4',
      type: 'dcos-l4lb',
      spartan: { dataDir: blocked },
      minuteman: { path: blocked },
      delegate: { type: 'bridge', bridge: uniq('fwb'), ipam: { type: 'host-local', subnet: '10.77.0.0/24', dataDir: blocked } },
    };
    const ladd = await run(host!, 'dcos-l4lb', l4, { command: 'ADD', containerId: id, netns: ctr!.path });
    t.is(ladd.exitCode, 1, ladd.stdout);
    oneDocument(t, ladd, 'dcos-l4lb ADD');
    for (const netns of [ctr!.path, undefined]) {
      const ldel = await run(host!, 'dcos-l4lb', l4, { command: 'DEL', containerId: id, netns });
      t.deepEqual([ldel.exitCode, ldel.stdout], [0, ''], `dcos-l4lb DEL: ${ldel.stdout}`);
    }
  });
}
