// Attachments that must never be half there: an interface name the kernel would expand (macvtap),
// leases longer than a page, the longest container ID through every plugin that names files or
// rules after it, and an ADD racing the DEL of the same container in separate processes.
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { MAX_CONTAINER_ID } from '../../../lib/cni/env.js';
import { namespaces, rootTest, uniq, type TestNs } from '../../helpers/fixture.js';
import { fakeHost, macvtapConf, nothingLeft, runIn } from '../../helpers/macvtap.js';
import { leaseFiles, links, natRulesWith, oneDocument, run } from '../../helpers/reliability.js';

async function tempDir(t: ExecutionContext): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'mcni-at-'));
  t.teardown(() => rm(d, { recursive: true, force: true }));
  return d;
}

rootTest("macvtap with CNI_IFNAME 'eth%d' is refused and leaves no link (the kernel would have named it eth0)", async (t) => {
  const f = await fakeHost(t, 1, 'ap');
  const ctr = f.ctrs[0]!;
  const conf = macvtapConf(f.dir);
  const r = await runIn(f.host, 'macvtap', conf, { command: 'ADD', containerId: 'pct1', netns: ctr.path, ifname: 'eth%d' });
  t.like(oneDocument(t, r, 'ADD'), { code: 4, msg: 'interface name contains an invalid character' });
  await nothingLeft(t, f, ctr);
  const del = await runIn(f.host, 'macvtap', conf, { command: 'DEL', containerId: 'pct1', netns: ctr.path, ifname: 'eth%d' });
  t.deepEqual([del.exitCode, del.stdout], [0, '']);
});

rootTest('host-local reads a lease whole: one written with a 5000-character ID (as the reference writes any length) keeps its address and is released by GC', async (t) => {
  const dir = await tempDir(t);
  const [host] = await namespaces(t, 1, 'al');
  const ipam = { type: 'host-local', subnet: '10.74.0.0/24', dataDir: dir };
  const conf = { cniVersion: '1.1.0', name: 'alnet', ipam };
  await mkdir(join(dir, 'alnet'));
  const longId = 'r'.repeat(5000);
  await writeFile(join(dir, 'alnet', '10.74.0.2'), `${longId}\r\neth0`);
  // ADD skips the taken address (the file's owner is read whole, whatever its length).
  const add = await run(host!, 'host-local', conf, { command: 'ADD', containerId: 'short', netns: host!.path, args: 'IP=10.74.0.2' });
  t.like(oneDocument(t, add, 'ADD of the taken address'), { code: 111 });
  // Our ADD refuses an ID that long: no lease of ours can ever be one.
  const mine = await run(host!, 'host-local', conf, { command: 'ADD', containerId: 'm'.repeat(MAX_CONTAINER_ID + 1), netns: host!.path });
  t.like(oneDocument(t, mine, 'ADD with a long ID'), { code: 4 });
  t.deepEqual(await leaseFiles(dir, 'alnet'), ['10.74.0.2']);
  // GC with the long-ID attachment valid keeps it; without, releases it.
  const keep = { ...conf, 'cni.dev/valid-attachments': [{ containerID: longId, ifname: 'eth0' }] };
  t.is((await run(host!, 'host-local', keep, { command: 'GC' })).exitCode, 0);
  t.deepEqual(await leaseFiles(dir, 'alnet'), ['10.74.0.2']);
  t.is((await run(host!, 'host-local', { ...conf, 'cni.dev/valid-attachments': [] }, { command: 'GC' })).exitCode, 0);
  t.deepEqual(await leaseFiles(dir, 'alnet'), []);
});

rootTest('the longest container ID and interface name attach and detach through the port mapper, bridge, macvtap and dcos-l4lb', async (t) => {
  const id = 'L'.repeat(MAX_CONTAINER_ID);
  const ifname = 'e'.repeat(15);
  // bridge under the port mapper (rule tags, lease files).
  const [host, ctr] = await namespaces(t, 2, 'ax');
  const dir = await tempDir(t);
  const chain = uniq('AX-');
  const pm = {
    name: 'axnet',
    type: 'mesos-cni-port-mapper',
    chain,
    delegate: { cniVersion: '1.0.0', name: 'axnet', type: 'bridge', bridge: uniq('axb'), isGateway: true, ipMasq: true, ipam: { type: 'host-local', subnet: '10.75.0.0/24', dataDir: dir } },
    args: { 'org.apache.mesos': { network_info: { name: 'axnet', port_mappings: [{ host_port: 18081, container_port: 80 }] } } },
  };
  const add = await run(host!, 'mesos-cni-port-mapper', pm, { command: 'ADD', containerId: id, netns: ctr!.path, ifname });
  t.is(add.exitCode, 0, add.stdout + add.stderr);
  t.is((await natRulesWith(host!, `container_id: ${id}`)).length, 1, 'the DNAT rule, tagged with the whole ID');
  t.is((await natRulesWith(host!, 'mesos-cni bridge: CNI-')).length, 3, 'the masquerade rules, under the hashed tag');
  const del = await run(host!, 'mesos-cni-port-mapper', pm, { command: 'DEL', containerId: id, netns: ctr!.path, ifname });
  t.deepEqual([del.exitCode, del.stdout], [0, ''], del.stderr);
  t.deepEqual(await natRulesWith(host!, id), []);
  t.deepEqual(await natRulesWith(host!, 'mesos-cni bridge'), []);
  t.deepEqual(await leaseFiles(dir, 'axnet'), []);
  t.deepEqual(await links(ctr!), []);

  // macvtap (its host-route record is a file named after the attachment).
  const f = await fakeHost(t, 1, 'ay');
  const mv = macvtapConf(f.dir, { hostrouteif: 'mvhost' });
  const madd = await runIn(f.host, 'macvtap', mv, { command: 'ADD', containerId: id, netns: f.ctrs[0]!.path, ifname });
  t.is(madd.exitCode, 0, madd.stdout + madd.stderr);
  const mdel = await runIn(f.host, 'macvtap', mv, { command: 'DEL', containerId: id, netns: f.ctrs[0]!.path, ifname });
  t.is(mdel.exitCode, 0, mdel.stdout);
  await nothingLeft(t, f, f.ctrs[0]!);

  // dcos-l4lb (its checkpoint is a file named by the container ID).
  const l4dir = await tempDir(t);
  const l4 = {
    cniVersion: '0.3.1',
    name: 'axl4',
    type: 'dcos-l4lb',
    spartan: { dataDir: join(l4dir, 'spartan') },
    minuteman: { path: join(l4dir, 'mm') },
    delegate: { type: 'bridge', bridge: uniq('axl'), isGateway: true, ipam: { type: 'host-local', subnet: '10.76.0.0/24', dataDir: join(l4dir, 'ipam') } },
  };
  const [host2, ctr2] = await namespaces(t, 2, 'az');
  const ladd = await run(host2!, 'dcos-l4lb', l4, { command: 'ADD', containerId: id, netns: ctr2!.path, ifname });
  t.is(ladd.exitCode, 0, ladd.stdout + ladd.stderr);
  t.deepEqual(await readdir(join(l4dir, 'mm')), [id]);
  const ldel = await run(host2!, 'dcos-l4lb', l4, { command: 'DEL', containerId: id, netns: ctr2!.path, ifname });
  t.is(ldel.exitCode, 0, ldel.stdout);
  t.deepEqual(await readdir(join(l4dir, 'mm')), []);
  t.deepEqual(await links(ctr2!), []);
});

/** After an ADD and a DEL of one container ran concurrently: all of it there, or none of it. */
async function wholeOrNothing(t: ExecutionContext, host: TestNs, ctr: TestNs, dir: string, id: string, round: number): Promise<boolean> {
  const link = (await links(ctr)).includes('eth0');
  const dnat = (await natRulesWith(host, `container_id: ${id}`)).length > 0;
  const lease = (await leaseFiles(dir, 'acnet')).length > 0;
  t.true(link === dnat && dnat === lease, `round ${round}: eth0 ${link}, DNAT ${dnat}, lease ${lease}`);
  return link;
}

rootTest('ADD racing DEL of the same container in separate processes leaves all of the attachment or none of it (10 rounds)', async (t) => {
  const [host, ctr] = await namespaces(t, 2, 'ac');
  const dir = await tempDir(t);
  const pm = {
    name: 'acnet',
    type: 'mesos-cni-port-mapper',
    chain: uniq('AC-'),
    delegate: { cniVersion: '1.0.0', name: 'acnet', type: 'bridge', bridge: uniq('acb'), isGateway: true, ipMasq: true, ipam: { type: 'host-local', subnet: '10.77.0.0/24', dataDir: dir } },
    args: { 'org.apache.mesos': { network_info: { name: 'acnet', port_mappings: [{ host_port: 18082, container_port: 80 }] } } },
  };
  let attached = 0;
  for (let round = 0; round < 10; round++) {
    const id = uniq('race');
    const call = { containerId: id, netns: ctr!.path };
    const [a, d] = await Promise.all([run(host!, 'mesos-cni-port-mapper', pm, { command: 'ADD', ...call }), run(host!, 'mesos-cni-port-mapper', pm, { command: 'DEL', ...call })]);
    oneDocument(t, a, `round ${round} ADD`);
    oneDocument(t, d, `round ${round} DEL`);
    if (await wholeOrNothing(t, host!, ctr!, dir, id, round)) attached++;
    t.is((await run(host!, 'mesos-cni-port-mapper', pm, { command: 'DEL', ...call })).exitCode, 0);
    t.false(await wholeOrNothing(t, host!, ctr!, dir, id, round));
  }
  t.log(`${attached} of 10 rounds ended with the ADD last`);
});
