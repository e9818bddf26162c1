// The reference host-local's own test cases (plugins/ipam/host-local/host_local_test.go), run
// through our executable for every spec version, as a runtime would run it.
import test from 'ava';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SUPPORTED_VERSIONS, compareVersions } from '../../../lib/cni/version.js';
import { callPlugin, ourPlugin } from '../../helpers/cni.js';

const HL = ourPlugin('host-local');
const legacy = (v: string) => compareVersions(v, '0.3.0') < 0;
const withIpVersion = (v: string) => !legacy(v) && compareVersions(v, '1.0.0') < 0;

async function tmp(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'mcni-hlc-'));
  t.teardown(() => rm(d, { recursive: true, force: true }));
  return d;
}

const run = (command: 'ADD' | 'DEL', conf: object, id = 'dummy', ifname = 'eth0') => callPlugin(HL, conf, { command, containerId: id, ifname, netns: '/some/where' });
const exists = (p: string) => stat(p).then(() => true, () => false);
const conf = (v: string, name: string, ipam: object, extra: object = {}) => ({ cniVersion: v, name, type: 'ipvlan', master: 'foo0', ipam: { type: 'host-local', ...ipam }, ...extra });

for (const v of SUPPORTED_VERSIONS) {
  test(`[${v}] allocates and releases addresses with ADD/DEL (range sets of two ranges and of IPv6, routes, resolvConf)`, async (t) => {
    const dir = await tmp(t);
    await writeFile(join(dir, 'resolv.conf'), 'nameserver 192.0.2.3');
    const c = conf(v, 'mynet', {
      dataDir: dir,
      resolvConf: join(dir, 'resolv.conf'),
      ranges: [[{ subnet: '10.1.2.0/24' }, { subnet: '10.2.2.0/24' }], [{ subnet: '2001:db8:1::0/64' }]],
      routes: [{ dst: '0.0.0.0/0' }, { dst: '::/0' }, { dst: '192.168.0.0/16', gw: '1.1.1.1' }, { dst: '2001:db8:2::0/64', gw: '2001:db8:3::1' }],
    });
    const r = await run('ADD', c);
    t.is(r.exitCode, 0, r.stdout);
    const doc = JSON.parse(r.stdout);
    if (legacy(v)) {
      t.like(doc, { ip4: { ip: '10.1.2.2/24', gateway: '10.1.2.1' }, ip6: { ip: '2001:db8:1::2/64', gateway: '2001:db8:1::1' }, dns: { nameservers: ['192.0.2.3'] } });
    } else {
      t.is(r.stdout.includes('"version":'), withIpVersion(v));
      t.deepEqual(doc.ips.map((i: { address: string; gateway: string }) => [i.address, i.gateway]), [['10.1.2.2/24', '10.1.2.1'], ['2001:db8:1::2/64', '2001:db8:1::1']]);
      t.deepEqual(doc.routes, [{ dst: '0.0.0.0/0' }, { dst: '::/0' }, { dst: '192.168.0.0/16', gw: '1.1.1.1' }, { dst: '2001:db8:2::/64', gw: '2001:db8:3::1' }]);
      t.deepEqual(doc.dns, { nameservers: ['192.0.2.3'] });
    }
    t.is(await readFile(join(dir, 'mynet', '10.1.2.2'), 'utf8'), 'dummy\r\neth0');
    t.is(await readFile(join(dir, 'mynet', '2001:db8:1::2'), 'utf8'), 'dummy\r\neth0');
    t.is(await readFile(join(dir, 'mynet', 'last_reserved_ip.0'), 'utf8'), '10.1.2.2');
    t.is(await readFile(join(dir, 'mynet', 'last_reserved_ip.1'), 'utf8'), '2001:db8:1::2');
    t.is((await run('DEL', c)).exitCode, 0);
    t.false(await exists(join(dir, 'mynet', '10.1.2.2')));
    t.false(await exists(join(dir, 'mynet', '2001:db8:1::2')));
  });

  test(`[${v}] addresses per interface; a repeated ADD of an attachment fails; another container gets the next; DEL of an old-format lease and of an unknown ID`, async (t) => {
    const dir = await tmp(t);
    const c0 = conf(v, 'mynet0', { dataDir: dir, ranges: [[{ subnet: '10.1.2.0/24' }]] });
    const c1 = conf(v, 'mynet1', { dataDir: dir, ranges: [[{ subnet: '10.2.2.0/24' }]] });
    t.is((await run('ADD', c0, 'dummy', 'eth0')).exitCode, 0);
    t.is((await run('ADD', c1, 'dummy', 'eth1')).exitCode, 0);
    t.is(await readFile(join(dir, 'mynet1', '10.2.2.2'), 'utf8'), 'dummy\r\neth1');
    t.is((await run('ADD', c0, 'dummy', 'eth0')).exitCode, 1, 'the same attachment twice');
    const other = JSON.parse((await run('ADD', c0, 'dummy1', 'eth0')).stdout);
    t.is(legacy(v) ? other.ip4.ip : other.ips[0].address, '10.1.2.3/24');
    t.is((await run('DEL', c0, 'dummy', 'eth0')).exitCode, 0);
    t.false(await exists(join(dir, 'mynet0', '10.1.2.2')));
    t.is(await readFile(join(dir, 'mynet1', '10.2.2.2'), 'utf8'), 'dummy\r\neth1', 'the other interface keeps its lease');
    await writeFile(join(dir, 'mynet1', '10.2.2.2'), 'dummy'); // what versions before ifname wrote
    t.is((await run('DEL', c1, 'dummy', 'eth1')).exitCode, 0);
    t.false(await exists(join(dir, 'mynet1', '10.2.2.2')));
    t.is((await run('DEL', conf(v, 'mynet', { dataDir: dir, subnet: '10.1.2.0/24' }), 'unknown')).exitCode, 0);
  });

  test(`[${v}] custom IPs from args.cni.ips: one, from several ranges (0.3.0+), of both protocols, and one left unused fails`, async (t) => {
    const dir = await tmp(t);
    const one = JSON.parse((await run('ADD', conf(v, 'a', { dataDir: dir, ranges: [[{ subnet: '10.1.2.0/24' }]] }, { args: { cni: { ips: ['10.1.2.88'] } } }))).stdout);
    t.is(legacy(v) ? one.ip4.ip : one.ips[0].address, '10.1.2.88/24');
    const two = await run('ADD', conf(v, 'b', { dataDir: dir, ranges: [[{ subnet: '10.1.2.0/24' }], [{ subnet: '10.1.3.0/24' }]] }, { args: { cni: { ips: ['10.1.2.88', '10.1.3.77'] } } }));
    const unused = await run('ADD', conf(v, 'c', { dataDir: dir, ranges: [[{ subnet: '10.1.2.0/24' }], [{ subnet: '10.1.3.0/24' }]] }, { args: { cni: { ips: ['10.1.2.88', '10.1.2.77'] } } }));
    if (legacy(v)) {
      t.like(JSON.parse(two.stdout), { msg: `CNI version ${v} does not support more than 1 address per family` });
      t.like(JSON.parse(unused.stdout), { msg: `CNI version ${v} does not support more than 1 address per family` });
    } else {
      t.deepEqual(JSON.parse(two.stdout).ips.map((i: { address: string }) => i.address), ['10.1.2.88/24', '10.1.3.77/24']);
      t.regex(JSON.parse(unused.stdout).msg, /^failed to allocate all requested IPs: 10\.1\.2\./);
    }
    const both = JSON.parse((await run('ADD', conf(v, 'd', { dataDir: dir, ranges: [[{ subnet: '172.16.1.0/24' }, { subnet: '10.1.2.0/24' }], [{ subnet: '2001:db8:1::/48' }]] }, { args: { cni: { ips: ['10.1.2.88', '2001:db8:1::999'] } } }))).stdout);
    if (legacy(v)) t.like(both, { ip4: { ip: '10.1.2.88/24' }, ip6: { ip: '2001:db8:1::999/48' } });
    else t.deepEqual(both.ips.map((i: { address: string }) => i.address), ['10.1.2.88/24', '2001:db8:1::999/48']);
  });
}

test('a first ADD on a new store writes nothing to stderr (no "Error retrieving last reserved ip")', async (t) => {
  const dir = await tmp(t);
  const r = await run('ADD', conf('1.0.0', 'mynet', { dataDir: dir, subnet: '10.1.2.0/24' }), 'testing');
  t.is(r.exitCode, 0);
  t.is(r.stderr, '');
});
