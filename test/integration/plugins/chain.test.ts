// A real chain across implementations: our bridge followed by the reference portmap, from one
// conflist, run by `mesos-cni exec` as a runtime would, under every version both support.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execPlugin } from '../../../lib/cni/invoke.js';
import { namespaces, nsExec, rootTest, uniq } from '../../helpers/fixture.js';
import { callPlugin, hasReference, ourBinDir, REFERENCE_DIR } from '../../helpers/cni.js';
import { fetchTcp, serveTcp } from '../../helpers/traffic.js';
import { compareVersions, SUPPORTED_VERSIONS } from '../../../lib/cni/version.js';

const cli = fileURLToPath(new URL('../../../bin/mesos-cni.js', import.meta.url));
const chainTest = hasReference('portmap') ? rootTest : rootTest.skip;

async function exec(host: string, args: string[]) {
  return execPlugin('/usr/sbin/ip', { PATH: process.env.PATH ?? '/usr/bin:/bin' }, '', ['netns', 'exec', host, process.execPath, cli, 'exec', ...args]);
}

chainTest('bridge (ours) → portmap (reference): host port reaches the container, DEL removes everything', async (t) => {
  const refVersions: string[] = JSON.parse((await callPlugin(`${REFERENCE_DIR}/portmap`, {}, { command: 'VERSION' })).stdout).supportedVersions;
  const versions = SUPPORTED_VERSIONS.filter((v) => compareVersions(v, '0.3.0') >= 0 && refVersions.includes(v));
  t.true(versions.length >= 4, `versions both speak: ${versions.join(' ')}`);
  for (const version of versions) {
    const [host, ctr] = await namespaces(t, 2, 'mc');
    const dir = await mkdtemp(join(tmpdir(), 'mcni-chain-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    const conf = join(dir, 'net.conflist');
    await writeFile(
      conf,
      JSON.stringify({
        cniVersion: version,
        name: 'chain',
        plugins: [
          { type: 'bridge', bridge: uniq('br'), isGateway: true, ipMasq: true, ipam: { type: 'host-local', subnet: '10.55.0.0/24', dataDir: join(dir, 'ipam') } },
          { type: 'portmap', capabilities: { portMappings: true } },
        ],
      }),
    );
    const common = ['--config', conf, '--container-id', 'chain1', '--cni-path', `${await ourBinDir()}:${REFERENCE_DIR}`, '--cache-dir', join(dir, 'cache')];
    const add = await exec(host!.name, ['add', ...common, '--netns', ctr!.path, '--port-mapping', '18080:80/tcp']);
    t.is(add.exitCode, 0, `${version}: ${add.stdout} ${add.stderr}`);
    const result = JSON.parse(add.stdout);
    t.is(result.cniVersion, version);
    await serveTcp(t, ctr!, 80, `hello ${version}`);
    t.is(await fetchTcp(host!, '10.55.0.1', 18080), `hello ${version}`, `${version}: DNAT via portmap`);
    const del = await exec(host!.name, ['del', ...common, '--netns', ctr!.path]);
    t.is(del.exitCode, 0, `${version}: ${del.stderr}`);
    const nat = await nsExec(host!, ['iptables-save', '-t', 'nat']);
    t.notRegex(nat, /chain1|CNI-DN|mesos-cni bridge/, version);
  }
});
