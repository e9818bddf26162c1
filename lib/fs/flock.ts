// Exclusive file locks (flock), compatible with other programs locking the same file.
import { native } from '../native/index.js';

/** Run `fn` holding an exclusive flock on `path` (created if absent). */
export async function withFileLock<T>(path: string, fn: () => Promise<T>): Promise<T> {
  const fd = await native.fileLock(path);
  try {
    return await fn();
  } finally {
    native.fileUnlock(fd);
  }
}
