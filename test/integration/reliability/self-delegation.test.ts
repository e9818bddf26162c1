// A config that delegates to itself (a bridge whose IPAM is `bridge`, a port mapper whose delegate
// is the port mapper): refused at a bounded depth, DEL succeeds, and through the daemon the daemon
// lives on. Found by the reliability suite: the in-process recursion grew until the daemon's heap
// ran out and it aborted (SIGABRT), failing every request in flight.
import { join } from 'node:path';
import { execPlugin } from '../../../lib/cni/invoke.js';
import { namespaces, rootTest, uniq, type TestNs } from '../../helpers/fixture.js';
import { ourBinDir, REFERENCE_DIR } from '../../helpers/cni.js';
import { launcherDir, startDaemon, tempDir } from '../../helpers/daemon.js';
import { links, oneDocument } from '../../helpers/reliability.js';

/** One call, killed after 30 s if it has not answered (exit 137). */
function call(host: TestNs, ctr: TestNs, bin: string, type: string, command: string, conf: object) {
  const env = { PATH: process.env.PATH!, CNI_COMMAND: command, CNI_CONTAINERID: 'selfdel', CNI_NETNS: ctr.path, CNI_IFNAME: 'eth0', CNI_PATH: `${bin}:${REFERENCE_DIR}` };
  return execPlugin('/usr/bin/timeout', env, JSON.stringify(conf), ['-s', 'KILL', '30', 'ip', 'netns', 'exec', host.name, join(bin, type)]);
}

for (const path of ['standalone', 'daemon'] as const) {
  rootTest(`${path}: a config that delegates to itself is refused at a bounded depth, DEL succeeds`, async (t) => {
    const [host, ctr] = await namespaces(t, 2, 'sd');
    const dir = await tempDir(t, 'mcni-sd-');
    const d = path === 'daemon' ? await startDaemon(t, host!.name) : undefined;
    const bin = d ? await launcherDir(t, d.socket) : await ourBinDir();
    const bridge = { cniVersion: '1.0.0', name: 'sdnet', type: 'bridge', bridge: uniq('sdb'), ipam: { type: 'bridge', subnet: '10.76.0.0/24', dataDir: dir } };
    const pm = { name: 'sdnet', type: 'mesos-cni-port-mapper', chain: uniq('SD-'), delegate: { type: 'mesos-cni-port-mapper', chain: uniq('SE-'), delegate: { type: 'mesos-cni-port-mapper' } } };
    for (const [type, conf] of [
      ['bridge', bridge],
      ['mesos-cni-port-mapper', pm],
    ] as const) {
      const add = await call(host!, ctr!, bin, type, 'ADD', conf);
      t.not(add.exitCode, 137, `${type}: no answer in 30 s`);
      t.is(add.exitCode, 1, add.stdout);
      oneDocument(t, add, `${type} ADD`);
      const del = await call(host!, ctr!, bin, type, 'DEL', conf);
      t.deepEqual([del.exitCode, del.stdout], [0, ''], `${type} DEL: ${del.stdout}`);
    }
    t.deepEqual(await links(ctr!), []);
    if (d) t.is(d.child.exitCode, null, 'the daemon lives');
  });
}
