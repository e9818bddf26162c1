// Run a program inside a network namespace (`ip netns exec NS prog args`) without switching any
// thread of this process: the addon's child enters the namespace between fork and exec.
import { accessSync, constants } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { native, SpawnError, SpecError } from '../native/index.js';
import type { Netns } from './netns.js';

export interface ExecOptions {
  /** Bytes or text for the program's stdin (default: empty, i.e. immediate EOF). */
  stdin?: string | Uint8Array;
  /** The program's whole environment (default: this process's). */
  env?: Record<string, string | undefined>;
  /** Kill the program with SIGKILL after this long (default 30 s; 0 = never). */
  timeoutMs?: number;
  /** Throw a SpawnError on a non-zero exit, a signal or a timeout (default true). */
  check?: boolean;
}

export interface ExecResult {
  /** Exit status; -1 when the program was killed by a signal. */
  status: number;
  /** The signal that killed it, or 0. */
  signal: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

const DEFAULT_TIMEOUT_MS = 30_000;
// Where a plugin run by a container runtime (often with a bare PATH) still finds iptables & co.
const SYSTEM_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];
const resolved = new Map<string, string>();

/** A bare program name → its absolute path, searched in PATH and then the system directories. */
export async function which(file: string, path = process.env['PATH'] ?? ''): Promise<string> {
  if (isAbsolute(file)) return file;
  if (!/^[A-Za-z0-9_.+-]+$/.test(file)) {
    throw new SpecError(`exec: file: expected an absolute path or a bare program name, got ${JSON.stringify(file)}`);
  }
  const key = `${path}\0${file}`;
  const hit = resolved.get(key);
  if (hit) return hit;
  // Asked synchronously, in order: an access(2) of a cached directory entry is a few microseconds,
  // while each asynchronous one waits for a libuv pool thread and then an event-loop turn — inside
  // a plugin whose kernel work keeps both cores busy, 3–5 ms for a PATH of ten directories, on the
  // bridge's way to its masquerade write (one after the other, ~20 ms).
  for (const dir of new Set([...path.split(':').filter((d) => isAbsolute(d)), ...SYSTEM_DIRS])) {
    const candidate = join(dir, file);
    try {
      accessSync(candidate, constants.X_OK);
    } catch {
      continue;
    }
    resolved.set(key, candidate);
    return candidate;
  }
  throw new SpawnError(`exec ${file}: not found in PATH or ${SYSTEM_DIRS.join(':')}`, { code: 'ENOENT', errno: 2, op: `exec ${file}` });
}

function noNul(v: string, field: string): string {
  if (v.includes('\0')) throw new SpecError(`exec: ${field}: expected a string without NUL bytes, got ${JSON.stringify(v)}`);
  return v;
}

/** How a command is named in errors: the program and its first few arguments. */
function describe(file: string, args: readonly string[]): string {
  const shown = args.slice(0, 4).join(' ');
  return `${file}${shown ? ' ' + shown : ''}${args.length > 4 ? ' …' : ''}`;
}

/**
 * `ip netns exec NS FILE ARGS…`: run FILE in `ns` (undefined = this process's namespace), feeding
 * `stdin` and collecting stdout/stderr. Throws SpawnError when the program cannot be started, and
 * (unless `check: false`) when it exits non-zero: `<file> <args>: exit status N: <stderr>`.
 */
export async function execInNetns(ns: Netns | undefined, file: string, args: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const env = opts.env ?? process.env;
  const envList: string[] = [];
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) continue;
    if (!/^[^=\0]+$/.test(k)) throw new SpecError(`exec: env: expected variable names without '=' or NUL, got ${JSON.stringify(k)}`);
    envList.push(`${k}=${noNul(v, `env.${k}`)}`);
  }
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 0 || timeoutMs > 2 ** 31 - 1) {
    throw new SpecError(`exec: timeoutMs: expected an integer from 0 to ${2 ** 31 - 1}, got ${JSON.stringify(timeoutMs)}`);
  }
  args.forEach((a, i) => noNul(a, `args[${i}]`));
  const path = await which(noNul(file, 'file'), env['PATH'] ?? '');
  const stdin = typeof opts.stdin === 'string' ? Buffer.from(opts.stdin) : (opts.stdin ?? new Uint8Array(0));
  const r = await native.spawnInNetns({
    netnsFd: ns ? ns.fd : -1,
    file: path,
    argv: [file, ...args],
    env: envList,
    stdin,
    timeoutMs,
  });
  const result: ExecResult = {
    status: r.status,
    signal: r.signal,
    stdout: r.stdout.toString('utf8'),
    stderr: r.stderr.toString('utf8'),
    timedOut: r.timedOut,
  };
  if (opts.check === false || (r.status === 0 && !r.timedOut)) return result;
  const what = describe(file, args);
  const cause = r.timedOut
    ? `timed out after ${timeoutMs} ms`
    : r.signal
      ? `killed by signal ${r.signal}`
      : `exit status ${r.status}`;
  const stderr = result.stderr.trim();
  throw new SpawnError(`${what}: ${cause}${stderr ? ': ' + stderr : ''}`, {
    code: r.timedOut ? 'ETIMEDOUT' : 'EFAILED',
    op: what,
    detail: stderr,
  });
}
