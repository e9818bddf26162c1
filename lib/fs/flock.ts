// Exclusive file locks (flock), compatible with other programs locking the same file, with a bounded
// wait: a holder that never lets go turns into a LockTimeoutError, not a hang.
import { isErrno, LockTimeoutError, native } from '../native/index.js';
import { KeyedQueue } from '../util/keyed-queue.js';

/**
 * How long a lock is waited for by default (host-local's lease lock, the iptables chain-creation
 * lock): 10 s, or MESOS_CNI_LOCK_TIMEOUT_MS. Their holders keep them for milliseconds.
 */
export function lockTimeoutMs(): number {
  const v = Number(process.env.MESOS_CNI_LOCK_TIMEOUT_MS);
  return Number.isFinite(v) && v > 0 ? v : 10_000;
}

export interface LockOptions {
  /** Wait at most this long for the lock, queueing in this process included (default lockTimeoutMs()). */
  timeoutMs?: number;
  /** Remove the lock file before letting go when this says so (given fn's result). */
  unlinkAfter?: (result: unknown) => boolean;
}

// Waiters in this process queue here, per lock file, so at most one native thread per file ever
// blocks in flock (waiting for another process): one blocked thread per waiter would starve the
// pool the holder itself needs (every worker in flock, the holder's next native call behind them).
const queue = new KeyedQueue();

/** Run `fn` holding an exclusive flock on `path` (created if absent). */
export async function withFileLock<T>(path: string, fn: () => Promise<T>, opts: LockOptions = {}): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? lockTimeoutMs();
  const deadline = Date.now() + timeoutMs;
  const timeout = () => new LockTimeoutError(path, timeoutMs);
  return queue.run(
    path,
    async () => {
      let fd: number;
      try {
        // Free (the usual case): taken at once; held by another process: waited for on a worker.
        fd = native.fileTryLock(path);
        if (fd < 0) fd = await native.fileLock(path, Math.max(0, deadline - Date.now()));
      } catch (e) {
        throw isErrno(e, 'ETIMEDOUT') ? timeout() : e;
      }
      let result: T | undefined;
      try {
        result = await fn();
        return result;
      } finally {
        native.fileUnlock(fd, opts.unlinkAfter?.(result) ? path : undefined);
      }
    },
    { timeoutMs, timeoutError: timeout },
  );
}
