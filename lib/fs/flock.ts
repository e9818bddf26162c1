// Exclusive file locks (flock), compatible with other programs locking the same file.
import { native } from '../native/index.js';

// Waiters in this process queue here, one promise chain per lock file, so at most one native
// thread per file ever blocks in flock (waiting for another process). One blocked thread per
// waiter starved the pool the holder itself needs: 8 concurrent ADDs in the daemon deadlocked
// with every worker in flock and the holder's next native call queued behind them.
const tails = new Map<string, Promise<void>>();

/** Run `fn` holding an exclusive flock on `path` (created if absent). */
export async function withFileLock<T>(path: string, fn: () => Promise<T>): Promise<T> {
  const prev = tails.get(path) ?? Promise.resolve();
  let done!: () => void;
  const tail = prev.then(() => new Promise<void>((r) => (done = r)));
  tails.set(path, tail);
  await prev;
  try {
    const fd = await native.fileLock(path);
    try {
      return await fn();
    } finally {
      native.fileUnlock(fd);
    }
  } finally {
    done();
    if (tails.get(path) === tail) tails.delete(path);
  }
}
