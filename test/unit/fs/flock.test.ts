// withFileLock under concurrency: in-process waiters queue in JS, so worker threads never all
// sit in flock while the holder needs one (8 concurrent daemon ADDs once deadlocked that way).
import test from 'ava';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withFileLock } from '../../../lib/fs/flock.js';
import { LockTimeoutError, native } from '../../../lib/native/index.js';

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

/** Another process holds the lock for 0.6 s; 8 in-process waiters queue for it meanwhile. */
async function heldElsewhere(t: { teardown: (f: () => Promise<void>) => void }) {
  const dir = await tempDir(t);
  const lock = join(dir, 'lock');
  const other = spawn('flock', [lock, 'sleep', '0.6'], { stdio: 'ignore' });
  const exited = new Promise((r) => other.on('exit', r));
  await new Promise((r) => setTimeout(r, 150)); // let it take the lock
  const started = Date.now();
  const waiters = Promise.all(Array.from({ length: 8 }, () => withFileLock(lock, async () => Date.now() - started)));
  return { dir, waiters, exited };
}

test('while another process holds the lock, its waiters do not hold up other native calls', async (t) => {
  const { dir, waiters, exited } = await heldElsewhere(t);
  const quick = Date.now();
  await Promise.all(Array.from({ length: 8 }, () => native.readSmallFiles(dir, 64)));
  t.true(Date.now() - quick < 300, 'quick native calls ran while the lock was held elsewhere');
  await waiters;
  await exited;
});

test('waiters for a lock another process holds get it when it is released', async (t) => {
  const { waiters, exited } = await heldElsewhere(t);
  const got = await waiters;
  t.true(Math.min(...got) >= 300, `lock waited for the other process (${Math.min(...got)} ms)`);
  await exited;
});

test('a lock held elsewhere for longer than the timeout fails with LockTimeoutError (code ETIMEDOUT) after about the timeout', async (t) => {
  const dir = await tempDir(t);
  const lock = join(dir, 'lock');
  const other = spawn('flock', [lock, 'sleep', '5'], { stdio: 'ignore' });
  t.teardown(() => void other.kill('SIGKILL'));
  await new Promise((r) => setTimeout(r, 150));
  const started = Date.now();
  const e = await t.throwsAsync(withFileLock(lock, async () => 'got it', { timeoutMs: 300 }));
  const took = Date.now() - started;
  t.true(e instanceof LockTimeoutError);
  t.is((e as LockTimeoutError).code, 'ETIMEDOUT');
  t.regex(e!.message, /held by another process or request for more than 300 ms/);
  t.true(took >= 280 && took < 2000, `took ${took} ms`);
});

/** An in-process holder (until release()), then a waiter with a 200 ms timeout and one with 5 s behind it. */
async function queuedBehindHolder(t: { teardown: (f: () => Promise<void>) => void }) {
  const dir = await tempDir(t);
  const lock = join(dir, 'lock');
  let release!: () => void;
  const holding = withFileLock(lock, () => new Promise<void>((r) => (release = r)), { timeoutMs: 5000 });
  await new Promise((r) => setTimeout(r, 50));
  const waiter = withFileLock(lock, async () => 'never', { timeoutMs: 200 });
  const after = withFileLock(lock, async () => 'after', { timeoutMs: 5000 });
  return { holding, waiter, after, release: () => release() };
}

test('waiters queued in this process behind a holder are bounded by the same timeout', async (t) => {
  const q = await queuedBehindHolder(t);
  await t.throwsAsync(q.waiter, { instanceOf: LockTimeoutError });
  q.release();
  await q.holding;
  await q.after;
});

test('the in-process queue goes on after a waiter timed out', async (t) => {
  const q = await queuedBehindHolder(t);
  await t.throwsAsync(q.waiter, { instanceOf: LockTimeoutError });
  q.release();
  await q.holding;
  t.is(await q.after, 'after');
});

test('a FIFO at the lock path does not block taking the lock', async (t) => {
  const dir = await tempDir(t);
  const fifo = join(dir, 'fifo-lock');
  execFileSync('mkfifo', [fifo]);
  t.is(await withFileLock(fifo, async () => 'locked', { timeoutMs: 2000 }), 'locked');
});

test('a lock file removed by its holder on release: a waiter in another process holds the new file, not the removed one', async (t) => {
  const dir = await tempDir(t);
  const lock = join(dir, 'lock');
  const flockJs = fileURLToPath(new URL('../../../lib/fs/flock.js', import.meta.url));
  let release!: () => void;
  const holding = withFileLock(lock, () => new Promise<void>((r) => (release = r)), { unlinkAfter: () => true });
  await new Promise((r) => setTimeout(r, 50));
  // The other process opens the file we hold, waits, and must find, once it has the lock, that the
  // path names a different (new) file than the one it locked, and start over on that one.
  const code = `import { withFileLock } from ${JSON.stringify(flockJs)}; import { existsSync } from 'node:fs';
    await withFileLock(${JSON.stringify(lock)}, async () => console.log(existsSync(${JSON.stringify(lock)}) ? 'held the file at the path' : 'held a removed file'));`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise((r) => setTimeout(r, 300));
  release();
  await holding;
  await new Promise((r) => child.on('exit', r));
  t.is(out.trim(), 'held the file at the path');
});
