// Stdin that cannot be read, through the native launcher and the daemon: the same answer as the
// plain executable (code 5; the port mapper: 100). Found by the reliability suite: the launcher
// took the failed read for an empty config, and the daemon answered code 6 / 101 instead.
import { join } from 'node:path';
import { execPlugin } from '../../../lib/cni/invoke.js';
import { namespaces, rootTest } from '../../helpers/fixture.js';
import { ourBinDir, REFERENCE_DIR } from '../../helpers/cni.js';
import { launcherDir, startDaemon } from '../../helpers/daemon.js';
import { oneDocument } from '../../helpers/reliability.js';

rootTest('stdin that cannot be read: the launcher answers as the plain executable does', async (t) => {
  const [host, ctr] = await namespaces(t, 2, 'ls');
  const d = await startDaemon(t, host!.name);
  const bins = { plain: await ourBinDir(), launcher: await launcherDir(t, d.socket) };
  for (const [type, code] of [
    ['bridge', 5],
    ['mesos-cni-port-mapper', 100],
  ] as const) {
    const answers: string[] = [];
    for (const [way, bin] of Object.entries(bins)) {
      const env = { PATH: process.env.PATH!, CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', CNI_NETNS: ctr!.path, CNI_IFNAME: 'eth0', CNI_PATH: `${bin}:${REFERENCE_DIR}` };
      // A directory as stdin: every read of it fails with EISDIR.
      const r = await execPlugin('/bin/sh', env, '', ['-c', `exec ip netns exec ${host!.name} ${join(bin, type)} < /`]);
      t.like(oneDocument(t, r, `${type} (${way})`), { code, msg: 'failed to read the network configuration from stdin' }, `${way}: ${r.stdout}`);
      answers.push(r.stdout);
    }
    t.is(answers[0], answers[1], type);
  }
  t.is(d.child.exitCode, null);
});
