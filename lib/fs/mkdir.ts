// Making a directory named by configuration, with its parents, in bounded time. Node 20's
// `mkdir(path, { recursive: true })` never returns (100% CPU) when the kernel answers ENOENT for
// a child of a directory that exists, as procfs does (`/proc/self/x`): a config's dataDir could
// hang a plugin for good, and through the daemon host-local's synchronous call froze every request.
import { mkdirSync, statSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';

const code = (e: unknown) => (e as NodeJS.ErrnoException).code;

function notADirectory(dir: string, e: unknown): never {
  throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${dir}'`), { code: 'ENOTDIR', path: dir, cause: e });
}

/**
 * `mkdir -p dir`: each missing parent once, from the top; a second ENOENT is final. Returns whether
 * this call made `dir` itself (false: it was there, or a concurrent creator made it).
 */
export function mkdirpSync(dir: string, mode: number): boolean {
  try {
    mkdirSync(dir, { mode });
    return true;
  } catch (e) {
    if (code(e) === 'EEXIST') {
      if (!statSync(dir).isDirectory()) notADirectory(dir, e);
      return false;
    }
    if (code(e) !== 'ENOENT' || dirname(dir) === dir) throw e;
  }
  mkdirpSync(dirname(dir), mode);
  try {
    mkdirSync(dir, { mode });
    return true;
  } catch (e) {
    if (code(e) !== 'EEXIST' || !statSync(dir).isDirectory()) throw e; // EEXIST: a concurrent creator
    return false;
  }
}

/** The same, asynchronous. */
export async function mkdirp(dir: string, mode: number): Promise<void> {
  try {
    await mkdir(dir, { mode });
    return;
  } catch (e) {
    if (code(e) === 'EEXIST') {
      if (!(await stat(dir)).isDirectory()) notADirectory(dir, e);
      return;
    }
    if (code(e) !== 'ENOENT' || dirname(dir) === dir) throw e;
  }
  await mkdirp(dirname(dir), mode);
  try {
    await mkdir(dir, { mode });
  } catch (e) {
    if (code(e) !== 'EEXIST' || !(await stat(dir)).isDirectory()) throw e;
  }
}
