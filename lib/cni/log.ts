// Plugin logging: stdout belongs to the one JSON document, so logs go to stderr (only when
// MESOS_CNI_LOG is set to debug/info) and, optionally, to the file MESOS_CNI_LOG_FILE.
import { appendFileSync } from 'node:fs';
import { writeAll } from './stdio.js';

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 } as const;
type Level = keyof typeof LEVELS;

/** A JSON-lines logger; `base` fields (plugin, containerId) go on every line. */
export function createLogger(env: Record<string, string | undefined>, base: Record<string, unknown> = {}): Logger {
  const wanted = (env.MESOS_CNI_LOG ?? 'warn') as Level;
  const threshold = LEVELS[wanted] ?? LEVELS.warn;
  const file = env.MESOS_CNI_LOG_FILE;
  const write = (level: Level, msg: string, fields?: Record<string, unknown>) => {
    if (LEVELS[level] < threshold) return;
    const line = JSON.stringify({ time: new Date().toISOString(), level, ...base, msg, ...fields }) + '\n';
    writeAll(2, line);
    if (file) {
      try {
        appendFileSync(file, line);
      } catch {
        // A broken log file must not fail a network attach.
      }
    }
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
  };
}
