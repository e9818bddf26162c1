// How a plugin process ends: at once once its answer is written (stdio.ts's exitWhenDone, native
// _exit), never before every byte is out, and through Node's own exit when something asked to run
// then. The children are real processes (node, and python3 for a non-blocking pipe).
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { callPlugin, ourBinDir } from '../../helpers/cni.js';

const stdioModule = new URL('../../../lib/cni/stdio.js', import.meta.url).pathname;

function scratch(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'mcni-stdio-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('an exec’d plugin ends right after its answer: Node’s beforeExit never comes; the answer and the status are whole', async (t) => {
  const dir = scratch(t);
  const preload = join(dir, 'preload.cjs');
  writeFileSync(preload, "process.on('beforeExit', () => require('node:fs').writeSync(2, 'NODE-EXIT\\n'));\n");
  const file = join(await ourBinDir(), 'bridge');
  const env = { NODE_OPTIONS: `--require ${preload}` };
  const v = await callPlugin(file, { cniVersion: '1.0.0' }, { command: 'VERSION', extraEnv: env });
  t.is(v.exitCode, 0);
  t.deepEqual(JSON.parse(v.stdout).cniVersion, '1.0.0');
  t.false(v.stderr.includes('NODE-EXIT'), v.stderr);
  // An error answer: status 1, the whole document.
  const bad = await callPlugin(file, { cniVersion: '1.0.0', name: 'x', type: 'bridge', mtu: 'big' }, { command: 'ADD', containerId: 'stdio1', netns: '/nonexistent', extraEnv: env });
  t.is(bad.exitCode, 1);
  t.regex(JSON.parse(bad.stdout).msg, /mtu/);
  t.false(bad.stderr.includes('NODE-EXIT'), bad.stderr);
});

test('with an exit listener registered (a preload, a tracer), the plugin ends through Node’s exit and the listener runs', async (t) => {
  const dir = scratch(t);
  const preload = join(dir, 'preload.cjs');
  writeFileSync(preload, "const fs = require('node:fs');\nprocess.on('beforeExit', () => fs.writeSync(2, 'NODE-EXIT\\n'));\nprocess.on('exit', (c) => fs.writeSync(2, 'EXIT-LISTENER ' + c + '\\n'));\n");
  const r = await callPlugin(join(await ourBinDir(), 'bridge'), { cniVersion: '1.0.0' }, { command: 'VERSION', extraEnv: { NODE_OPTIONS: `--require ${preload}` } });
  t.is(r.exitCode, 0);
  t.true(r.stderr.includes('NODE-EXIT'), r.stderr);
  t.true(r.stderr.includes('EXIT-LISTENER 0'), r.stderr);
});

test('run with --cpu-prof, a plugin ends through Node’s exit, which writes the profile', async (t) => {
  const dir = scratch(t);
  const entry = new URL('../../../bin/bridge.cjs', import.meta.url).pathname;
  const r = spawnSync(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, entry], { input: '{"cniVersion":"1.0.0"}', env: { PATH: process.env.PATH, CNI_COMMAND: 'VERSION' }, encoding: 'utf8' });
  t.is(r.status, 0, r.stderr);
  t.is(readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).length, 1);
});

// A node child writes 4 MiB through writeAll into a pipe whose write end is non-blocking (python3
// makes it so) and which is read only after a pause: writeSync meets EAGAIN, the rest is queued in
// process.stdout, and exitWhenDone must then leave the ending to Node, which drains it first.
const pythonParent = (child: string, status: number) => `
import os, subprocess, sys, time
r, w = os.pipe()
os.set_blocking(w, False)
p = subprocess.Popen([${JSON.stringify(process.execPath)}, ${JSON.stringify(child)}], stdout=w)
os.close(w)
time.sleep(0.3)
got = 0
while True:
    b = os.read(r, 1 << 16)
    if not b: break
    got += len(b)
code = p.wait()
print(got, code)
sys.exit(0 if code == ${status} else 3)
`;

test('an answer queued behind a full non-blocking pipe is written whole before the process ends', (t) => {
  const dir = scratch(t);
  const child = join(dir, 'child.mjs');
  const n = 4 << 20;
  writeFileSync(child, `import { writeAll, exitWhenDone } from ${JSON.stringify(stdioModule)};\nwriteAll(1, 'x'.repeat(${n}));\nexitWhenDone(7);\n`);
  const r = spawnSync('python3', ['-c', pythonParent(child, 7)], { encoding: 'utf8' });
  t.is(r.status, 0, r.stdout + r.stderr);
  t.is(r.stdout.trim(), `${n} 7`);
  // The same child ending with the native exit right after writeAll loses what was queued: the
  // case exitWhenDone guards against is real here.
  writeFileSync(child, `import { writeAll } from ${JSON.stringify(stdioModule)};\nimport { native } from ${JSON.stringify(new URL('../../../lib/native/index.js', import.meta.url).pathname)};\nwriteAll(1, 'x'.repeat(${n}));\nnative.exitNow(7);\n`);
  const lost = spawnSync('python3', ['-c', pythonParent(child, 7)], { encoding: 'utf8' });
  t.is(lost.status, 0, lost.stdout + lost.stderr);
  t.true(Number(lost.stdout.trim().split(' ')[0]) < n, lost.stdout);
});

test('exitNow refuses a status outside 0..255 instead of truncating it', async (t) => {
  const { native } = await import('../../../lib/native/index.js');
  t.throws(() => native.exitNow(256), { instanceOf: RangeError, message: /0\.\.255/ });
  t.throws(() => native.exitNow(-1), { instanceOf: RangeError });
});
