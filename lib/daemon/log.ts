// The daemon's structured log (pino, JSON lines): one line per request with its ID, so a call seen
// by the runtime can be matched to what the daemon did. Goes to stderr (the journal) or a file.
import pinoModule, { type Logger } from 'pino';

// pino's CommonJS export is the factory with destination() etc. hung on it.
const pino = pinoModule as unknown as typeof pinoModule & { destination: typeof import('pino').destination; stdTimeFunctions: typeof import('pino').stdTimeFunctions };

export type DaemonLogger = Logger;

export interface LogOptions {
  level?: string;
  /** Append here instead of stderr. */
  file?: string;
}

export function createDaemonLogger(opts: LogOptions = {}): DaemonLogger {
  // Synchronous writes: a SIGTERM'd or crashing daemon still leaves its last lines behind.
  const dest = opts.file ? pino.destination({ dest: opts.file, append: true, sync: true, mkdir: true }) : pino.destination({ fd: 2, sync: true });
  return pino({ level: opts.level ?? 'info', base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, dest);
}
