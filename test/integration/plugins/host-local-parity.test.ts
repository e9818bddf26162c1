// host-local against the reference (1.1.1 installed) on what a user moving from it hits: requested
// addresses with a prefix, the ipRanges capability, a subnet with host bits, a gateway outside the
// subnet, the store's files and modes, routes with their 1.1 attributes; and GC (1.1.0, which the
// installed reference predates: checked against the reference's own GC expectations).
import test from 'ava';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { callPlugin, hasReference, ourPlugin, REFERENCE_DIR } from '../../helpers/cni.js';

const REF = `${REFERENCE_DIR}/host-local`;
const refTest = hasReference('host-local') ? test : test.skip;

async function dataDir(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'mcni-hlp-'));
  t.teardown(() => rm(d, { recursive: true, force: true }));
  return d;
}

const conf = (dir: string, ipam: Record<string, unknown>, extra: Record<string, unknown> = {}, version = '1.0.0') => ({
  cniVersion: version,
  name: 'hlpar',
  type: 'bridge',
  ...extra,
  ipam: { type: 'host-local', dataDir: dir, ...ipam },
});

async function both(t: { teardown(fn: () => Promise<void>): void }, c: (dir: string) => object, call: { id?: string; args?: string; command?: 'ADD' } = {}) {
  const out: Record<string, { exitCode: number; doc: Record<string, unknown>; dir: string }> = {};
  for (const [name, file] of [['ours', ourPlugin('host-local')], ['reference', REF]] as const) {
    const dir = await dataDir(t);
    const r = await callPlugin(file, c(dir), { command: 'ADD', containerId: call.id ?? 'hp1', netns: '/var/run/netns/x', args: call.args });
    out[name] = { exitCode: r.exitCode, doc: JSON.parse(r.stdout || '{}'), dir };
  }
  return out as Record<'ours' | 'reference', { exitCode: number; doc: Record<string, unknown>; dir: string }>;
}

const strip = (doc: Record<string, unknown>) => ({ ips: doc.ips, routes: doc.routes });

refTest('an address with a prefix in CNI_ARGS IP= and in args.cni.ips is requested as the reference does', async (t) => {
  const env = await both(t, (d) => conf(d, { subnet: '10.72.0.0/24' }), { args: 'IP=10.72.0.7/24' });
  t.is(env.ours.exitCode, 0, JSON.stringify(env.ours.doc));
  t.deepEqual(strip(env.ours.doc), strip(env.reference.doc));
  t.deepEqual((env.ours.doc.ips as { address: string }[])[0]!.address, '10.72.0.7/24');
  const args = await both(t, (d) => conf(d, { subnet: '10.72.0.0/24' }, { args: { cni: { ips: ['10.72.0.9/24'] } } }));
  t.deepEqual(strip(args.ours.doc), strip(args.reference.doc));
  t.deepEqual((args.ours.doc.ips as { address: string }[])[0]!.address, '10.72.0.9/24');
  const bad = await both(t, (d) => conf(d, { subnet: '10.72.0.0/24' }), { args: 'IP=10.72.0.7/99' });
  t.is(bad.ours.exitCode, 1);
  t.is(bad.reference.exitCode, 1);
});

refTest('the ipRanges capability comes before the configured ranges (set 0), as the reference orders them', async (t) => {
  const c = (d: string) => conf(d, { ranges: [[{ subnet: '10.74.0.0/24' }]] }, { runtimeConfig: { ipRanges: [[{ subnet: '10.73.0.0/24', rangeStart: '10.73.0.20' }]] } });
  const r = await both(t, c);
  t.is(r.ours.exitCode, 0, JSON.stringify(r.ours.doc));
  t.deepEqual(strip(r.ours.doc), strip(r.reference.doc));
  t.deepEqual((r.ours.doc.ips as { address: string }[]).map((i) => i.address), ['10.73.0.20/24', '10.74.0.2/24']);
  // Alone (no ranges in the config): the runtime's ranges are all there is.
  const only = await both(t, (d) => ({ ...conf(d, {}, { runtimeConfig: { ipRanges: [[{ subnet: '10.75.0.0/24' }]] } }) }));
  t.deepEqual(strip(only.ours.doc), strip(only.reference.doc));
});

refTest('a subnet with host bits is refused with the reference words; a gateway outside the subnet is taken', async (t) => {
  const bits = await both(t, (d) => conf(d, { subnet: '10.76.0.5/24' }));
  t.is(bits.ours.exitCode, 1);
  t.is(bits.reference.exitCode, 1);
  t.regex(String(bits.ours.doc.msg), /network has host bits set. For a subnet mask of length 24 the network address is 10\.76\.0\.0/);
  t.regex(String(bits.reference.doc.msg), /Network has host bits set. For a subnet mask of length 24 the network address is 10\.76\.0\.0/);
  const gw = await both(t, (d) => conf(d, { subnet: '10.76.0.0/24', gateway: '10.99.0.1' }));
  t.is(gw.ours.exitCode, 0, JSON.stringify(gw.ours.doc));
  t.deepEqual(strip(gw.ours.doc), strip(gw.reference.doc));
  t.is((gw.ours.doc.ips as { gateway: string }[])[0]!.gateway, '10.99.0.1');
});

refTest('the store: same file names, contents and modes as the reference (leases 0644, lock 0750, directory 0755)', async (t) => {
  const r = await both(t, (d) => conf(d, { subnet: '10.77.0.0/24' }));
  const modes = async (dir: string) => {
    const net = join(dir, 'hlpar');
    const names = (await readdir(net)).sort();
    return { names, modes: await Promise.all([net, ...names.map((n) => join(net, n))].map(async (p) => ((await stat(p)).mode & 0o777).toString(8))) };
  };
  t.deepEqual(await modes(r.ours.dir), await modes(r.reference.dir));
  t.deepEqual((await modes(r.ours.dir)).names, ['10.77.0.2', 'last_reserved_ip.0', 'lock']);
});

refTest('routes keep their 1.1 attributes in a 1.1.0 result; older results carry dst and gw, as the reference prints them', async (t) => {
  const routes = [{ dst: '10.9.0.0/16', gw: '10.78.0.254', mtu: 1400, advmss: 1360, priority: 5, table: 100, scope: 0 }];
  const r = await both(t, (d) => conf(d, { subnet: '10.78.0.0/24', routes }));
  t.deepEqual(strip(r.ours.doc), strip(r.reference.doc), '1.0.0: as the reference');
  const dir = await dataDir(t);
  const v11 = await callPlugin(ourPlugin('host-local'), conf(dir, { subnet: '10.78.0.0/24', routes }, {}, '1.1.0'), { command: 'ADD', containerId: 'hp2', netns: '/x' });
  t.deepEqual(JSON.parse(v11.stdout).routes, routes);
  const bad = await callPlugin(ourPlugin('host-local'), conf(dir, { subnet: '10.78.0.0/24', routes: [{ dst: '10.9.0.0/16', mtu: -1 }] }, {}, '1.1.0'), { command: 'ADD', containerId: 'hp3', netns: '/x' });
  t.like(JSON.parse(bad.stdout), { code: 7, msg: 'ipam.routes[0].mtu: expected an integer from 0 to 2147483647, got -1' });
});

test('GC: no list releases nothing; the list keeps its attachments (by container and interface), legacy leases while their container is listed; lock and cursor stay', async (t) => {
  const dir = await dataDir(t);
  const c = conf(dir, { subnet: '10.79.0.0/24' }, {}, '1.1.0');
  const add = async (id: string, ifname = 'eth0') => {
    const r = await callPlugin(ourPlugin('host-local'), c, { command: 'ADD', containerId: id, ifname, netns: '/x' });
    t.is(r.exitCode, 0, r.stdout);
    return (JSON.parse(r.stdout).ips[0].address as string).split('/')[0]!;
  };
  const keepA = await add('keep');
  const twoIf0 = await add('twoif', 'eth0');
  const twoIf1 = await add('twoif', 'eth1');
  const gone = await add('gone');
  await writeFile(join(dir, 'hlpar', '10.79.0.200'), 'legacy-id'); // written before ifname was recorded
  await writeFile(join(dir, 'hlpar', '10.79.0.201'), 'legacy-stale');
  const leases = async () => (await readdir(join(dir, 'hlpar'))).filter((f) => /^\d/.test(f)).sort();
  const gc = (valid?: object[]) => callPlugin(ourPlugin('host-local'), valid ? { ...c, 'cni.dev/valid-attachments': valid } : c, { command: 'GC' });

  const before = await leases();
  t.is((await gc()).exitCode, 0);
  t.deepEqual(await leases(), before, 'no cni.dev/valid-attachments: nothing released');

  const r = await gc([
    { containerID: 'keep', ifname: 'eth0' },
    { containerID: 'twoif', ifname: 'eth0' },
    { containerID: 'legacy-id', ifname: 'eth0' },
  ]);
  t.is(r.exitCode, 0, r.stdout);
  t.deepEqual(await leases(), [keepA, twoIf0, '10.79.0.200'].sort());
  t.false((await leases()).includes(twoIf1), 'the other interface of a listed container is released');
  t.false((await leases()).includes(gone));
  t.deepEqual((await readdir(join(dir, 'hlpar'))).filter((f) => !/^\d/.test(f)).sort(), ['last_reserved_ip.0', 'lock']);

  t.is((await gc([])).exitCode, 0);
  t.deepEqual(await leases(), [], 'an empty list releases everything');
  t.regex(await add('newcomer'), /^10\.79\.0\./, 'the store takes new leases after GC');

  const badList = await gc({ nope: 1 } as never);
  t.like(JSON.parse(badList.stdout), { code: 7 });
});

test('STATUS: ready; code 50 when every address of a range set is taken or the store cannot be written', async (t) => {
  const dir = await dataDir(t);
  const c = conf(dir, { subnet: '10.80.0.0/30' }, {}, '1.1.0'); // one address: .2 (.1 the gateway)
  const status = (x: object) => callPlugin(ourPlugin('host-local'), x, { command: 'STATUS' });
  t.is((await status(c)).exitCode, 0);
  t.is((await callPlugin(ourPlugin('host-local'), c, { command: 'ADD', containerId: 's1', netns: '/x' })).exitCode, 0);
  const full = await status(c);
  t.like(JSON.parse(full.stdout), { code: 50, msg: 'host-local: no IP addresses available in range set: 10.80.0.1-10.80.0.2' });
  await writeFile(join(dir, 'file'), '');
  const blocked = await status(conf(join(dir, 'file', 'sub'), { subnet: '10.80.0.0/24' }, {}, '1.1.0'));
  t.like(JSON.parse(blocked.stdout), { code: 50 });
  const old = await status(conf(dir, { subnet: '10.80.0.0/24' }, {}, '1.0.0'));
  t.like(JSON.parse(old.stdout), { code: 1 }, 'STATUS needs a 1.1.0 config');
});
