// Input that ADD refuses (an over-long container ID, a network name no tag can hold, an interface
// name the kernel would expand): ADD answers with one error document and leaves nothing; DEL
// succeeds (nothing of it can exist); neither crashes a plugin nor, through the daemon, the daemon.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { namespaces, nsExec, rootTest, uniq, type TestNs } from '../../helpers/fixture.js';
import { launcherDir, startDaemon } from '../../helpers/daemon.js';
import { leaseFiles, links, natRulesWith, oneDocument, run } from '../../helpers/reliability.js';

async function tempDir(t: ExecutionContext): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'mcni-rel-'));
  t.teardown(() => rm(d, { recursive: true, force: true }));
  return d;
}

const bridgeConf = (dir: string, bridge: string, name: string) => ({
  cniVersion: '1.0.0',
  name,
  type: 'bridge',
  bridge,
  isGateway: true,
  ipMasq: true,
  ipam: { type: 'host-local', subnet: '10.71.0.0/24', dataDir: dir },
});

const refused: [string, { id?: string; name?: string; ifname?: string }][] = [
  ['a container ID of 242 characters', { id: 'c'.repeat(242) }],
  ['a container ID of 5000 characters', { id: 'c'.repeat(5000) }],
  ['a network name holding a quote', { name: 'net"x' }],
  ['a network name holding a backslash', { name: 'net\\x' }],
  ['a network name holding a newline', { name: 'net\nx' }],
  ["an interface name with '%d'", { ifname: 'eth%d' }],
];

async function nothingLeft(t: ExecutionContext, host: TestNs, ctr: TestNs, dir: string, name: string, what: string) {
  t.deepEqual(await links(ctr), [], `${what}: container links`);
  t.deepEqual((await links(host)).filter((l) => l.startsWith('veth')), [], `${what}: host veths`);
  t.deepEqual(await natRulesWith(host, 'mesos-cni bridge'), [], `${what}: masquerade rules`);
  t.deepEqual(await leaseFiles(dir, name), [], `${what}: leases`);
}

async function refusedThenDeleted(t: ExecutionContext, host: TestNs, ctr: TestNs, bin?: string) {
  const dir = await tempDir(t);
  const bridge = uniq('rib');
  for (const [what, input] of refused) {
    const conf = bridgeConf(dir, bridge, input.name ?? 'relnet');
    const call = { containerId: input.id ?? uniq('id'), netns: ctr.path, ...(input.ifname ? { ifname: input.ifname } : {}) };
    const add = await run(host, 'bridge', conf, { command: 'ADD', ...call }, bin);
    t.is(add.exitCode, 1, `${what}: ADD refused`);
    oneDocument(t, add, `${what}: ADD`);
    await nothingLeft(t, host, ctr, dir, conf.name, what);
    for (const netns of [ctr.path, undefined]) {
      const del = await run(host, 'bridge', conf, { command: 'DEL', ...call, netns }, bin);
      t.deepEqual([del.exitCode, del.stdout], [0, ''], `${what}: DEL ${netns ? 'with' : 'without'} netns: ${del.stdout}${del.stderr}`);
      oneDocument(t, del, `${what}: DEL`);
    }
  }
  // And the plugin (or daemon) still does its work.
  const conf = bridgeConf(dir, bridge, 'relnet');
  const id = uniq('ok');
  t.is((await run(host, 'bridge', conf, { command: 'ADD', containerId: id, netns: ctr.path }, bin)).exitCode, 0);
  t.is((await run(host, 'bridge', conf, { command: 'DEL', containerId: id, netns: ctr.path }, bin)).exitCode, 0);
  await nothingLeft(t, host, ctr, dir, 'relnet', 'after a good ADD and DEL');
}

rootTest('standalone bridge: refused input is one error on ADD, success on DEL, nothing left', async (t) => {
  const [host, ctr] = await namespaces(t, 2, 'ri');
  await refusedThenDeleted(t, host!, ctr!);
});

rootTest('through the daemon: refused input never takes the daemon down', async (t) => {
  // The daemon works in the namespace it runs in: the fake host of the calls.
  const [host, ctr] = await namespaces(t, 2, 'rd');
  const d = await startDaemon(t, host!.name);
  const bin = await launcherDir(t, d.socket);
  await refusedThenDeleted(t, host!, ctr!, bin);
  t.is(d.child.exitCode, null, 'the daemon is still running');
  t.notRegex(await d.logText(), /unhandled rejection|uncaught exception/);
});

rootTest('a network name and container ID too long for a readable tag get masquerade rules under a hashed tag, removed on DEL', async (t) => {
  const [host, ctr] = await namespaces(t, 2, 'rh');
  const dir = await tempDir(t);
  const conf = bridgeConf(dir, uniq('rhb'), 'n'.repeat(60));
  const id = 'x'.repeat(200); // the readable tag would be 283 characters
  const add = await run(host!, 'bridge', conf, { command: 'ADD', containerId: id, netns: ctr!.path });
  t.is(add.exitCode, 0, add.stdout + add.stderr);
  const rules = await natRulesWith(host!, 'mesos-cni bridge: CNI-');
  t.is(rules.length, 3, rules.join('\n'));
  const del = await run(host!, 'bridge', conf, { command: 'DEL', containerId: id, netns: ctr!.path });
  t.deepEqual([del.exitCode, del.stdout], [0, '']);
  t.deepEqual(await natRulesWith(host!, 'mesos-cni bridge'), []);
  t.deepEqual(await links(ctr!), []);
});

rootTest('a daemon goes on after an unhandled rejection and an uncaught exception in its process', async (t) => {
  const [host, ctr] = await namespaces(t, 2, 'rx');
  // Both fire once the daemon is up (2 s is ample, even on a loaded machine), outside any request:
  // without isolation either ends it.
  const inject = 'setTimeout(()=>{Promise.reject(new Error("stray rejection"));setTimeout(()=>{throw new Error("stray exception")},50)},2000)';
  const d = await startDaemon(t, host!.name, undefined, { NODE_OPTIONS: `--import=data:text/javascript,${encodeURIComponent(inject)}` });
  const bin = await launcherDir(t, d.socket);
  for (let i = 0; i < 100 && !/stray exception/.test(await d.logText()); i++) await new Promise((r) => setTimeout(r, 50));
  t.is(d.child.exitCode, null, 'still running');
  const log = await d.logText();
  t.regex(log, /stray rejection/);
  t.regex(log, /stray exception/);
  const dir = await tempDir(t);
  const conf = bridgeConf(dir, uniq('rxb'), 'relnet');
  const id = uniq('ok');
  const add = await run(host!, 'bridge', conf, { command: 'ADD', containerId: id, netns: ctr!.path }, bin);
  t.is(add.exitCode, 0, add.stdout + add.stderr);
  t.regex(await d.logText(), new RegExp(`"containerId":"${id}"[^\n]*"served"`));
  t.is((await run(host!, 'bridge', conf, { command: 'DEL', containerId: id, netns: ctr!.path }, bin)).exitCode, 0);
  await nsExec(host!, ['true']);
});
