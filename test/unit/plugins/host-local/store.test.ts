// host-local's lease store on disk: the files a reservation leaves, in the reference's format.
import test from 'ava';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LeaseStore } from '../../../../lib/plugins/host-local/store.js';

async function store(t: { teardown: (fn: () => Promise<void>) => void }): Promise<LeaseStore> {
  const root = await mkdtemp(join(tmpdir(), 'mcni-store-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  return LeaseStore.open(root, 'net');
}

test('a reservation writes the lease exclusively and the range cursor; a taken address is refused', async (t) => {
  const s = await store(t);
  t.true(await s.reserve('10.1.0.2', 'ctr1 ', 'eth0', 0));
  t.false(await s.reserve('10.1.0.2', 'ctr2', 'eth0', 0));
  t.deepEqual((await readdir(s.dir)).sort(), ['10.1.0.2', 'last_reserved_ip.0', 'lock']);
  t.is(await readFile(join(s.dir, '10.1.0.2'), 'utf8'), 'ctr1\r\neth0');
  t.is(await readFile(join(s.dir, 'last_reserved_ip.0'), 'utf8'), '10.1.0.2');
  t.is((await stat(join(s.dir, 'last_reserved_ip.0'))).mode & 0o777, 0o644 & ~process.umask());
});

test('the cursor is rewritten in place and cut to the new address: a shorter one leaves nothing of the longer', async (t) => {
  const s = await store(t);
  const cursor = join(s.dir, 'last_reserved_ip.1');
  await writeFile(cursor, '2001:db8::ffff:1234');
  const before = await stat(cursor);
  t.true(await s.reserve('2001:db8::5', 'ctr', 'eth0', 1));
  t.is(await readFile(cursor, 'utf8'), '2001:db8::5');
  t.is(await s.lastReserved(1), '2001:db8::5');
  t.is((await stat(cursor)).ino, before.ino); // the same file: no temporary left by a kill
  t.true(await s.reserve('2001:db8::10:abcd', 'ctr2', 'eth0', 1));
  t.is(await readFile(cursor, 'utf8'), '2001:db8::10:abcd');
});
