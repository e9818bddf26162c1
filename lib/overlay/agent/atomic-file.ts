// Files replaced whole: a temporary file in the same directory, written, fsynced and renamed over
// the old one, so a reader (or a crash, or kill -9) sees the old content or the new, never a mix.
import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';

/** Replace `path` with `text` so that a reader (or a crash) sees the old file or the new one, never a mix. */
export async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const f = await open(tmp, 'wx', 0o644);
    try {
      await f.writeFile(text);
      await f.sync();
    } finally {
      await f.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}
