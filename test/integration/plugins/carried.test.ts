// An executable runs in-process only the plugins it carries (lib/plugins/loaders.ts, bin/*.ts); a
// delegate of ours outside that set is exec'd like any executable and works the same: mesos,
// which carries macvtap, the bridge and host-local, execs the port mapper, whose process then
// runs our bridge and host-local in-process.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { namespaces, nsExec, rootTest, uniq } from '../../helpers/fixture.js';
import { callPlugin, ourBinDir } from '../../helpers/cni.js';

rootTest('mesos execs the port mapper it does not carry: the chain attaches the container, DEL removes it', async (t) => {
  const [host, ctr] = await namespaces(t, 2, 'car');
  const dir = await mkdtemp(join(tmpdir(), 'mcni-carried-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const bridge = uniq('carb');
  const conf = {
    cniVersion: '1.0.0',
    name: 'carnet',
    type: 'mesos',
    delegate: { type: 'mesos-cni-port-mapper', chain: uniq('CARPM'), delegate: { type: 'bridge', bridge, isGateway: true, ipMasq: true, ipam: { type: 'host-local', subnet: '10.79.0.0/24', dataDir: dir } } },
  };
  const bin = await ourBinDir();
  const call = (command: 'ADD' | 'DEL') => callPlugin(join(bin, 'mesos'), conf, { command, containerId: 'car1', netns: ctr!.path, hostNs: host!.name, path: bin });
  const add = await call('ADD');
  t.is(add.exitCode, 0, add.stdout + add.stderr);
  t.regex(add.stdout, /10\.79\.0\.\d+\/24/);
  t.regex(await nsExec(ctr!, ['ip', '-4', 'addr', 'show', 'eth0']), /inet 10\.79\.0\.\d+\/24/);
  const del = await call('DEL');
  t.is(del.exitCode, 0, del.stdout + del.stderr);
  t.notRegex(await nsExec(ctr!, ['ip', '-o', 'link']), /eth0/);
  t.notRegex(await nsExec(host!, ['iptables-save', '-t', 'nat']), /car1/);
});
