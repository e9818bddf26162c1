// A plugin process's own stdout and stderr, written with plain write(2)s: `process.stdout` and
// `process.stderr` are streams Node builds on first use (for a pipe, a socket and the net module),
// and a stream's write may still be queued when the process wants to end. Only when a descriptor
// is non-blocking (its open file shared with a parent that set O_NONBLOCK) and full does the rest
// go through the stream, which is then remembered: the process must not end before it drains.
import { writeSync } from 'node:fs';
import { native } from '../native/index.js';

let queued = false;

/**
 * Write all of `data` to fd 1 or 2. A failure to write stdout throws (the answer did not get
 * out); one on stderr is ignored (a log line must never fail a network attach).
 */
export function writeAll(fd: 1 | 2, data: string | Buffer): void {
  const buf = typeof data === 'string' ? Buffer.from(data) : data;
  let off = 0;
  try {
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EAGAIN') {
      queued = true;
      (fd === 1 ? process.stdout : process.stderr).write(buf.subarray(off));
    } else if (fd === 1) throw e;
  }
}

/** Node options whose output is written as the process ends (profiles, V8's log). */
const WRITTEN_AT_EXIT = /^--(cpu-prof|heap-prof|prof)(=|$|-)/;

/**
 * The process is done: set its exit status and end it at once (native/exit.cc), rather than through
 * Node's teardown of the heap and its threads (~3-4 ms of every exec'd call here, after the runtime
 * has its answer). Not when a write is still queued in a stream, when something asked to run at
 * exit (an 'exit' listener), or when V8 writes coverage or a profile at exit: then Node ends it as
 * usual.
 */
export function exitWhenDone(status: number): void {
  process.exitCode = status;
  const writesAtExit = !!process.env.NODE_V8_COVERAGE || process.execArgv.some((a) => WRITTEN_AT_EXIT.test(a));
  if (!queued && process.listenerCount('exit') === 0 && !writesAtExit) native.exitNow(status);
}
