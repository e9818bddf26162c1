// `mesos-cni exec --mesos`: the plugin is called exactly as the Mesos agent calls it.
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execPlugin } from '../../../lib/cni/invoke.js';
import { namespaces, rootTest, uniq } from '../../helpers/fixture.js';
import { ourBinDir, REFERENCE_DIR } from '../../helpers/cni.js';

const cli = fileURLToPath(new URL('../../../bin/mesos-cni.js', import.meta.url));

rootTest('--mesos: network_info with labels and port mappings, stout JSON, no CNI_ARGS, 0.2 result, DEL replays the checkpoint', async (t) => {
  const [host, ctr] = await namespaces(t, 2, 'mm');
  const dir = await mkdtemp(join(tmpdir(), 'mcni-mesos-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const conf = join(dir, 'net.conf');
  await writeFile(conf, JSON.stringify({ name: 'mnet', type: 'bridge', bridge: uniq('br'), isGateway: true, ipam: { type: 'host-local', subnet: '10.33.0.0/24', dataDir: join(dir, 'ipam') } }));
  const run = (args: string[]) =>
    execPlugin('/usr/sbin/ip', { PATH: process.env.PATH ?? '' }, '', ['netns', 'exec', host!.name, process.execPath, cli, 'exec', ...args, '--config', conf, '--container-id', 'mesos1', '--cni-path', `${await0}`, '--cache-dir', join(dir, 'cache'), '--mesos']);
  const await0 = `${await ourBinDir()}:${REFERENCE_DIR}`;
  const add = await run(['add', '--netns', ctr!.path, '--mesos-labels', 'app=web,tier=1', '--port-mapping', '8080:80/TCP']);
  t.is(add.exitCode, 0, add.stderr);
  t.deepEqual(JSON.parse(add.stdout), { ip4: { ip: '10.33.0.2/24', gateway: '10.33.0.1' } }, 'Mesos sees only the 0.2 ip4 form');
  const [ckpt] = await readdir(join(dir, 'cache', 'results'));
  const stdin = JSON.parse(await readFile(join(dir, 'cache', 'results', ckpt!), 'utf8')).stdin as string;
  t.true(stdin.startsWith('{"args":{"org.apache.mesos":{"network_info":{"labels":{"labels":[{"key":"app","value":"web"},{"key":"tier","value":"1"}]},"name":"mnet","port_mappings":[{"container_port":80,"host_port":8080,"protocol":"tcp"}]}}},"bridge":'));
  t.false(/\s/.test(stdin), 'compact');
  const del = await run(['del']);
  t.is(del.exitCode, 0, del.stderr);
  t.deepEqual((await readdir(join(dir, 'ipam', 'mnet'))).filter((f) => /^\d/.test(f)), []);
  t.deepEqual(await readdir(join(dir, 'cache', 'results')), []);
});
