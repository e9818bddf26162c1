// Reading a file named by configuration or found on disk, without ever blocking on it: a FIFO (or a
// device) planted at the path would otherwise hang the reader, and in the daemon a thread for good.
import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';

/**
 * The whole text of the regular file at `path` (symlinks followed). Opened non-blocking; anything
 * but a regular file is refused with an ENOTREG-style error naming the path. Synchronous: these are
 * small local files, and a thread-pool round trip costs more than the read.
 */
export function readRegularFile(path: string): string {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  try {
    if (!fstatSync(fd).isFile()) {
      throw Object.assign(new Error(`${path}: not a regular file`), { code: 'EFTYPE', path });
    }
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}
