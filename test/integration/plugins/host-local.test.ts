// Our host-local against the reference one on a shared dataDir: alternating and concurrent
// allocations never hand out one address twice, and each releases the other's leases.
import test from 'ava';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { callPlugin, hasReference, ourPlugin, REFERENCE_DIR } from '../../helpers/cni.js';

const ref = `${REFERENCE_DIR}/host-local`;
const refTest = hasReference('host-local') ? test : test.skip;

async function dataDir(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'mcni-hl-'));
  t.teardown(() => rm(d, { recursive: true, force: true }));
  return d;
}

const conf = (dir: string, version = '1.0.0', extra: object = {}) => ({
  cniVersion: version,
  name: 'hlnet',
  type: 'host-local',
  ipam: { type: 'host-local', subnet: '10.77.0.0/24', rangeEnd: '10.77.0.40', dataDir: dir, routes: [{ dst: '0.0.0.0/0' }], ...extra },
});

async function add(file: string, c: object, id: string, args?: string): Promise<string> {
  const r = await callPlugin(file, c, { command: 'ADD', containerId: id, netns: '/var/run/netns/unused', args });
  if (r.exitCode !== 0) throw new Error(`${file} ADD ${id}: ${r.stdout} ${r.stderr}`);
  return JSON.parse(r.stdout).ips[0].address as string;
}

refTest('alternating ours and the reference on one dataDir never repeats an address', async (t) => {
  const dir = await dataDir(t);
  const got: string[] = [];
  for (let i = 0; i < 12; i++) got.push(await add(i % 2 ? ref : ourPlugin('host-local'), conf(dir), `c${i}`));
  t.is(new Set(got).size, 12);
  t.deepEqual(got.slice(0, 3), ['10.77.0.2/24', '10.77.0.3/24', '10.77.0.4/24'], 'both follow one round-robin cursor');
  // Each releases leases the other wrote.
  for (let i = 0; i < 12; i++) {
    const r = await callPlugin(i % 2 ? ourPlugin('host-local') : ref, conf(dir), { command: 'DEL', containerId: `c${i}` });
    t.is(r.exitCode, 0, r.stdout);
  }
  const left = (await readdir(join(dir, 'hlnet'))).filter((f) => /^\d/.test(f));
  t.deepEqual(left, []);
});

refTest('concurrent allocations from both implementations are all distinct', async (t) => {
  const dir = await dataDir(t);
  const jobs = Array.from({ length: 24 }, (_, i) => add(i % 2 ? ref : ourPlugin('host-local'), conf(dir), `k${i}`));
  const got = await Promise.all(jobs);
  t.is(new Set(got).size, 24);
});

test('lease files use the reference format: "<id>\\r\\n<ifname>"', async (t) => {
  const dir = await dataDir(t);
  const ip = await add(ourPlugin('host-local'), conf(dir), 'fmt1');
  t.is(await readFile(join(dir, 'hlnet', ip.split('/')[0]!), 'utf8'), 'fmt1\r\neth0');
  t.is(await readFile(join(dir, 'hlnet', 'last_reserved_ip.0'), 'utf8'), ip.split('/')[0]!);
});

test('a requested IP is honoured, a taken one refused with nothing left behind', async (t) => {
  const dir = await dataDir(t);
  t.is(await add(ourPlugin('host-local'), conf(dir), 'r1', 'IP=10.77.0.30'), '10.77.0.30/24');
  const r = await callPlugin(ourPlugin('host-local'), conf(dir), { command: 'ADD', containerId: 'r2', netns: '/x', args: 'IP=10.77.0.30' });
  t.is(r.exitCode, 1);
  t.like(JSON.parse(r.stdout), { code: 111, msg: 'failed to allocate for range 0: requested IP address 10.77.0.30 is not available in range set 10.77.0.1-10.77.0.40' });
  const out = await callPlugin(ourPlugin('host-local'), conf(dir), { command: 'ADD', containerId: 'r3', netns: '/x', args: 'IP=10.99.0.1' });
  t.like(JSON.parse(out.stdout), { code: 111, msg: 'failed to allocate all requested IPs: 10.99.0.1' });
  const files = (await readdir(join(dir, 'hlnet'))).filter((f) => /^\d/.test(f));
  t.deepEqual(files, ['10.77.0.30'], 'the failed ADDs left no lease');
});

test('exhaustion is a clear error; DEL twice succeeds; CHECK finds the lease; GC keeps only valid attachments', async (t) => {
  const dir = await dataDir(t);
  const small = conf(dir, '1.1.0', { subnet: '10.78.0.0/30', rangeEnd: undefined });
  t.is(await add(ourPlugin('host-local'), small, 'e1'), '10.78.0.2/30');
  const r = await callPlugin(ourPlugin('host-local'), small, { command: 'ADD', containerId: 'e2', netns: '/x' });
  t.like(JSON.parse(r.stdout), { code: 110, msg: 'failed to allocate for range 0: no IP addresses available in range set: 10.78.0.1-10.78.0.2' });
  t.is((await callPlugin(ourPlugin('host-local'), small, { command: 'CHECK', containerId: 'e1', netns: '/x' })).exitCode, 0);
  const gc = await callPlugin(ourPlugin('host-local'), { ...small, 'cni.dev/valid-attachments': [] }, { command: 'GC' });
  t.is(gc.exitCode, 0, gc.stdout);
  const chk = await callPlugin(ourPlugin('host-local'), small, { command: 'CHECK', containerId: 'e1', netns: '/x' });
  t.like(JSON.parse(chk.stdout), { code: 3 });
  for (let i = 0; i < 2; i++) t.is((await callPlugin(ourPlugin('host-local'), small, { command: 'DEL', containerId: 'e1' })).exitCode, 0);
});

test('a duplicate ADD for the same attachment is refused', async (t) => {
  const dir = await dataDir(t);
  await add(ourPlugin('host-local'), conf(dir), 'd1');
  const r = await callPlugin(ourPlugin('host-local'), conf(dir), { command: 'ADD', containerId: 'd1', netns: '/x' });
  t.like(JSON.parse(r.stdout), { code: 112 });
});

test('results follow the config version: 0.2.0 gives ip4, 0.3.1 gives versioned ips', async (t) => {
  const dir = await dataDir(t);
  const r02 = await callPlugin(ourPlugin('host-local'), conf(dir, '0.2.0'), { command: 'ADD', containerId: 'v02', netns: '/x' });
  t.deepEqual(JSON.parse(r02.stdout), { cniVersion: '0.2.0', ip4: { ip: '10.77.0.2/24', gateway: '10.77.0.1', routes: [{ dst: '0.0.0.0/0' }] } });
  const r031 = await callPlugin(ourPlugin('host-local'), conf(dir, '0.3.1'), { command: 'ADD', containerId: 'v031', netns: '/x' });
  t.deepEqual(JSON.parse(r031.stdout).ips, [{ version: '4', address: '10.77.0.3/24', gateway: '10.77.0.1' }]);
});
