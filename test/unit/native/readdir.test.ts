// readSmallFiles: host-local's bulk lease read. Regular files only, bounded reads, clear errors.
import test from 'ava';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { native } from '../../../lib/native/index.js';

test('every regular file with its text; symlinks and directories skipped; reads bounded by maxBytes', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'mcni-rsf-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, '10.0.0.2'), 'c1\r\neth0');
  await writeFile(join(dir, '10.0.0.3'), 'c2\r\neth1');
  await writeFile(join(dir, 'empty'), '');
  await writeFile(join(dir, 'big'), 'x'.repeat(10_000));
  await mkdir(join(dir, 'sub'));
  await symlink(join(dir, '10.0.0.2'), join(dir, 'link'));
  const files = (await native.readSmallFiles(dir, 4096)).sort((a, b) => a.name.localeCompare(b.name));
  t.deepEqual(files.map((f) => f.name), ['10.0.0.2', '10.0.0.3', 'big', 'empty']);
  t.is(files[0]!.text, 'c1\r\neth0');
  t.is(files[2]!.text.length, 4096);
  t.is(files[3]!.text, '');
});

test('a missing directory rejects with ENOENT naming it; a bad bound is refused', async (t) => {
  const e = await t.throwsAsync(native.readSmallFiles('/nonexistent/mcni', 16));
  t.is((e as { code?: string }).code, 'ENOENT');
  t.regex(e!.message, /read directory \/nonexistent\/mcni/);
  await t.throwsAsync(native.readSmallFiles('/tmp', 0), { message: /maxBytes/ });
});

test('readSmallFiles reads every file whole, and marks one over maxBytes as cut', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'mcni-rsf-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'big'), 'x'.repeat(9000) + 'END');
  await writeFile(join(dir, 'small'), 'tiny');
  const files = Object.fromEntries((await native.readSmallFiles(dir, 1 << 20)).map((f) => [f.name, f]));
  t.is(files.big!.text.length, 9003);
  t.true(files.big!.text.endsWith('END'));
  t.is(files.big!.truncated, undefined);
  t.is(files.small!.text, 'tiny');
  const cut = (await native.readSmallFiles(dir, 100)).find((f) => f.name === 'big')!;
  t.is(cut.text.length, 100);
  t.true(cut.truncated);
});
