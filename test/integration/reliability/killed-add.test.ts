// What an ADD killed half-way leaves, removed by the DEL that follows. Found by the reliability
// suite's kill -9: macvtap is born in the container under a temporary name and then renamed; a
// kill between the two left the temporary link, which DEL (looking for CNI_IFNAME) never found; and
// host-local wrote its cursor to a temporary file renamed over it, which a kill between the two left.
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { namespaces, nsExec, rootTest, uniq } from '../../helpers/fixture.js';
import { tempDir } from '../../helpers/daemon.js';
import { run } from '../../helpers/reliability.js';
import { fakeHost, linkNames, macvtapConf, runIn } from '../../helpers/macvtap.js';
import { temporaryName } from '../../../lib/plugins/macvtap/index.js';

rootTest('macvtap: DEL removes the macvtap an ADD killed before its rename left under its temporary name', async (t) => {
  const f = await fakeHost(t, 1, 'ka');
  const ctr = f.ctrs[0]!;
  const id = uniq('ka');
  const tmp = temporaryName(id, 'eth0');
  // The state of an ADD killed right after the create request: the link in the container, not renamed.
  await nsExec(f.host, ['ip', 'link', 'add', 'link', 'p0', 'name', tmp, 'netns', ctr.name, 'type', 'macvtap', 'mode', 'bridge']);
  t.deepEqual(await linkNames(ctr), ['lo', tmp]);
  const del = await runIn(f.host, 'macvtap', macvtapConf(f.dir), { command: 'DEL', containerId: id, netns: ctr.path });
  t.deepEqual([del.exitCode, del.stdout], [0, ''], del.stderr);
  t.deepEqual(await linkNames(ctr), ['lo']);
  // Another attachment's temporary name is not this one's.
  t.not(temporaryName(id, 'eth1'), tmp);
  t.not(temporaryName(`${id}x`, 'eth0'), tmp);
});

rootTest("host-local: the cursor is written in place (no temporary file a kill could leave), and one a kill cut short reads as none", async (t) => {
  const [host] = await namespaces(t, 1, 'kc');
  const dir = await tempDir(t, 'mcni-kc-');
  const conf = { cniVersion: '1.0.0', name: 'kcnet', ipam: { type: 'host-local', subnet: '10.71.0.0/24', dataDir: dir } };
  await mkdir(join(dir, 'kcnet'));
  await writeFile(join(dir, 'kcnet', 'last_reserved_ip.0'), '10.71.'); // a write cut short
  const add = await run(host!, 'host-local', conf, { command: 'ADD', containerId: uniq('kc'), netns: host!.path });
  t.is(add.exitCode, 0, add.stdout + add.stderr);
  t.deepEqual((await readdir(join(dir, 'kcnet'))).sort(), ['10.71.0.2', 'last_reserved_ip.0', 'lock']);
  t.is(await readFile(join(dir, 'kcnet', 'last_reserved_ip.0'), 'utf8'), '10.71.0.2');
});
