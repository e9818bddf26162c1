// DEL removes only what the plugin made: a container link of the DEL's CNI_IFNAME that is no veth
// (`lo`, a dummy someone else made) stays, and the DEL succeeds. Found by the reliability fuzzer:
// the bridge's DEL with CNI_IFNAME=lo tried to delete lo, failed with EOPNOTSUPP, and so did every
// retry, for an ADD that had been refused.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { namespaces, nsExec, rootTest, uniq } from '../../helpers/fixture.js';
import { links, oneDocument, run } from '../../helpers/reliability.js';

rootTest("bridge: a DEL whose CNI_IFNAME names a link that is not its veth (lo, another plugin's dummy) leaves it and succeeds", async (t) => {
  const [host, ctr] = await namespaces(t, 2, 'dn');
  const dir = await mkdtemp(join(tmpdir(), 'mcni-dn-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await nsExec(ctr!, ['ip', 'link', 'add', 'other0', 'type', 'dummy']).catch(() => nsExec(ctr!, ['ip', 'link', 'add', 'other0', 'type', 'bridge']));
  const conf = { cniVersion: '1.0.0', name: 'dnnet', type: 'bridge', bridge: uniq('dnb'), ipam: { type: 'host-local', subnet: '10.72.0.0/24', dataDir: dir } };
  for (const ifname of ['lo', 'other0']) {
    const id = uniq('dn');
    const add = await run(host!, 'bridge', conf, { command: 'ADD', containerId: id, netns: ctr!.path, ifname });
    t.is(add.exitCode, 1, `${ifname}: ADD refused: ${add.stdout}`);
    oneDocument(t, add, `${ifname} ADD`);
    const del = await run(host!, 'bridge', conf, { command: 'DEL', containerId: id, netns: ctr!.path, ifname });
    t.deepEqual([del.exitCode, del.stdout], [0, ''], `${ifname}: DEL ${del.stdout}`);
  }
  t.deepEqual(await links(ctr!), ['other0']);
});
