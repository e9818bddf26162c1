// readSmallFiles: host-local's bulk lease read. Regular files only, bounded reads, clear errors.
import test, { type ExecutionContext } from 'ava';
import { readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { native } from '../../../lib/native/index.js';

/** A directory with two leases, an empty and a 10 000-byte file, a subdirectory and a symlink, read with maxBytes 4096. */
async function readMixedDir(t: ExecutionContext) {
  const dir = await mkdtemp(join(tmpdir(), 'mcni-rsf-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, '10.0.0.2'), 'c1\r\neth0');
  await writeFile(join(dir, '10.0.0.3'), 'c2\r\neth1');
  await writeFile(join(dir, 'empty'), '');
  await writeFile(join(dir, 'big'), 'x'.repeat(10_000));
  await mkdir(join(dir, 'sub'));
  await symlink(join(dir, '10.0.0.2'), join(dir, 'link'));
  return (await native.readSmallFiles(dir, 4096)).sort((a, b) => a.name.localeCompare(b.name));
}

test('every regular file comes back, symlinks and directories skipped', async (t) => {
  const files = await readMixedDir(t);
  t.deepEqual(files.map((f) => f.name), ['10.0.0.2', '10.0.0.3', 'big', 'empty']);
});

test('each file comes back with its text, an empty one as empty text', async (t) => {
  const files = await readMixedDir(t);
  t.is(files[0]!.text, 'c1\r\neth0');
  t.is(files[3]!.text, '');
});

test('reads are bounded by maxBytes', async (t) => {
  const files = await readMixedDir(t);
  t.is(files[2]!.text.length, 4096);
});

test('a missing directory rejects with ENOENT naming it', async (t) => {
  const e = await t.throwsAsync(native.readSmallFiles('/nonexistent/mcni', 16));
  t.is((e as { code?: string }).code, 'ENOENT');
  t.regex(e!.message, /read directory \/nonexistent\/mcni/);
});

test('a bad maxBytes is refused', async (t) => {
  await t.throwsAsync(native.readSmallFiles('/tmp', 0), { message: /maxBytes/ });
});

/** A directory with a 9003-byte file ending in END and a small one. */
async function bigAndSmall(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mcni-rsf-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'big'), 'x'.repeat(9000) + 'END');
  await writeFile(join(dir, 'small'), 'tiny');
  return dir;
}

test('readSmallFiles reads every file under maxBytes whole', async (t) => {
  const dir = await bigAndSmall(t);
  const files = Object.fromEntries((await native.readSmallFiles(dir, 1 << 20)).map((f) => [f.name, f]));
  t.is(files.big!.text.length, 9003);
  t.true(files.big!.text.endsWith('END'));
  t.is(files.big!.truncated, undefined);
  t.is(files.small!.text, 'tiny');
});

test('readSmallFiles marks a file over maxBytes as cut', async (t) => {
  const dir = await bigAndSmall(t);
  const cut = (await native.readSmallFiles(dir, 100)).find((f) => f.name === 'big')!;
  t.is(cut.text.length, 100);
  t.true(cut.truncated);
});

test('a directory of 300 leases gives each file once, whole; links, directories and a cut file as in a small one', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'mcni-rsf-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const want = new Map<string, string>();
  for (let i = 0; i < 300; i++) want.set(`10.0.${i >> 8}.${i & 255}`, `container-${i}\r\neth${i % 3}`);
  await Promise.all([...want].map(([name, text]) => writeFile(join(dir, name), text)));
  await writeFile(join(dir, 'big'), 'y'.repeat(6000));
  await mkdir(join(dir, 'sub'));
  await symlink(join(dir, '10.0.0.7'), join(dir, 'link'));
  const files = await native.readSmallFiles(dir, 5000);
  t.is(files.length, 301);
  t.is(new Set(files.map((f) => f.name)).size, 301);
  for (const f of files) {
    if (f.name === 'big') {
      t.is(f.text.length, 5000);
      t.true(f.truncated);
    } else {
      t.is(f.text, want.get(f.name) ?? `(no file ${f.name} was written)`);
      t.is(f.truncated, undefined);
    }
  }
  t.deepEqual(files.map((f) => f.name).sort(), readdirSync(dir).filter((n) => n !== 'sub' && n !== 'link').sort());
});

test('with `containing`, only the files whose bytes hold that text, and every dot-named file', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'mcni-rsf-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  for (let i = 0; i < 50; i++) await writeFile(join(dir, `10.0.0.${i + 2}`), `container-${i}\r\neth0`);
  await writeFile(join(dir, '10.0.1.2'), 'container-7'); // the old format: the ID alone
  await writeFile(join(dir, '.tmp.99999.ab12'), 'partial');
  await writeFile(join(dir, 'big'), 'z'.repeat(200) + 'container-7'); // past maxBytes: not seen
  const files = (await native.readSmallFiles(dir, 100, 'container-7')).sort((a, b) => a.name.localeCompare(b.name));
  t.deepEqual(
    files.map((f) => [f.name, f.text]),
    [
      ['.tmp.99999.ab12', 'partial'],
      ['10.0.0.9', 'container-7\r\neth0'],
      ['10.0.1.2', 'container-7'],
    ],
  );
  t.deepEqual(await native.readSmallFiles(dir, 100, 'nobody'), [{ name: '.tmp.99999.ab12', text: 'partial' }]);
  await t.throwsAsync(native.readSmallFiles(dir, 100, 7 as unknown as string), { message: /containing must be a string/ });
});
