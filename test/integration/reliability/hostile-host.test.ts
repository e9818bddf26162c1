// A host that works against the plugin: CNI_NETNS a FIFO (an open of it would block forever), a
// lock held by a process that never lets go, a lease store that cannot be created, stdout that
// cannot be written, stdin that cannot be read. Every case ends in one answer, within bounds.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { execPlugin } from '../../../lib/cni/invoke.js';
import { namespaces, rootTest, uniq } from '../../helpers/fixture.js';
import { ourBinDir, REFERENCE_DIR } from '../../helpers/cni.js';
import { launcherDir, startDaemon } from '../../helpers/daemon.js';
import { leaseFiles, links, natRulesWith, oneDocument, run } from '../../helpers/reliability.js';

async function tempDir(t: ExecutionContext): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'mcni-hh-'));
  t.teardown(() => rm(d, { recursive: true, force: true }));
  return d;
}

const bridgeConf = (dir: string, bridge: string) => ({
  cniVersion: '1.0.0',
  name: 'hhnet',
  type: 'bridge',
  bridge,
  isGateway: true,
  ipMasq: true,
  ipam: { type: 'host-local', subnet: '10.73.0.0/24', dataDir: dir },
});

/** Hold an flock on `path` from another process until the test ends. */
function holdLock(t: ExecutionContext, path: string): Promise<void> {
  const child = spawn('flock', [path, 'sleep', '30'], { stdio: 'ignore' });
  t.teardown(() => void child.kill('SIGKILL'));
  return new Promise((r) => setTimeout(r, 200)); // let it take the lock
}

rootTest('CNI_NETNS naming a FIFO is refused at once (code 4), never opened for reading', async (t) => {
  const [host] = await namespaces(t, 1, 'hf');
  const dir = await tempDir(t);
  const fifo = join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  const started = Date.now();
  const r = await run(host!, 'bridge', bridgeConf(dir, uniq('hfb')), { command: 'ADD', containerId: uniq('id'), netns: fifo });
  t.true(Date.now() - started < 5000);
  t.like(oneDocument(t, r, 'ADD'), { code: 4 });
  t.regex(r.stdout, /not a network namespace/);
  t.deepEqual(await leaseFiles(dir, 'hhnet'), []);
});

rootTest('through the daemon, FIFO namespaces (more than its threads) hold up no other request', async (t) => {
  const [host, ctr] = await namespaces(t, 2, 'hd');
  const dir = await tempDir(t);
  const fifo = join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  const d = await startDaemon(t, host!.name);
  const bin = await launcherDir(t, d.socket);
  const conf = bridgeConf(dir, uniq('hdb'));
  const bad = await Promise.all(
    Array.from({ length: 8 }, () => run(host!, 'bridge', conf, { command: 'ADD', containerId: uniq('id'), netns: fifo }, bin)),
  );
  for (const r of bad) t.like(oneDocument(t, r, 'ADD fifo'), { code: 4 });
  const id = uniq('ok');
  const good = await run(host!, 'bridge', conf, { command: 'ADD', containerId: id, netns: ctr!.path }, bin);
  t.is(good.exitCode, 0, good.stdout);
  t.is((await run(host!, 'bridge', conf, { command: 'DEL', containerId: id, netns: ctr!.path }, bin)).exitCode, 0);
});

rootTest("host-local's lease lock held elsewhere: ADD gives up after the timeout with code 11, nothing allocated", async (t) => {
  const [host, ctr] = await namespaces(t, 2, 'hl');
  const dir = await tempDir(t);
  const conf = bridgeConf(dir, uniq('hlb'));
  // The store exists (an earlier ADD and DEL), then someone holds its lock.
  const first = uniq('id');
  t.is((await run(host!, 'bridge', conf, { command: 'ADD', containerId: first, netns: ctr!.path })).exitCode, 0);
  t.is((await run(host!, 'bridge', conf, { command: 'DEL', containerId: first, netns: ctr!.path })).exitCode, 0);
  await holdLock(t, join(dir, 'hhnet', 'lock'));
  const started = Date.now();
  const r = await run(host!, 'bridge', conf, { command: 'ADD', containerId: uniq('id'), netns: ctr!.path, extraEnv: { MESOS_CNI_LOCK_TIMEOUT_MS: '400' } });
  const took = Date.now() - started;
  t.like(oneDocument(t, r, 'ADD'), { code: 11 });
  t.regex(r.stdout, /held by another process or request for more than 400 ms/);
  t.true(took >= 400 && took < 5000, `took ${took} ms`);
  t.deepEqual(await leaseFiles(dir, 'hhnet'), []);
  t.deepEqual(await links(ctr!), []);
  t.deepEqual(await natRulesWith(host!, 'mesos-cni bridge'), []);
});

rootTest('the iptables chain-creation lock held elsewhere: the port mapper gives up with code 11, nothing applied', async (t) => {
  const [host, ctr] = await namespaces(t, 2, 'hc');
  const dir = await tempDir(t);
  // A lock of our own, not the machine's (/run/mesos-cni/...): the path is a knob for exactly this.
  const lock = join(dir, 'create.lock');
  await holdLock(t, lock);
  const chain = uniq('HC-');
  const conf = {
    name: 'hcnet',
    type: 'mesos-cni-port-mapper',
    chain,
    delegate: bridgeConf(dir, uniq('hcb')),
    args: { 'org.apache.mesos': { network_info: { name: 'hcnet', port_mappings: [{ host_port: 18080, container_port: 80 }] } } },
  };
  const r = await run(host!, 'mesos-cni-port-mapper', conf, {
    command: 'ADD',
    containerId: uniq('id'),
    netns: ctr!.path,
    extraEnv: { MESOS_CNI_LOCK_TIMEOUT_MS: '300', MESOS_CNI_IPTABLES_CREATE_LOCK: lock },
  });
  t.like(oneDocument(t, r, 'ADD'), { code: 11 });
  t.deepEqual(await natRulesWith(host!, chain), []);
  t.deepEqual(await links(ctr!), []);
  t.deepEqual(await leaseFiles(dir, 'hhnet'), []);
});

rootTest('DEL succeeds when the lease store cannot even be created (nothing was ever allocated)', async (t) => {
  const [host, ctr] = await namespaces(t, 2, 'hs');
  const dir = await tempDir(t);
  await writeFile(join(dir, 'file'), '');
  const conf = bridgeConf(join(dir, 'file', 'under-a-file'), uniq('hsb'));
  for (const netns of [ctr!.path, undefined]) {
    const r = await run(host!, 'bridge', conf, { command: 'DEL', containerId: uniq('id'), netns });
    t.deepEqual([r.exitCode, r.stdout], [0, ''], r.stdout + r.stderr);
  }
  const ipam = await run(host!, 'host-local', { cniVersion: '1.0.0', name: 'hhnet', ipam: conf.ipam }, { command: 'DEL', containerId: uniq('id') });
  t.deepEqual([ipam.exitCode, ipam.stdout], [0, '']);
});

rootTest('stdout that cannot be written: exit 1 and a message on stderr, no stack trace', async (t) => {
  const bin = await ourBinDir();
  const env = { PATH: process.env.PATH!, CNI_COMMAND: 'VERSION' };
  const r = await execPlugin('/bin/sh', env, '', ['-c', `exec ${join(bin, 'bridge')} > /dev/full`]);
  t.is(r.exitCode, 1);
  t.regex(r.stderr, /bridge: cannot write the answer to stdout: ENOSPC/);
  t.regex(r.stderr, /supportedVersions/);
  t.notRegex(r.stderr, /\n\s+at /);
});

rootTest('stdin that cannot be read: one error document (code 5; the port mapper: 100)', async (t) => {
  const bin = await ourBinDir();
  const env = { PATH: process.env.PATH!, CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', CNI_NETNS: '/proc/self/ns/net', CNI_IFNAME: 'eth0', CNI_PATH: `${bin}:${REFERENCE_DIR}` };
  for (const [type, code] of [
    ['bridge', 5],
    ['mesos-cni-port-mapper', 100],
  ] as const) {
    // A directory as stdin: every read of it fails with EISDIR.
    const r = await execPlugin('/bin/sh', env, '', ['-c', `exec ${join(bin, type)} < /`]);
    t.like(oneDocument(t, r, type), { code, msg: 'failed to read the network configuration from stdin' });
  }
});
