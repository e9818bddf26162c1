// Files that appear whole: written under a temporary name in their final directory, then renamed
// (or hard-linked) into place, so a reader, a crash or a kill -9 sees no file or all of it. A writer
// killed between the write and the rename leaves its temporary file; the temporary names carry the
// writer's pid, so whoever next tidies the directory removes the ones whose writer is gone.
import { linkSync, writeFileSync } from 'node:fs';
import { open, readdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { randomHex } from '../util/digest.js';
import { removeFileSync } from './remove.js';

const TEMP = /^\.tmp\.(\d+)\.[0-9a-f]+$/;

/** A temporary file name for `dir`: a dot-file (listers and dcos-net skip those) naming this process. */
export function tempPath(dir: string): string {
  return join(dir, `.tmp.${process.pid}.${randomHex(4)}`);
}

/** Replace `path` with `text` (written and fsynced first), atomically. */
export async function writeAtomic(path: string, text: string, mode = 0o644): Promise<void> {
  const tmp = tempPath(dirname(path));
  try {
    const f = await open(tmp, 'wx', mode);
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

/**
 * Create `path` holding `text` only if nothing is there, atomically (synchronous: a few bytes on a
 * local disk). A hard link fails with EEXIST where a file exists, so the name appears with its
 * content or not at all. Returns false when it was taken.
 */
export function createWholeSync(path: string, text: string, mode = 0o644): boolean {
  const tmp = tempPath(dirname(path));
  try {
    writeFileSync(tmp, text, { mode, flag: 'wx' });
    linkSync(tmp, path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    removeFileSync(tmp);
  }
}

function writerGone(name: string): boolean {
  const m = TEMP.exec(name);
  if (!m) return false;
  const pid = Number(m[1]);
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Remove the temporary files in `dir` whose writer process is gone; returns how many. */
export async function sweepTemps(dir: string): Promise<number> {
  const stale = (await readdir(dir).catch(() => [] as string[])).filter(writerGone);
  await Promise.all(stale.map((n) => rm(join(dir, n), { force: true })));
  return stale.length;
}

/** sweepTemps among names already listed (synchronous). */
export function sweepTempsSync(dir: string, names: readonly string[]): number {
  const stale = names.filter(writerGone);
  for (const n of stale) removeFileSync(join(dir, n));
  return stale.length;
}
