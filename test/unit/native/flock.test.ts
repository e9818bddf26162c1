// withFileLock under concurrency: in-process waiters queue in JS, so worker threads never all
// sit in flock while the holder needs one (8 concurrent daemon ADDs once deadlocked that way).
import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withFileLock } from '../../../lib/fs/flock.js';
import { native } from '../../../lib/native/index.js';

async function tempDir(t: { teardown: (f: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mcni-flock-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('16 holders in turn, each making native calls while it holds the lock: all finish, never two at once', async (t) => {
  const dir = await tempDir(t);
  let inside = 0;
  let most = 0;
  const holder = (i: number) =>
    withFileLock(join(dir, 'lock'), async () => {
      most = Math.max(most, ++inside);
      await native.readSmallFiles(dir, 64); // a quick-lane job, as host-local's lease read
      await native.readSmallFiles(dir, 64);
      inside--;
      return i;
    });
  const all = Promise.all(Array.from({ length: 16 }, (_, i) => holder(i)));
  const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('deadlocked')), 5000).unref());
  t.deepEqual(await Promise.race([all, timeout]), Array.from({ length: 16 }, (_, i) => i));
  t.is(most, 1);
});

test('while another process holds the lock, waiters do not hold up other native calls; they get it when it is released', async (t) => {
  const dir = await tempDir(t);
  const lock = join(dir, 'lock');
  const other = spawn('flock', [lock, 'sleep', '0.6'], { stdio: 'ignore' });
  const exited = new Promise((r) => other.on('exit', r));
  await new Promise((r) => setTimeout(r, 150)); // let it take the lock
  const started = Date.now();
  const waiters = Promise.all(Array.from({ length: 8 }, () => withFileLock(lock, async () => Date.now() - started)));
  const quick = Date.now();
  await Promise.all(Array.from({ length: 8 }, () => native.readSmallFiles(dir, 64)));
  t.true(Date.now() - quick < 300, 'quick native calls ran while the lock was held elsewhere');
  const got = await waiters;
  t.true(Math.min(...got) >= 300, `lock waited for the other process (${Math.min(...got)} ms)`);
  await exited;
});
