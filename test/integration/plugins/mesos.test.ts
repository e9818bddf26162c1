// The mesos label delegate end to end: called exactly as the Mesos agent calls it (network_info
// labels in args, stout JSON, no CNI_ARGS, the checkpoint replayed on DEL) in a fake host, with
// macvtap and host-local as delegates; and with a recording delegate to see what it was given.
import { chmod, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ExecutionContext } from 'ava';
import { execPlugin } from '../../../lib/cni/invoke.js';
import { networkInfo } from '../../../lib/cni/mesos.js';
import { ipJson, rootTest, type TestNs } from '../../helpers/fixture.js';
import { ourBinDir } from '../../helpers/cni.js';
import { AGENT_IP, fakeHost, hostRoutesVia, leases, linkNames, macvtapConf, nothingLeft, ping, records, runIn, type FakeHost } from '../../helpers/macvtap.js';

const cli = fileURLToPath(new URL('../../../bin/mesos-cni.js', import.meta.url));

/** The README's mesos config around our macvtap delegate (master/hostrouteif in the fake host). */
function mesosConf(dir: string, extra: Record<string, unknown> = {}, delegateExtra: Record<string, unknown> = {}, ipamExtra: Record<string, unknown> = {}) {
  const { name: _n, ...delegate } = macvtapConf(dir, { hostrouteif: 'mvhost', ...delegateExtra }, ipamExtra);
  return {
    name: 'mvnet',
    type: 'mesos',
    MyAwesomeFlag: false,
    AnotherAwesomeArg: 'qwerqwer',
    delegate: { ...delegate, args: { test: { rs: ['192.168.10.10'] }, cni: { test: ['192.168.122.172'] } } },
    ...extra,
  };
}

/** The config with Mesos' args for these labels. */
const withLabels = (conf: Record<string, unknown>, labels: Record<string, string>) => ({ ...conf, args: { 'org.apache.mesos': { network_info: networkInfo('mvnet', labels) } } });

async function tmp(t: ExecutionContext, prefix: string): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), prefix));
  t.teardown(() => rm(d, { recursive: true, force: true }));
  return d;
}

const mesos = (f: FakeHost, ctr: TestNs | undefined, conf: object, command: 'ADD' | 'DEL' | 'CHECK', containerId: string, path?: string) =>
  runIn(f.host, 'mesos', conf, { command, containerId, ...(ctr ? { netns: ctr.path } : {}) }, path);

function failed(t: ExecutionContext, r: { exitCode: number; stdout: string }): { code: number; msg: string; details?: string } {
  t.is(r.exitCode, 1, r.stdout);
  return JSON.parse(r.stdout);
}

rootTest('README: label CNI_ARGS=IP=192.168.122.176 gives the container exactly that address, via mesos → macvtap → host-local, run as Mesos runs it', async (t) => {
  const f = await fakeHost(t, 1, 'ms');
  const ctr = f.ctrs[0]!;
  const conf = join(f.dir, 'net.conf');
  await writeFile(conf, JSON.stringify(mesosConf(f.dir)));
  const bin = await ourBinDir();
  const run = (args: string[]) =>
    execPlugin('/usr/sbin/ip', { PATH: process.env.PATH ?? '' }, '', [
      'netns', 'exec', f.host.name, process.execPath, cli, 'exec', ...args,
      '--config', conf, '--container-id', 'readme1', '--cni-path', bin, '--cache-dir', join(f.dir, 'cache'), '--mesos',
    ]);
  const add = await run(['add', '--netns', ctr.path, '--mesos-labels', 'CNI_ARGS=IP=192.168.122.176']);
  t.is(add.exitCode, 0, add.stdout + add.stderr);
  t.deepEqual(JSON.parse(add.stdout), { ip4: { ip: '192.168.122.176/24', gateway: '192.168.122.1', routes: [{ dst: `${AGENT_IP}/32`, gw: '0.0.0.0' }] } }, 'the 0.2 form Mesos reads');
  const addrs = (await ipJson<{ addr_info: { family: string; local: string; prefixlen: number }[] }[]>(ctr, ['addr', 'show', 'dev', 'eth0']))[0]!;
  t.deepEqual(addrs.addr_info.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`), ['192.168.122.176/24']);
  t.deepEqual(await leases(f.dir), ['192.168.122.176']);
  t.regex(await ping(f.host, '192.168.122.176', 2), / 0% packet loss/, 'the agent reaches the task through hostrouteif');
  t.regex(await ping(ctr, AGENT_IP), / 0% packet loss/, 'the task reaches the agent');
  const del = await run(['del', '--netns', ctr.path]); // Mesos replays the checkpointed config, labels included
  t.is(del.exitCode, 0, del.stdout + del.stderr);
  await nothingLeft(t, f, ctr);
});

/** A delegate that records its stdin and CNI env per command, and answers ADD with a fixed result. */
async function recorder(t: ExecutionContext): Promise<{ dir: string; seen: (cmd: string) => Promise<{ conf: Record<string, unknown>; env: string[] } | undefined> }> {
  const dir = await tmp(t, 'mcni-rec-');
  const script = `#!/bin/sh
cat > "${dir}/$CNI_COMMAND.json"
env | grep '^CNI_' | sort > "${dir}/$CNI_COMMAND.env"
if [ "$CNI_COMMAND" = ADD ]; then echo '{"cniVersion":"0.4.0","ips":[{"version":"4","address":"10.0.0.2/24","gateway":"10.0.0.1"}]}'; fi
`;
  await writeFile(join(dir, 'recorder'), script);
  await chmod(join(dir, 'recorder'), 0o755);
  return {
    dir,
    async seen(cmd) {
      if (!existsSync(join(dir, `${cmd}.json`))) return undefined;
      return {
        conf: JSON.parse(await readFile(join(dir, `${cmd}.json`), 'utf8')),
        env: (await readFile(join(dir, `${cmd}.env`), 'utf8')).trim().split('\n'),
      };
    },
  };
}

rootTest('the delegate gets the rewritten config on ADD, the same on DEL, and CHECK with prevResult; its result is converted to the config version', async (t) => {
  const f = await fakeHost(t, 1, 'mr');
  const ctr = f.ctrs[0]!;
  const rec = await recorder(t);
  const path = `${rec.dir}:${await ourBinDir()}`;
  const conf = withLabels(
    { cniVersion: '1.0.0', name: 'mvnet', type: 'mesos', delegate: { type: 'recorder', ipam: { type: 'dhcp' }, args: { cni: { ips: ['10.0.0.9'] }, keep: 1 } } },
    { CNI_ARGS: 'IP=10.0.0.5/24;FOO=bar;IP=fd00::5', vendorid: 'v1', env: 'PATH=/evil', hostname: 'h1', app: 'web' },
  );
  const add = await mesos(f, ctr, conf, 'ADD', 'r1', path);
  t.is(add.exitCode, 0, add.stdout);
  t.deepEqual(JSON.parse(add.stdout), { cniVersion: '1.0.0', ips: [{ address: '10.0.0.2/24', gateway: '10.0.0.1' }] });
  const seenAdd = (await rec.seen('ADD'))!;
  const expected = {
    type: 'recorder',
    name: 'mvnet',
    cniVersion: '1.0.0',
    ipam: { type: 'dhcp', vendorid: 'v1' },
    args: { ...conf.args, keep: 1, cni: { ips: ['10.0.0.9', '10.0.0.5', 'fd00::5'], subnet: '10.0.0.0/24' } },
  };
  t.deepEqual(seenAdd.conf, expected);
  t.deepEqual(seenAdd.env, ['CNI_COMMAND=ADD', 'CNI_CONTAINERID=r1', 'CNI_IFNAME=eth0', `CNI_NETNS=${ctr.path}`, `CNI_PATH=${path}`]);
  t.true(seenAdd.env.every((l) => !l.includes('/evil')));
  t.is((await mesos(f, ctr, conf, 'DEL', 'r1', path)).exitCode, 0);
  t.deepEqual((await rec.seen('DEL'))!.conf, expected, 'DEL rewrites exactly as ADD did');
  const prev = JSON.parse(add.stdout);
  t.is((await mesos(f, ctr, { ...conf, prevResult: prev }, 'CHECK', 'r1', path)).exitCode, 0);
  t.deepEqual((await rec.seen('CHECK'))!.conf, { ...expected, prevResult: prev }, 'CHECK is delegated, prevResult passed on unnested');
});

rootTest('refused before the delegate runs: its own name, no string type, malformed or empty IP=; a failed ADD can still be DELeted', async (t) => {
  const f = await fakeHost(t, 1, 'me');
  const ctr = f.ctrs[0]!;
  const rec = await recorder(t);
  const path = `${rec.dir}:${await ourBinDir()}`;
  const base = { name: 'mvnet', type: 'mesos', delegate: { type: 'recorder' } };
  const cases: [Record<string, unknown>, string][] = [
    [{ ...base, delegate: { type: 'recorder', name: 'other' } }, 'delegate.name: expected no name: the delegate runs under the network\'s name "mvnet", got "other"'],
    [{ ...base, delegate: { type: ['recorder'] } }, 'delegate.type: expected a string naming the plugin to run, got ["recorder"]'],
    [{ ...base, delegate: undefined }, 'delegate: expected an object: the config of the plugin to run, got undefined'],
    [withLabels(base, { CNI_ARGS: 'IP=192.168.122.1760' }), 'label CNI_ARGS: element "IP=192.168.122.1760": expected an IPv4 or IPv6 address, optionally with a /prefix (e.g. IP=10.0.0.5 or IP=10.0.0.5/24)'],
    [withLabels(base, { CNI_ARGS: 'IP=' }), 'label CNI_ARGS: element "IP=": expected IP=<address> or IP=<address>/<prefix>, not an empty value'],
    [withLabels(base, { CNI_ARGS: 'FOO=1;IP' }), 'label CNI_ARGS: element "IP": expected IP=<address> or IP=<address>/<prefix>, not an empty value'],
  ];
  for (const [conf, msg] of cases) {
    t.like(failed(t, await mesos(f, ctr, conf, 'ADD', 'e1', path)), { code: 7, msg });
  }
  t.is(await rec.seen('ADD'), undefined, 'the delegate never ran');
  // Mesos cleans up a failed attach with DEL of the same config: the bad element is skipped.
  const bad = withLabels(base, { CNI_ARGS: 'IP=10.0.0.5;IP=nope' });
  t.is((await mesos(f, ctr, bad, 'DEL', 'e1', path)).exitCode, 0);
  t.deepEqual(((await rec.seen('DEL'))!.conf.args as { cni: unknown }).cni, { ips: ['10.0.0.5'] });
});

rootTest('host-local honours the requested address or refuses it clearly, leaving nothing (taken, outside the range)', async (t) => {
  const f = await fakeHost(t, 2, 'mt');
  const [c1, c2] = f.ctrs as [TestNs, TestNs];
  const conf = withLabels(mesosConf(f.dir, { cniVersion: '0.4.0' }), { CNI_ARGS: 'IP=192.168.122.176' });
  const first = await mesos(f, c1, conf, 'ADD', 't1');
  t.is(first.exitCode, 0, first.stdout);
  t.is(JSON.parse(first.stdout).ips[0].address, '192.168.122.176/24');
  const taken = failed(t, await mesos(f, c2, conf, 'ADD', 't2'));
  t.is(taken.code, 111);
  t.is(taken.msg, 'failed to allocate for range 0: requested IP address 192.168.122.176 is not available in range set 192.168.122.171-192.168.122.179');
  t.deepEqual(await linkNames(c2), ['lo']);
  t.deepEqual(await hostRoutesVia(f.host), ['192.168.122.176'], "only the first container's route");
  const outside = failed(t, await mesos(f, c2, withLabels(mesosConf(f.dir, { cniVersion: '0.4.0' }), { CNI_ARGS: 'IP=192.168.122.200' }), 'ADD', 't2'));
  t.is(outside.msg, 'failed to allocate all requested IPs: 192.168.122.200');
  t.deepEqual(await leases(f.dir), ['192.168.122.176']);
  t.deepEqual(await records(f.dir), ['t1@eth0']);
  t.is((await mesos(f, c1, conf, 'DEL', 't1')).exitCode, 0);
  await nothingLeft(t, f, c1);
});

rootTest('IPv6 and CIDR labels: both exact addresses on one interface; CHECK through mesos; DEL twice and without netns', async (t) => {
  const f = await fakeHost(t, 1, 'm6');
  const ctr = f.ctrs[0]!;
  const ipam = { subnet: undefined, rangeStart: undefined, rangeEnd: undefined, ranges: [[{ subnet: '192.168.122.0/24' }], [{ subnet: 'fd00:122::/64' }]] };
  const conf = withLabels(mesosConf(f.dir, { cniVersion: '1.1.0' }, {}, ipam), { CNI_ARGS: 'IP=192.168.122.177/24;IP=fd00:122::177' });
  const add = await mesos(f, ctr, conf, 'ADD', 's1');
  t.is(add.exitCode, 0, add.stdout);
  const r = JSON.parse(add.stdout);
  t.deepEqual(r.ips.map((i: { address: string }) => i.address), ['192.168.122.177/24', 'fd00:122::177/64']);
  const v6 = (await ctr.nl.addr.list({ dev: 'eth0', family: 6 })).map((a) => a.address);
  t.true(v6.includes('fd00:122::177/64'));
  t.deepEqual((await hostRoutesVia(f.host)).sort(), ['192.168.122.177', 'fd00:122::177']);
  t.is((await mesos(f, ctr, { ...conf, prevResult: r }, 'CHECK', 's1')).exitCode, 0);
  t.is((await mesos(f, ctr, conf, 'DEL', 's1')).exitCode, 0);
  t.is((await mesos(f, ctr, conf, 'DEL', 's1')).exitCode, 0);
  t.is((await mesos(f, undefined, conf, 'DEL', 's1')).exitCode, 0);
  await nothingLeft(t, f, ctr);
  // Without the netns from the start: the host route still goes (the record), and the lease.
  t.is((await mesos(f, ctr, conf, 'ADD', 's2')).exitCode, 0);
  t.is((await mesos(f, undefined, conf, 'DEL', 's2')).exitCode, 0);
  t.deepEqual(await hostRoutesVia(f.host), []);
  t.deepEqual(await leases(f.dir), []);
  t.deepEqual(await records(f.dir), []);
  t.deepEqual((await readdir(join(f.dir, 'ipam'))).sort(), ['mvnet']);
});
