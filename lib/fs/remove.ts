// Removing a file that may never have been written: gone is success, and so is a path that could
// never hold a file (a regular file where a directory should be, a name too long for the kernel),
// which a DEL of input ADD refused meets.
import { unlinkSync } from 'node:fs';
import { rm } from 'node:fs/promises';

/** Whether a failed access of `path` says no file can be there (ENOENT, ENOTDIR, ENAMETOOLONG). */
export function neverThere(e: unknown): boolean {
  return ['ENOENT', 'ENOTDIR', 'ENAMETOOLONG'].includes((e as NodeJS.ErrnoException)?.code ?? '');
}

/** `rm -f path`, where a path that can hold no file counts as removed. */
export async function removeFile(path: string): Promise<void> {
  try {
    await rm(path, { force: true });
  } catch (e) {
    if (!neverThere(e)) throw e;
  }
}

/**
 * The same, synchronously, for a plugin's few-byte files: an unlink(2), where `rmSync` loaded Node's
 * recursive remover (a module of its own) and looked at the path first.
 */
export function removeFileSync(path: string): void {
  try {
    unlinkSync(path);
  } catch (e) {
    if (!neverThere(e)) throw e;
  }
}
