// Files that appear whole (lib/fs/atomic.ts): exclusive creation with content, replacement, and the
// temporary files a killed writer leaves, tidied by pid.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createWholeSync, sweepTemps, sweepTempsSync, writeAtomic } from '../../../lib/fs/atomic.js';

async function dir(t: { teardown: (f: () => Promise<void>) => void }): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'mcni-atomic-'));
  t.teardown(() => rm(d, { recursive: true, force: true }));
  return d;
}

/** A pid that is certainly gone: a child that has exited and been reaped. */
function deadPid(): number {
  return spawnSync('true').pid!;
}

test('createWholeSync makes the file with its content and leaves no temporary file', async (t) => {
  const d = await dir(t);
  t.true(createWholeSync(join(d, '10.0.0.2'), 'c1\r\neth0'));
  t.is(await readFile(join(d, '10.0.0.2'), 'utf8'), 'c1\r\neth0');
  t.deepEqual(await readdir(d), ['10.0.0.2']);
});

test('createWholeSync refuses a taken name without touching it', async (t) => {
  const d = await dir(t);
  await writeFile(join(d, 'x'), 'theirs');
  t.false(createWholeSync(join(d, 'x'), 'mine'));
  t.is(await readFile(join(d, 'x'), 'utf8'), 'theirs');
  t.deepEqual(await readdir(d), ['x']);
});

test('writeAtomic replaces the file whole and leaves no temporary file', async (t) => {
  const d = await dir(t);
  await writeFile(join(d, 'rec'), 'old');
  await writeAtomic(join(d, 'rec'), 'new');
  t.is(await readFile(join(d, 'rec'), 'utf8'), 'new');
  t.deepEqual(await readdir(d), ['rec']);
});

test('sweepTemps removes temporary files of writers that are gone, and only those', async (t) => {
  const d = await dir(t);
  const gone = `.tmp.${deadPid()}.abcd`;
  const alive = `.tmp.${process.pid}.beef`;
  const parent = `.tmp.${process.ppid}.cafe`;
  for (const n of [gone, alive, parent, 'lease', '.other']) await writeFile(join(d, n), '');
  t.is(await sweepTemps(d), 1);
  t.deepEqual((await readdir(d)).sort(), [alive, parent, '.other', 'lease'].sort());
  await writeFile(join(d, gone), '');
  t.is(sweepTempsSync(d, await readdir(d)), 1);
});
