// Finding a program in PATH (lib/netns/exec.ts `which`): the first PATH directory holding an
// executable file of that name wins, then the system directories; a file without the execute bit
// is passed over; nothing found is ENOENT naming the directories; a name with a slash is refused.
import test from 'ava';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { which } from '../../../lib/netns/index.js';

async function dirs(t: { teardown: (f: () => Promise<void>) => void }, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(await mkdtemp(join(tmpdir(), 'mcni-which-')));
  t.teardown(async () => {
    for (const d of out) await rm(d, { recursive: true, force: true });
  });
  return out;
}

async function program(dir: string, name: string, mode = 0o755): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, '#!/bin/sh\n');
  await chmod(p, mode);
  return p;
}

test('the first PATH directory with an executable file of that name wins; one without the execute bit is passed over', async (t) => {
  const [a, b, c] = (await dirs(t, 3)) as [string, string, string];
  const name = `mcni-which-${process.pid}`;
  await program(a, name, 0o644);
  const inB = await program(b, name);
  await program(c, name);
  t.is(await which(name, ['relative/dir', a, b, c].join(':')), inB);
  t.is(await which(name, [c, b].join(':')), join(c, name));
});

test('the system directories come after PATH; an absolute name is taken as it is', async (t) => {
  const [a] = (await dirs(t, 1)) as [string];
  t.is(await which('sh', a), '/usr/bin/sh');
  t.is(await which('/no/such/program', a), '/no/such/program');
});

test('nothing found is ENOENT naming the directories searched; a name with a slash or a space is refused', async (t) => {
  const [a] = (await dirs(t, 1)) as [string];
  const e = await t.throwsAsync(which(`mcni-none-${process.pid}`, a));
  t.is((e as NodeJS.ErrnoException).code, 'ENOENT');
  t.regex(e!.message, /not found in PATH or \/usr\/local\/sbin:/);
  await t.throwsAsync(which('sub/prog', a), { message: /expected an absolute path or a bare program name/ });
  await t.throwsAsync(which('two words', a), { message: /expected an absolute path or a bare program name/ });
});
