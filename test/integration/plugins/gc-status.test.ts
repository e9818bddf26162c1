// STATUS and GC (CNI 1.1.0) through every plugin that holds state: what each collects for the
// attachments a runtime no longer lists, that nothing goes without a list, that GC and STATUS reach
// the IPAM or the wrapped plugin (ours speak 1.1.0; the installed reference plugins, 1.1.1, do not:
// they are not asked, and their state stays theirs), and the runtime side (`mesos-cni exec gc|status`).
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { execCommand } from '../../../lib/cli/exec.js';
import { ipJson, namespaces, NFT, nsExec, rootTest, uniq, type TestNs } from '../../helpers/fixture.js';
import { callPlugin, ourBinDir, REFERENCE_DIR, type CniCall } from '../../helpers/cni.js';
import { AGENT_IP, fakeHost, hostRoutesVia, macvtapConf, records, runIn } from '../../helpers/macvtap.js';
import * as l4 from './dcos-l4lb-fixture.js';

const SYSTEM_PATH = (process.env.PATH ?? '').split(':').filter((d) => !d.includes('node_modules')).join(':');

async function tmp(t: ExecutionContext): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'mcni-gc-'));
  t.teardown(() => rm(d, { recursive: true, force: true }));
  return d;
}

const leases = async (dir: string, net: string) => (await readdir(join(dir, net)).catch(() => [] as string[])).filter((f) => /^\d/.test(f)).sort();

async function call(type: string, host: TestNs, c: object, x: Omit<CniCall, 'hostNs'>, path?: string) {
  const bin = await ourBinDir();
  return callPlugin(join(bin, type), c, { path: path ?? `${bin}:${REFERENCE_DIR}`, ...x, extraEnv: { PATH: SYSTEM_PATH, ...x.extraEnv }, hostNs: host.name });
}

const valid = (...ids: string[]) => ids.map((id) => ({ containerID: id, ifname: 'eth0' }));

rootTest('bridge GC: the masquerade rules and lease of an unlisted container go (through our host-local), the listed stay; no list, nothing; STATUS ready', async (t) => {
  const [host, c1, c2] = await namespaces(t, 3, 'gb');
  const dir = await tmp(t);
  const c = { cniVersion: '1.1.0', name: 'gcbr', type: 'bridge', bridge: uniq('gb'), isGateway: true, ipMasq: true, macspoofchk: true, ipam: { type: 'host-local', subnet: '10.84.0.0/24', dataDir: dir } };
  for (const [id, ns] of [['k1', c1!], ['k2', c2!]] as const) t.is((await call('bridge', host!, c, { command: 'ADD', containerId: id, netns: ns.path })).exitCode, 0);
  const nat = () => nsExec(host!, ['iptables-save', '-t', 'nat']);
  t.is((await call('bridge', host!, c, { command: 'GC' })).exitCode, 0);
  t.deepEqual(await leases(dir, 'gcbr'), ['10.84.0.2', '10.84.0.3'], 'no list: nothing released');
  t.regex(await nat(), /id: k2/);

  const r = await call('bridge', host!, { ...c, 'cni.dev/valid-attachments': valid('k1') }, { command: 'GC' });
  t.is(r.exitCode, 0, r.stdout + r.stderr);
  t.deepEqual(await leases(dir, 'gcbr'), ['10.84.0.2'], "k2's lease released by the forwarded GC");
  t.regex(await nat(), /mesos-cni bridge: gcbr id: k1/);
  t.notRegex(await nat(), /id: k2/);
  // The MAC spoof filter of a port still there stays; once the port is gone, GC removes it.
  t.regex(await nsExec(host!, [NFT, 'list', 'table', 'bridge', 'nat']), /macspoofchk-k2-eth0/);
  await nsExec(c2!, ['ip', 'link', 'del', 'eth0']);
  t.is((await call('bridge', host!, { ...c, 'cni.dev/valid-attachments': valid('k1') }, { command: 'GC' })).exitCode, 0);
  const filters = await nsExec(host!, [NFT, 'list', 'table', 'bridge', 'nat']);
  t.notRegex(filters, /macspoofchk-k2-eth0/);
  t.regex(filters, /macspoofchk-k1-eth0/);
  t.is((await call('bridge', host!, c, { command: 'STATUS' })).exitCode, 0);
  t.is((await call('bridge', host!, c, { command: 'DEL', containerId: 'k1', netns: c1!.path })).exitCode, 0);
});

rootTest('bridge with the reference host-local: GC collects our rules and is not forwarded (host-local 1.1.1 has no GC); STATUS likewise', async (t) => {
  const [host, c1] = await namespaces(t, 2, 'gr');
  const dir = await tmp(t);
  const c = { cniVersion: '1.1.0', name: 'gcref', type: 'bridge', bridge: uniq('gr'), isGateway: true, ipMasq: true, ipam: { type: 'host-local', subnet: '10.85.0.0/24', dataDir: dir } };
  // The reference host-local answers only up to 1.0.0: the ADD goes to it with our 1.1.0 config.
  const path = `${await ourBinDir()}`;
  const refOnly = join(await tmp(t), 'bin');
  await nsExec(host!, ['sh', '-c', `mkdir -p ${refOnly} && ln -s ${REFERENCE_DIR}/host-local ${refOnly}/host-local && ln -s ${path}/bridge ${refOnly}/bridge`]);
  const add = await call('bridge', host!, { ...c, cniVersion: '1.0.0' }, { command: 'ADD', containerId: 'r1', netns: c1!.path }, refOnly);
  t.is(add.exitCode, 0, add.stdout);
  const gc = await call('bridge', host!, { ...c, 'cni.dev/valid-attachments': [] }, { command: 'GC' }, refOnly);
  t.is(gc.exitCode, 0, gc.stdout + gc.stderr);
  t.notRegex(await nsExec(host!, ['iptables-save', '-t', 'nat']), /gcref id: r1/, 'our masquerade rules collected');
  t.deepEqual(await leases(dir, 'gcref'), ['10.85.0.2'], "the reference's lease is its own: it was not asked");
  t.is((await call('bridge', host!, c, { command: 'STATUS' }, refOnly)).exitCode, 0);
  t.is((await call('bridge', host!, { ...c, cniVersion: '1.0.0' }, { command: 'DEL', containerId: 'r1', netns: c1!.path }, refOnly)).exitCode, 0);
  t.deepEqual(await leases(dir, 'gcref'), []);
});

rootTest('port mapper GC: the DNAT rules of unlisted containers in its chain go, then the delegate GC (our bridge and host-local) takes theirs', async (t) => {
  const [host, c1, c2] = await namespaces(t, 3, 'gp');
  const dir = await tmp(t);
  const chain = `GCPM${process.pid % 10000}`;
  const bridge = { type: 'bridge', bridge: uniq('gp'), isGateway: true, ipMasq: true, ipam: { type: 'host-local', subnet: '10.86.0.0/24', dataDir: dir } };
  const c = { cniVersion: '1.1.0', name: 'gcpm', type: 'mesos-cni-port-mapper', chain, excludeDevices: [bridge.bridge], delegate: { ...bridge, cniVersion: '1.1.0' } };
  const withPorts = (hostPort: number) => ({ ...c, runtimeConfig: { portMappings: [{ hostPort, containerPort: 80 }] } });
  t.is((await call('mesos-cni-port-mapper', host!, withPorts(18080), { command: 'ADD', containerId: 'p1', netns: c1!.path })).exitCode, 0);
  t.is((await call('mesos-cni-port-mapper', host!, withPorts(18081), { command: 'ADD', containerId: 'p2', netns: c2!.path })).exitCode, 0);
  const rules = () => nsExec(host!, ['iptables', '-w', '-t', 'nat', '-S', chain]);
  t.regex(await rules(), /container_id: p2/);
  const gc = await call('mesos-cni-port-mapper', host!, { ...c, 'cni.dev/valid-attachments': valid('p1') }, { command: 'GC' });
  t.is(gc.exitCode, 0, gc.stdout + gc.stderr);
  t.regex(await rules(), /container_id: p1/);
  t.notRegex(await rules(), /container_id: p2/);
  t.deepEqual(await leases(dir, 'gcpm'), ['10.86.0.2'], "the forwarded GC released p2's lease");
  t.notRegex(await nsExec(host!, ['iptables-save', '-t', 'nat']), /gcpm id: p2/, "and the bridge's masquerade rules");
  t.is((await call('mesos-cni-port-mapper', host!, c, { command: 'STATUS' })).exitCode, 0);
  const noPath = await callPlugin(join(await ourBinDir(), 'mesos-cni-port-mapper'), c, { command: 'GC', hostNs: host!.name, path: '' });
  t.like(JSON.parse(noPath.stdout), { code: 101, msg: "Unable to find environment variable 'CNI_PATH'" });
  t.is((await call('mesos-cni-port-mapper', host!, withPorts(18080), { command: 'DEL', containerId: 'p1', netns: c1!.path })).exitCode, 0);
});

rootTest('dcos-l4lb GC: an unlisted attachment loses its spartan link and lease, checkpoint and record; the delegate collects its own', async (t) => {
  const s = await l4.setup(t);
  const c = l4.conf(s, {}, '1.1.0');
  const add = await l4.run(s, c, { command: 'ADD', netns: s.ctr.path });
  t.is(add.exitCode, 0, add.stdout);
  t.is(await l4.checkpoint(s), s.ctr.path);
  t.deepEqual(await l4.leases(s.spartanDir, 'spartan-network'), [l4.LEASE]);
  t.is((await l4.run(s, c, { command: 'GC' })).exitCode, 0);
  t.is(await l4.checkpoint(s), s.ctr.path, 'no list: nothing');
  const gc = await l4.run(s, { ...c, 'cni.dev/valid-attachments': [] }, { command: 'GC' });
  t.is(gc.exitCode, 0, gc.stdout + gc.stderr);
  t.is(await l4.checkpoint(s), undefined);
  t.deepEqual(await l4.leases(s.spartanDir, 'spartan-network'), []);
  t.deepEqual(await l4.leases(s.ipamDir, 'spartan-net'), [], "the delegate (our bridge → host-local) released its lease");
  t.deepEqual((await l4.linkNames(s.ctr)).filter((n) => n === 'spartan' || n === 'minuteman'), []);
  t.false(existsSync(join(s.spartanDir, '.dcos-l4lb', 'spartan-net')), 'the record went, and the network directory with its last one');
  t.is((await l4.run(s, c, { command: 'STATUS' })).exitCode, 0);
  t.is((await l4.run(s, c, { command: 'DEL', netns: s.ctr.path })).exitCode, 0);
  await l4.nothingLeft(t, s, { what: 'after GC and DEL' });
});

rootTest('macvtap GC: the host routes and record of an unlisted attachment go, its lease through host-local; STATUS names a missing master (50)', async (t) => {
  const f = await fakeHost(t, 2, 'gm');
  const c = { cniVersion: '1.1.0', ...macvtapConf(f.dir, { hostrouteif: 'mvhost', hostrouteip: AGENT_IP }) };
  for (const [i, ctr] of f.ctrs.entries()) t.is((await runIn(f.host, 'macvtap', c, { command: 'ADD', containerId: `m${i}`, netns: ctr.path })).exitCode, 0);
  t.is((await hostRoutesVia(f.host)).length, 2);
  const gc = await runIn(f.host, 'macvtap', { ...c, 'cni.dev/valid-attachments': valid('m0') }, { command: 'GC' });
  t.is(gc.exitCode, 0, gc.stdout + gc.stderr);
  t.is((await hostRoutesVia(f.host)).length, 1);
  t.deepEqual(await records(f.dir), ['m0@eth0']);
  t.deepEqual((await readdir(join(f.dir, 'ipam', 'mvnet'))).filter((x) => /^\d/.test(x)).length, 1);
  t.is((await runIn(f.host, 'macvtap', c, { command: 'STATUS' })).exitCode, 0);
  const missing = await runIn(f.host, 'macvtap', { ...c, master: 'nosuch0' }, { command: 'STATUS' });
  t.like(JSON.parse(missing.stdout), { code: 50, msg: 'master: no interface "nosuch0" in the host namespace' });
  t.is((await runIn(f.host, 'macvtap', c, { command: 'DEL', containerId: 'm0', netns: f.ctrs[0]!.path })).exitCode, 0);
});

rootTest('mesos plugin: GC and STATUS reach its delegate', async (t) => {
  const [host, c1] = await namespaces(t, 2, 'gs');
  const dir = await tmp(t);
  const c = { cniVersion: '1.1.0', name: 'gcms', type: 'mesos', delegate: { type: 'bridge', bridge: uniq('gs'), ipam: { type: 'host-local', subnet: '10.87.0.0/24', dataDir: dir } } };
  t.is((await call('mesos', host!, c, { command: 'ADD', containerId: 'q1', netns: c1!.path })).exitCode, 0);
  t.is((await call('mesos', host!, c, { command: 'STATUS' })).exitCode, 0);
  t.is((await call('mesos', host!, { ...c, 'cni.dev/valid-attachments': [] }, { command: 'GC' })).exitCode, 0);
  t.deepEqual(await leases(dir, 'gcms'), []);
  t.is((await call('mesos', host!, c, { command: 'DEL', containerId: 'q1', netns: c1!.path })).exitCode, 0);
});

rootTest('runtime: exec gc DELs the cached attachments no longer valid, then GCs; disableGC and old versions do nothing; status; disableCheck; cniVersions', async (t) => {
  const [ctr1, ctr2] = await namespaces(t, 2, 'gx');
  const dir = await tmp(t);
  const path = (await ourBinDir()).split(':');
  const list = (extra: Record<string, unknown> = {}) => ({
    cniVersion: '1.1.0',
    name: 'gcx',
    plugins: [{ type: 'host-local', ipam: { type: 'host-local', subnet: '10.88.0.0/24', dataDir: dir } }],
    ...extra,
  });
  const file = join(dir, 'gcx.conflist');
  const exec = async (command: 'add' | 'del' | 'check' | 'gc' | 'status', o: { doc?: object; id?: string; netns?: string; valid?: { containerID: string; ifname: string }[] } = {}) => {
    await writeFile(file, JSON.stringify(o.doc ?? list()));
    return execCommand({ command, config: file, netns: o.netns, containerId: o.id, ifname: 'eth0', cniPath: path, mesos: false, labels: {}, portMappings: [], cacheDir: join(dir, 'cache'), valid: o.valid });
  };
  await exec('add', { id: 'x1', netns: ctr1!.path });
  await exec('add', { id: 'x2', netns: ctr2!.path });
  t.deepEqual(await leases(dir, 'gcx'), ['10.88.0.2', '10.88.0.3']);
  await exec('gc', { doc: list({ disableGC: true }), valid: [] });
  await exec('gc', { doc: list({ cniVersion: '1.0.0' }), valid: valid('x1') });
  t.deepEqual(await leases(dir, 'gcx'), ['10.88.0.2'], 'a 1.0.0 list has no GC, but the runtime still DELs what it cached and is no longer valid');
  const again = (await exec('add', { id: 'x2', netns: ctr2!.path })) as { ips: { address: string }[] };
  const x2 = again.ips[0]!.address.split('/')[0]!;
  await writeFile(join(dir, 'gcx', '10.88.0.99'), 'leaked\r\neth0'); // a lease no cache knows
  await exec('gc', { valid: valid('x1', 'x2') });
  t.deepEqual(await leases(dir, 'gcx'), ['10.88.0.2', x2].sort(), 'the plugin GC released the leak');
  await exec('status');
  await rm(join(dir, 'gcx', '10.88.0.2'));
  await t.throwsAsync(exec('check', { id: 'x1', netns: ctr1!.path }), { message: /Failed to find address added by container x1/ });
  await exec('check', { id: 'x1', netns: ctr1!.path, doc: list({ disableCheck: true }) });
  // cniVersions: the highest the runtime speaks wins (1.1.0, so GC runs; 9.9.9 is skipped).
  await exec('gc', { doc: list({ cniVersion: undefined, cniVersions: ['0.4.0', '1.1.0', '9.9.9'] }), valid: [] });
  t.deepEqual(await leases(dir, 'gcx'), []);
  await t.throwsAsync(exec('status', { doc: list({ cniVersion: undefined, cniVersions: ['9.9.9'] }) }), { message: /^cniVersions: expected a version this runtime speaks/ });
});

rootTest('runtime: a plugin without GC or STATUS (the reference 1.1.1) is not sent them by a 1.0.0 list; a 1.1.0 list sends them and reports its refusal', async (t) => {
  const dir = await tmp(t);
  const file = join(dir, 'ref.conflist');
  const doc = (v: string) => ({ cniVersion: v, name: 'gcref2', plugins: [{ type: 'host-local', ipam: { type: 'host-local', subnet: '10.89.0.0/24', dataDir: dir } }] });
  const run = async (command: 'gc' | 'status', v: string) => {
    await writeFile(file, JSON.stringify(doc(v)));
    return execCommand({ command, config: file, ifname: 'eth0', cniPath: [REFERENCE_DIR], mesos: false, labels: {}, portMappings: [], cacheDir: join(dir, 'cache'), valid: [] });
  };
  await run('status', '1.0.0');
  await run('gc', '1.0.0');
  // Its skel does not know STATUS: whatever it answers is an error, passed on as it is.
  const e = await t.throwsAsync(run('status', '1.1.0'));
  t.true(typeof (e as { code?: unknown }).code === 'number');
});

rootTest("a delegate's stderr reaches ours; stdout stays one document", async (t) => {
  const [host, c1] = await namespaces(t, 2, 'ge');
  const dir = await tmp(t);
  const bin = join(dir, 'bin');
  await nsExec(host!, ['mkdir', '-p', bin]);
  await writeFile(join(bin, 'noisy'), '#!/bin/sh\necho "noisy: about to fail" >&2\necho \'{"cniVersion":"1.0.0","code":11,"msg":"busy"}\'\nexit 1\n', { mode: 0o755 });
  const c = { cniVersion: '1.0.0', name: 'gcn', type: 'mesos', delegate: { type: 'noisy' } };
  const r = await callPlugin(join(await ourBinDir(), 'mesos'), c, { command: 'ADD', containerId: 'n1', netns: c1!.path, hostNs: host!.name, path: `${bin}:${await ourBinDir()}` });
  t.is(r.exitCode, 1);
  t.is(r.stdout.trim().split('\n').length, 1);
  t.like(JSON.parse(r.stdout), { code: 11, msg: 'busy' });
  t.regex(r.stderr, /^noisy: about to fail$/m);
  t.deepEqual(await ipJson<unknown[]>(c1!, ['link', 'show', 'type', 'veth']), []);
});
