// What an ADD killed half-way leaves, removed by the DEL that follows. Found by the reliability
// suite's kill -9: macvtap is born in the container under a temporary name and then renamed; a
// kill between the two left the temporary link, which DEL (looking for CNI_IFNAME) never found.
import { nsExec, rootTest, uniq } from '../../helpers/fixture.js';
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
