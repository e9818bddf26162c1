// The reliability suite's core: the knobs (seed, size), a seeded PRNG, one plugin call exec'd as a
// runtime execs it (bounded in time, killable), the rules every answer must follow, and the tally
// of inputs and findings per category that the runner prints as a table.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';

// ---- knobs -------------------------------------------------------------------------------------

function intEnv(name: string, dflt: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name}: expected a non-negative integer, got ${JSON.stringify(v)}`);
  return n;
}

/** The run's seed: RELIABILITY_SEED, else a random one (printed by every test, for replay). */
export const SEED = intEnv('RELIABILITY_SEED', Math.floor(Math.random() * 2 ** 31));
/** Size: fuzzed inputs per plugin and path; the other categories scale from it. */
export const N = intEnv('RELIABILITY_N', 40);
/** Longest a single call may take before it counts as a hang (ms). */
export const CALL_TIMEOUT_MS = intEnv('RELIABILITY_CALL_TIMEOUT_MS', 30_000);
/** Only this input index (replay of one finding); -1: all. */
export const ONLY = process.env.RELIABILITY_INPUT ? intEnv('RELIABILITY_INPUT', 0) : -1;
/** Where each test writes its counts for the runner's table (unset: only t.log). */
const REPORT_DIR = process.env.RELIABILITY_REPORT_DIR;

/** Short waits in every call, so that a hang is a hang and not a lock wait (documented knobs). */
export const BOUNDED_WAITS = { MESOS_CNI_LOCK_TIMEOUT_MS: '3000', MESOS_CNI_CONTAINER_LOCK_TIMEOUT_MS: '8000' };

// ---- PRNG ----------------------------------------------------------------------------------------

/** FNV-1a of strings: derives independent, reproducible streams from (seed, category, index). */
export function hash(...parts: (string | number)[]): number {
  let h = 0x811c9dc5;
  for (const c of parts.join('\u0000')) {
    h ^= c.codePointAt(0)!;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

export class Rng {
  private s: number;
  constructor(...seed: (string | number)[]) {
    this.s = hash(SEED, ...seed) || 1;
  }
  /** mulberry32 */
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)]!;
  }
  string(len: number, alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789'): string {
    let s = '';
    for (let i = 0; i < len; i++) s += alphabet[Math.floor(this.next() * alphabet.length)];
    return s;
  }
}

// ---- one call ----------------------------------------------------------------------------------

export interface Outcome {
  stdout: string;
  stderr: string;
  /** Exit status; 128+n when killed by signal n; -1 when we killed it for taking too long. */
  exitCode: number;
  hung: boolean;
  ms: number;
}

export interface Running {
  pid: number;
  done: Promise<Outcome>;
  /** SIGKILL the call's whole process group (the plugin and whatever it started). */
  kill(): void;
}

export interface Spawn {
  argv: string[];
  env: Record<string, string>;
  /** Bytes on stdin; or a shell redirection replaces stdin/stdout (`< /`, `> /dev/full`). */
  stdin: string | Buffer;
  redirect?: string;
  timeoutMs?: number;
}

const SIGNALS: Record<string, number> = { SIGKILL: 9, SIGSEGV: 11, SIGABRT: 6, SIGTERM: 15, SIGBUS: 7, SIGILL: 4, SIGFPE: 8 };

/** Start one process in its own group, with pipes, bounded in time. */
export function start(s: Spawn): Running {
  const t0 = Date.now();
  const argv = s.redirect ? ['/bin/sh', '-c', `exec "$@" ${s.redirect}`, 'sh', ...s.argv] : s.argv;
  const child = spawn(argv[0]!, argv.slice(1), { env: s.env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let hung = false;
  const kill = () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  const timer = setTimeout(() => {
    hung = true;
    kill();
  }, s.timeoutMs ?? CALL_TIMEOUT_MS);
  child.stdout!.on('data', (d: Buffer) => out.push(d));
  child.stderr!.on('data', (d: Buffer) => err.push(d));
  child.stdin!.on('error', () => {});
  child.stdin!.end(s.stdin);
  const done = new Promise<Outcome>((resolve) => {
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ stdout: '', stderr: `spawn ${argv[0]}: ${e.message}`, exitCode: 127, hung: false, ms: Date.now() - t0 });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        exitCode: hung ? -1 : (code ?? 128 + (SIGNALS[signal ?? ''] ?? 0)),
        hung,
        ms: Date.now() - t0,
      });
    });
  });
  return { pid: child.pid ?? -1, done, kill };
}

// ---- the rules every answer follows ------------------------------------------------------------

export type Verdict = 'ok' | 'crash' | 'hang' | 'bad';

export const STACK_TRACE = /\n\s+at .+:\d+:\d+\)?(\n|$)|Unhandled|uncaught exception|Segmentation fault|core dumped/i;

/**
 * crash: exit other than 0/1 or a stack trace on stderr; hang: killed at the timeout; bad: stdout
 * is not exactly one JSON document and a newline (an error one with numeric code and string msg on
 * exit 1, a result on exit 0), or is empty where it may not be (ADD, VERSION, any failure).
 */
export function judge(o: Outcome, command: string | undefined): { verdict: Verdict; why: string } {
  if (o.hung) return { verdict: 'hang', why: `no answer in ${o.ms} ms` };
  if (o.exitCode !== 0 && o.exitCode !== 1) return { verdict: 'crash', why: `exit ${o.exitCode}` };
  if (STACK_TRACE.test(o.stderr)) return { verdict: 'crash', why: 'a stack trace on stderr' };
  if (o.exitCode === 0 && o.stdout === '') {
    // No CNI_COMMAND: the "about" text goes to stderr and nothing to stdout, as the Go skel does.
    const quiet = ['DEL', 'CHECK', 'STATUS', 'GC', ''].includes(command ?? '');
    return quiet ? { verdict: 'ok', why: '' } : { verdict: 'bad', why: `empty stdout for a successful ${command}` };
  }
  if (!o.stdout.endsWith('\n') || o.stdout.slice(0, -1).includes('\n')) return { verdict: 'bad', why: 'stdout is not one line' };
  let doc: unknown;
  try {
    doc = JSON.parse(o.stdout);
  } catch {
    return { verdict: 'bad', why: 'stdout is not JSON' };
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return { verdict: 'bad', why: 'stdout is not a JSON object' };
  const d = doc as { code?: unknown; msg?: unknown };
  if (o.exitCode === 1 && (typeof d.code !== 'number' || typeof d.msg !== 'string')) return { verdict: 'bad', why: 'an error without numeric code and string msg' };
  if (o.exitCode === 0 && 'code' in d) return { verdict: 'bad', why: 'an error document with exit 0' };
  return { verdict: 'ok', why: '' };
}

/** What differs between two runs of one input: MACs, random veth names, the two sides' own paths. */
export function mask(stdout: string, sidePaths: string[]): string {
  let s = stdout.replace(/"mac":"[0-9a-f:]{17}"/g, '"mac":"M"').replace(/veth[0-9a-f]{8}/g, 'vethX').replace(/mvt[0-9a-f]{8}/g, 'mvtX');
  for (const p of sidePaths) s = s.split(p).join('<SIDE>');
  return s;
}

// ---- the tally -----------------------------------------------------------------------------------

export const COLUMNS = ['inputs', 'calls', 'crashes', 'hangs', 'bad outputs', 'path mismatches', 'leaks'] as const;
export type Column = (typeof COLUMNS)[number];

export interface Finding {
  kind: Column;
  what: string;
  /** Everything needed to replay it: seed, index, env, stdin, the calls and answers. */
  input: unknown;
}

/** Counts of one category (a table row) and the findings behind any non-zero failure column. */
export class Tally {
  readonly counts: Record<Column, number> = Object.fromEntries(COLUMNS.map((c) => [c, 0])) as Record<Column, number>;
  readonly findings: Finding[] = [];
  private readonly t0 = Date.now();
  constructor(readonly category: string) {}

  add(c: Column, n = 1): void {
    this.counts[c] += n;
  }

  find(kind: Exclude<Column, 'inputs' | 'calls'>, what: string, input: unknown): void {
    this.counts[kind]++;
    this.findings.push({ kind, what, input });
  }

  /** Log the row and the findings (first 5 in full), write the report file, fail on any finding. */
  finish(t: ExecutionContext): void {
    const ms = Date.now() - this.t0;
    t.log(`seed ${SEED}, N ${N}: ${this.category}: ${COLUMNS.map((c) => `${this.counts[c]} ${c}`).join(', ')} (${(ms / 1000).toFixed(1)} s)`);
    for (const f of this.findings.slice(0, 5)) t.log(`${f.kind}: ${f.what}\nreplay: RELIABILITY_SEED=${SEED} ${JSON.stringify(f.input, null, 1).slice(0, 6000)}`);
    if (this.findings.length > 5) t.log(`… and ${this.findings.length - 5} more findings`);
    if (REPORT_DIR) {
      mkdirSync(REPORT_DIR, { recursive: true });
      const file = join(REPORT_DIR, `${this.category.replace(/[^A-Za-z0-9_.-]+/g, '_')}.json`);
      writeFileSync(file, JSON.stringify({ category: this.category, seed: SEED, n: N, ms, counts: this.counts, findings: this.findings.slice(0, 20) }, null, 1));
    }
    t.true(this.counts.inputs > 0, `${this.category}: no input ran`);
    t.deepEqual(
      this.findings.map((f) => `${f.kind}: ${f.what}`),
      [],
      `${this.category}: findings (seed ${SEED})`,
    );
  }
}
