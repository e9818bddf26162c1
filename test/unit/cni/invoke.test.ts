// The delegator over fakes (no executables on disk): how a delegate is found, what environment and
// stdin it gets, how its answer is read, when ours runs in-process, and DEL's releaseAfter.
import test from 'ava';
import { CniError } from '../../../lib/cni/errors.js';
import { createDelegator, ownPluginType, type ExecResult, type InProcess, type PluginExec } from '../../../lib/cni/invoke.js';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEnv } from '../../../lib/cni/env.js';

interface Seen {
  file: string;
  env: Record<string, string>;
  stdin: string;
}

function fakeExec(answers: Record<string, ExecResult>, ours: Record<string, string> = {}): PluginExec & { seen: Seen[] } {
  const seen: Seen[] = [];
  return {
    seen,
    async find(type, path) {
      if (!(type in answers)) throw new CniError(7, `failed to find plugin "${type}" in path [${path.join(' ')}]`);
      return `/fake/${type}`;
    },
    async exec(file, env, stdin) {
      seen.push({ file, env, stdin });
      return answers[file.slice('/fake/'.length)]!;
    },
    async ownType(file) {
      return ours[file];
    },
  };
}

const env = (command = 'ADD') => parseEnv({ CNI_COMMAND: command, CNI_CONTAINERID: 'c1', CNI_NETNS: '/x', CNI_IFNAME: 'eth0', CNI_PATH: '/a:/b', CNI_ARGS: 'IP=10.0.0.9' });

/** One ADD through an exec-ed delegate `ipam`, with a base environment holding a stale CNI_COMMAND. */
async function execedAdd() {
  const x = fakeExec({ ipam: { stdout: '{"cniVersion":"1.0.0","ips":[{"address":"10.0.0.9/24"}]}', stderr: '', exitCode: 0 } });
  const d = createDelegator(env(), { exec: x, baseEnv: { PATH: '/usr/bin', CNI_COMMAND: 'stale', OTHER: 'kept' } });
  const r = await d.add({ type: 'ipam', name: 'n' });
  return { x, r };
}

test('an exec-ed delegate gets the CNI environment: ours replaced, the rest passed', async (t) => {
  const { x } = await execedAdd();
  t.deepEqual(x.seen[0]!.env, { PATH: '/usr/bin', OTHER: 'kept', CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', CNI_IFNAME: 'eth0', CNI_PATH: '/a:/b', CNI_NETNS: '/x', CNI_ARGS: 'IP=10.0.0.9', MESOS_CNI_DELEGATION_DEPTH: '1' });
});

test('an exec-ed delegate gets the config on stdin', async (t) => {
  const { x } = await execedAdd();
  t.deepEqual(JSON.parse(x.seen[0]!.stdin), { type: 'ipam', name: 'n' });
});

test("an exec-ed delegate's result is parsed", async (t) => {
  const { r } = await execedAdd();
  t.like(r, { cniVersion: '1.0.0', ips: [{ address: '10.0.0.9/24' }] });
});

test("a delegate's error document becomes a CniError with its code, msg and details", async (t) => {
  const x = fakeExec({ bad: { stdout: '{"code":11,"msg":"try later","details":"busy"}', stderr: '', exitCode: 1 } });
  const e = await t.throwsAsync(createDelegator(env(), { exec: x }).add({ type: 'bad' }));
  t.like(e, { code: 11, msg: 'try later', details: 'busy' });
});

test('a delegate that fails without a document: code 100 naming it, with its output', async (t) => {
  const x = fakeExec({ crash: { stdout: '', stderr: 'segfault', exitCode: 139 } });
  const e = await t.throwsAsync(createDelegator(env(), { exec: x }).add({ type: 'crash' }));
  t.like(e, { code: 100, msg: 'plugin /fake/crash failed (exit status 139)', details: 'segfault' });
});

test('a delegate of ours runs in-process when the creator gave a runner, with the same environment', async (t) => {
  const x = fakeExec({ mine: { stdout: 'never', stderr: '', exitCode: 0 } }, { '/fake/mine': 'mine' });
  const got: Record<string, string | undefined>[] = [];
  const inProcess: InProcess = async (type) =>
    type === 'mine' ? async (e) => (got.push(e), { stdout: '{"cniVersion":"1.0.0","ips":[]}', exitCode: 0 }) : undefined;
  await createDelegator(env(), { exec: x, inProcess, baseEnv: {} }).add({ type: 'mine' });
  t.deepEqual(x.seen, [], 'nothing exec-ed');
  t.is(got[0]!.CNI_CONTAINERID, 'c1');
  t.is(got[0]!.CNI_COMMAND, 'ADD');
});

const oursAnswer = { stdout: '{"cniVersion":"1.0.0"}', stderr: '', exitCode: 0 };

test('without a runner, ours is exec-ed', async (t) => {
  const x = fakeExec({ mine: oursAnswer }, { '/fake/mine': 'mine' });
  await createDelegator(env(), { exec: x }).add({ type: 'mine' });
  t.is(x.seen.length, 1);
});

test('with MESOS_CNI_INPROCESS=0, ours is exec-ed even when the creator gave a runner', async (t) => {
  const x = fakeExec({ mine: oursAnswer }, { '/fake/mine': 'mine' });
  const inProcess: InProcess = async () => async () => ({ stdout: '', exitCode: 0 });
  await createDelegator(env(), { exec: x, inProcess, baseEnv: { MESOS_CNI_INPROCESS: '0' } }).add({ type: 'mine' });
  t.is(x.seen.length, 1);
});

test('an executable whose marker names another type is exec-ed, not run as that type', async (t) => {
  const x = fakeExec({ alias: { stdout: '{"cniVersion":"1.0.0"}', stderr: '', exitCode: 0 } }, { '/fake/alias': 'bridge' });
  let asked = 0;
  await createDelegator(env(), { exec: x, inProcess: async () => (asked++, undefined) }).add({ type: 'alias' });
  t.is(asked, 0);
  t.is(x.seen.length, 1);
});

test('DEL: an exec-ed delegate starts only once releaseAfter settled', async (t) => {
  const x = fakeExec({ ipam: { stdout: '', stderr: '', exitCode: 0 } });
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const del = createDelegator(env('DEL'), { exec: x }).del({ type: 'ipam' }, { releaseAfter: gate });
  await new Promise((r) => setTimeout(r, 20));
  t.is(x.seen.length, 0);
  release();
  await del;
  t.is(x.seen.length, 1);
});

test('DEL: a rejected releaseAfter fails the DEL before the delegate runs', async (t) => {
  const x = fakeExec({ ipam: { stdout: '', stderr: '', exitCode: 0 } });
  const failed = createDelegator(env('DEL'), { exec: x }).del({ type: 'ipam' }, { releaseAfter: Promise.reject(new Error('rules still there')) });
  await t.throwsAsync(failed, { message: 'rules still there' });
  t.is(x.seen.length, 0);
});

test('ADD of a delegate that printed nothing is a decode failure naming it', async (t) => {
  const x = fakeExec({ quiet: { stdout: '', stderr: '', exitCode: 0 } });
  await t.throwsAsync(createDelegator(env(), { exec: x }).add({ type: 'quiet' }), { message: 'delegate quiet ADD printed no result' });
});

test("an exec-ed delegate's stderr is relayed (the spec's rule), success or failure; stdout stays its document", async (t) => {
  const x = fakeExec({ loud: { stdout: '{"cniVersion":"1.0.0","ips":[]}', stderr: 'warning: something', exitCode: 0 }, quiet: { stdout: '', stderr: '', exitCode: 0 } });
  const relayed: string[] = [];
  const d = createDelegator(env(), { exec: x, stderr: (s) => relayed.push(s) });
  t.like(await d.add({ type: 'loud' }), { cniVersion: '1.0.0' });
  await d.del({ type: 'quiet' });
  t.deepEqual(relayed, ['warning: something\n']);
});

test('speaks: the delegate is asked VERSION once per type; a delegate that cannot answer speaks nothing', async (t) => {
  const x = fakeExec({ new: { stdout: '{"cniVersion":"1.1.0","supportedVersions":["1.0.0","1.1.0"]}', stderr: '', exitCode: 0 }, old: { stdout: '{"cniVersion":"1.1.0","supportedVersions":["0.4.0","1.0.0"]}', stderr: '', exitCode: 0 }, broken: { stdout: 'garbage', stderr: '', exitCode: 1 } });
  const d = createDelegator(env('GC'), { exec: x });
  t.true(await d.speaks('new', '1.1.0'));
  t.true(await d.speaks('new', '1.0.0'));
  t.false(await d.speaks('old', '1.1.0'));
  t.false(await d.speaks('broken', '1.1.0'));
  t.false(await d.speaks('missing', '1.1.0'));
  t.is(x.seen.filter((s) => s.file === '/fake/new').length, 1);
  t.is(x.seen[0]!.env.CNI_COMMAND, 'VERSION');
});

test('a delegate executable that is not a regular file (a FIFO in CNI_PATH) is "not ours" at once, never a blocked read', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'invoke-fifo-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const fifo = join(dir, 'bridge');
  execFileSync('mkfifo', [fifo]);
  const t0 = performance.now();
  t.is(await ownPluginType(fifo), undefined);
  t.true(performance.now() - t0 < 1000);
  const ours = join(dir, 'ours');
  writeFileSync(ours, '#!/usr/bin/env node\n// mesos-cni-plugin: host-local\n', { mode: 0o755 });
  t.is(await ownPluginType(ours), 'host-local');
});

test('a marker read once is not trusted past a change: a file replaced (rename) or rewritten is read again', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'invoke-mark-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'bridge');
  writeFileSync(file, '#!/usr/bin/env node\n// mesos-cni-plugin: bridge\n', { mode: 0o755 });
  t.is(await ownPluginType(file), 'bridge');
  t.is(await ownPluginType(file), 'bridge');
  // An installer's way: a new file renamed over the old one (another inode).
  writeFileSync(join(dir, '.new'), '#!/bin/sh\nexec /usr/lib/cni/bridge "$@"\n', { mode: 0o755 });
  renameSync(join(dir, '.new'), file);
  t.is(await ownPluginType(file), undefined);
  // Rewritten in place (the same inode), then replaced by a FIFO, then gone.
  writeFileSync(file, '#!/usr/bin/env node\n// mesos-cni-plugin: host-local\n');
  t.is(await ownPluginType(file), 'host-local');
  rmSync(file);
  execFileSync('mkfifo', [file]);
  t.is(await ownPluginType(file), undefined);
  rmSync(file);
  await t.throwsAsync(ownPluginType(file), { code: 'ENOENT' });
});

test('runsInProcess: only an executable of ours, with a runner and in-process allowed, runs here', async (t) => {
  const answer = { stdout: '', stderr: '', exitCode: 0 };
  const x = fakeExec({ mine: answer, alias: answer, theirs: answer }, { '/fake/mine': 'mine', '/fake/alias': 'mine' });
  const inProcess: InProcess = async (type) => (type === 'mine' ? async () => ({ stdout: '', exitCode: 0 }) : undefined);
  const d = createDelegator(env('DEL'), { exec: x, inProcess, baseEnv: {} });
  t.true(await d.runsInProcess('mine'));
  t.false(await d.runsInProcess('theirs'), 'not ours');
  t.false(await d.runsInProcess('alias'), 'ours under another name runs as the executable it is');
  t.false(await d.runsInProcess('absent'), 'not found');
  t.false(await createDelegator(env('DEL'), { exec: x, baseEnv: {} }).runsInProcess('mine'), 'no runner');
  t.false(await createDelegator(env('DEL'), { exec: x, inProcess, baseEnv: { MESOS_CNI_INPROCESS: '0' } }).runsInProcess('mine'), 'in-process turned off');
  t.deepEqual(x.seen, [], 'nothing was run');
});

test('onAddresses reaches an in-process delegate of ours on ADD only, and its undo comes back to it', async (t) => {
  const answer = { stdout: '', stderr: '', exitCode: 0 };
  const x = fakeExec({ mine: answer }, { '/fake/mine': 'mine' });
  const got: string[] = [];
  const inProcess: InProcess = async () => async (e, _stdin, o) => {
    const undo = o.onAddresses?.(['10.1.0.5/24']);
    got.push(`${e.CNI_COMMAND} ${o.onAddresses ? 'hook' : 'none'} ${undo ? await undo() : '-'}`);
    return { stdout: e.CNI_COMMAND === 'ADD' ? '{"cniVersion":"1.1.0","ips":[{"address":"10.1.0.5/24"}]}' : '', exitCode: 0 };
  };
  const said: string[][] = [];
  const onAddresses = (a: readonly string[]) => (said.push([...a]), async () => 'undone');
  await createDelegator(env(), { exec: x, inProcess, baseEnv: {} }).add({ type: 'mine' }, { onAddresses });
  await createDelegator(env('DEL'), { exec: x, inProcess, baseEnv: {} }).del({ type: 'mine' }, { onAddresses });
  t.deepEqual(got, ['ADD hook undone', 'DEL none -']);
  t.deepEqual(said, [['10.1.0.5/24']]);
  t.deepEqual(x.seen, [], 'nothing was exec-ed');
});
