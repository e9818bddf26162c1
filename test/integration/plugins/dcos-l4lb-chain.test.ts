// dcos-l4lb with other delegates: the nested chain DC/OS deploys (spartan.cni: dcos-l4lb →
// mesos-cni-port-mapper → bridge, cniVersion 0.2.0, no default route) run exactly as the Mesos
// agent runs it, with a port mapping reached from the host; and the reference Go bridge and
// host-local as the delegate and the spartan IPAM (exec'd, not in-process).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execPlugin } from '../../../lib/cni/invoke.js';
import { nsExec, rootTest } from '../../helpers/fixture.js';
import { hasReference, ourBinDir, REFERENCE_DIR } from '../../helpers/cni.js';
import { fetchTcp, serveTcp } from '../../helpers/traffic.js';
import { checkpoint, conf, leases, linkNames, nothingLeft, run, setup, type L4 } from './dcos-l4lb-fixture.js';

const cli = fileURLToPath(new URL('../../../bin/mesos-cni.js', import.meta.url));
const GW = '192.168.250.1';

/** `/opt/mesosphere/etc/dcos/network/cni/spartan.cni` from DC/OS' test_dcos_cni_l4lb, in our temp dirs. */
function spartanCni(s: L4) {
  return {
    cniVersion: '0.2.0',
    name: 'spartan-net',
    type: 'dcos-l4lb',
    spartan: { enable: true, dataDir: s.spartanDir },
    minuteman: { enable: true, path: s.mmPath },
    delegate: {
      type: 'mesos-cni-port-mapper',
      excludeDevices: [s.bridge],
      chain: 'spartan-net',
      delegate: {
        type: 'bridge',
        bridge: s.bridge,
        ipMasq: true,
        isGateway: true,
        ipam: {
          type: 'host-local',
          subnet: '192.168.250.0/24',
          dataDir: s.ipamDir,
          routes: [{ dst: '9.0.0.0/8' }, { dst: '10.0.0.0/8' }, { dst: '172.16.0.0/12' }, { dst: '192.168.0.0/16' }],
        },
      },
    },
  };
}

/** `mesos-cni exec <command> --mesos` inside the fake host: network_info in args, stout JSON, no CNI_ARGS. */
async function mesos(s: L4, args: string[]) {
  const file = join(s.dir, 'spartan.cni');
  await writeFile(file, JSON.stringify(spartanCni(s)));
  return execPlugin('/usr/sbin/ip', { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' }, '', [
    'netns', 'exec', s.host.name, process.execPath, cli, 'exec', ...args,
    '--config', file, '--cni-path', `${await ourBinDir()}:${REFERENCE_DIR}`, '--cache-dir', join(s.dir, 'cache'), '--mesos',
  ]);
}

rootTest('DC/OS spartan.cni: dcos-l4lb → mesos-cni-port-mapper → bridge as Mesos runs it: 0.2 ip4 result, host port reaches the container, spartan DNS without a default route, DEL removes all', async (t) => {
  const s = await setup(t);
  const id = 'c0ffee-l4lb';
  const add = await mesos(s, ['add', '--container-id', id, '--netns', s.ctr.path, '--port-mapping', '18080:80/tcp']);
  t.is(add.exitCode, 0, add.stdout + add.stderr);
  // The bridge answered 0.1-style to the port mapper, which re-emitted ip4; we answer it as 0.2.0.
  const result = JSON.parse(add.stdout) as { ip4: { ip: string; gateway: string } };
  t.is(result.ip4.ip, '192.168.250.2/24');
  t.is(result.ip4.gateway, GW);

  t.deepEqual(await linkNames(s.ctr), ['eth0', 'lo', 'minuteman', 'spartan']);
  t.is(await checkpoint(s, id), s.ctr.path);
  const routes = (await nsExec(s.ctr, ['ip', 'route', 'show'])).trim().split('\n');
  t.false(routes.some((r) => r.startsWith('default')), 'deliberately no default route');
  t.is(routes.filter((r) => r.includes('dev spartan scope link src 198.51.100.10')).length, 4);

  await serveTcp(t, s.ctr, 80, 'behind the port mapper');
  t.is(await fetchTcp(s.host, GW, 18080), 'behind the port mapper', 'host → bridge:18080 DNAT into the container');
  await serveTcp(t, s.host, 53, 'spartan', '198.51.100.1');
  t.is(await fetchTcp(s.ctr, '198.51.100.1', 53), 'spartan', 'container → 198.51.100.1:53 over spartan');
  t.regex(await nsExec(s.host, ['iptables-save', '-t', 'nat']), new RegExp(`-A spartan-net .*--dport 18080 .*container_id: ${id}.* --to-destination 192\\.168\\.250\\.2:80`));

  const del = await mesos(s, ['del', '--container-id', id, '--netns', s.ctr.path]);
  t.is(del.exitCode, 0, del.stdout + del.stderr);
  t.is(await fetchTcp(s.host, GW, 18080), '', 'unmapped after DEL');
  t.notRegex(await nsExec(s.host, ['iptables-save', '-t', 'nat']), new RegExp(id));
  t.deepEqual(await linkNames(s.ctr), ['lo']);
  t.is(await checkpoint(s, id), undefined);
  t.deepEqual(await leases(s.spartanDir, 'spartan-network'), []);
  t.deepEqual(await leases(s.ipamDir, 'spartan-net'), []);
});

(hasReference('bridge') && hasReference('host-local') ? rootTest : rootTest.skip)(
  'reference Go bridge as the delegate and Go host-local for the spartan lease (exec\'d): same attachment, DNS reachable, nothing left after DEL',
  async (t) => {
    const s = await setup(t);
    const c = conf(s, {}, '0.4.0');
    const path = `${REFERENCE_DIR}:${await ourBinDir()}`;
    const add = await run(s, c, { command: 'ADD', netns: s.ctr.path, path });
    t.is(add.exitCode, 0, add.stdout + add.stderr);
    t.is(JSON.parse(add.stdout).ips[0].address, '10.1.2.2/24');
    t.deepEqual(await leases(s.spartanDir, 'spartan-network'), ['198.51.100.10'], 'the Go host-local leased from the spartan range');
    t.deepEqual(await linkNames(s.ctr), ['eth0', 'lo', 'minuteman', 'spartan']);
    await serveTcp(t, s.host, 53, 'spartan', '198.51.100.1');
    t.is(await fetchTcp(s.ctr, '198.51.100.1', 53), 'spartan');
    const check = await run(s, { ...c, prevResult: JSON.parse(add.stdout) }, { command: 'CHECK', netns: s.ctr.path, path });
    t.is(check.exitCode, 0, `CHECK through the Go bridge: ${check.stdout}`);
    for (let i = 0; i < 2; i++) t.is((await run(s, c, { command: 'DEL', netns: s.ctr.path, path })).exitCode, 0);
    await nothingLeft(t, s, { what: 'reference delegates' });
  },
);
