// Running a delegate plugin by type, exactly as a runtime would: find it in CNI_PATH, give it the
// CNI environment and its config on stdin, parse its result or error. When the executable found is
// one of this package's own plugins and the creator of the delegator gave a way to run ours
// in-process (the skel's callers do), that runs instead: same inputs, same result, no exec. How
// executables are found and run is a seam too (PluginExec), so tests can fake delegates.
import { spawn } from 'node:child_process';
import { accessSync, closeSync, constants, fstatSync, openSync, readSync, statSync, type BigIntStats } from 'node:fs';
import { join } from 'node:path';
import { envVars, type CniEnv, type Command } from './env.js';
import { CniError, ErrorCode, InputError } from './errors.js';
import { parseResult, type AnyResult } from './result.js';
import { writeAll } from './stdio.js';

/** Installed executables of ours carry this marker in their first bytes (see `mesos-cni install`). */
export const PLUGIN_MARKER = 'mesos-cni-plugin:';

export interface DelegateOptions {
  /** Override env for this call (e.g. another CNI_IFNAME for an IPAM call). */
  ifname?: string;
  /** Another CNI_CONTAINERID (a GC releasing one stale attachment's lease with a DEL). */
  containerId?: string;
  netns?: string;
  /** Exact stdin to send instead of JSON.stringify(conf) (e.g. Mesos' stout-serialised config). */
  stdin?: string;
  /** Send no CNI_ARGS even if the caller had some (Mesos never sets it). */
  noArgs?: boolean;
  /**
   * DEL: the delegate may release the attachment's address only once this settles (see
   * PluginContext.releaseAfter); a rejection fails the DEL with its error before any release.
   * One of ours runs at once and waits inside; an executable, which gives no such hook, is only
   * started after it has settled. Default: the caller's own releaseAfter, so it reaches the IPAM.
   */
  releaseAfter?: PromiseLike<unknown>;
  /**
   * ADD: handed to a delegate of ours run in-process (PluginContext.onAddresses), which calls it as
   * soon as its addresses are fixed; an executable gives no such hook and never calls it.
   */
  onAddresses?: OnAddresses;
}

/**
 * Called by an ADD, at most once, with the addresses (CIDR text) its result will carry, as soon as
 * they are fixed and while its links are still being set up; the ADD may still fail afterwards.
 * `writeAfter`: the caller writes nothing in the host's nf_tables before it settles (and nothing
 * at all if it rejects): the ADD's host link is still being registered. It may return an undo,
 * which that ADD's rollback runs before it releases the addresses.
 */
export type OnAddresses = (addresses: readonly string[], writeAfter?: PromiseLike<unknown>) => (() => Promise<unknown>) | undefined;

export interface Delegator {
  add(conf: object, opts?: DelegateOptions): Promise<AnyResult>;
  del(conf: object, opts?: DelegateOptions): Promise<void>;
  check(conf: object, opts?: DelegateOptions): Promise<void>;
  /** Any command; returns the parsed stdout (undefined when empty). */
  run(command: Command, conf: object, opts?: DelegateOptions): Promise<AnyResult | undefined>;
  /** Absolute path of the executable for `type` (code 7 naming the path when absent). */
  find(type: string): Promise<string>;
  /** Whether the plugin `type` speaks spec version `v` (its VERSION answer; asked once per type). */
  speaks(type: string, v: string): Promise<boolean>;
  /** Whether a delegation to `type` runs in this process (an executable of ours, in-process allowed); never throws. */
  runsInProcess(type: string): Promise<boolean>;
}

const TYPE_RE = /^[A-Za-z0-9][A-Za-z0-9_.+-]{0,127}$/;

/**
 * First executable named `type` in the search path (libcni's FindInPath). Synchronous checks: an
 * access(2) in a local directory costs microseconds, a thread-pool round trip ~0.1-0.2 ms, and the
 * port mapper's chain looks up three times per ADD.
 */
export async function findInPath(type: string, path: string[]): Promise<string> {
  // No executable has such a name: a config naming it was never attached, and a DEL of it succeeds (InputError).
  if (!TYPE_RE.test(type)) throw new InputError(ErrorCode.InvalidNetworkConfig, `type: expected a plugin name, got ${JSON.stringify(type)}`);
  for (const dir of path) {
    const file = join(dir, type);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // try the next directory
    }
  }
  throw new CniError(ErrorCode.InvalidNetworkConfig, `failed to find plugin "${type}" in path [${path.join(' ')}]`);
}

/** What ownPluginType last read from an executable, under the identity it had then. */
const marksSeen = new Map<string, { identity: string; type: string | undefined }>();
const MARKS_KEPT = 256;

/** The file as a stat sees it: any replacement (rename) or change in place gives another identity. */
function identityOf(st: BigIntStats): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
}

/**
 * The plugin type an executable of ours serves, read from its marker; undefined for others.
 * Synchronous reads of a local file (a few hundred bytes), opened non-blocking: anything but a
 * regular file (a FIFO planted in CNI_PATH would block an open for reading) is not ours. A file
 * read before, whose identity (device, inode, size, times to the nanosecond) a stat finds
 * unchanged, is not read again: a daemon looks up two or three delegates per request, and the
 * launcher's marker is three reads at the end of its image (~0.1 ms per delegate).
 */
export async function ownPluginType(file: string): Promise<string | undefined> {
  const seen = marksSeen.get(file);
  if (seen) {
    let now: BigIntStats | undefined;
    try {
      now = statSync(file, { bigint: true });
    } catch {
      // gone or unreadable: read it below, which reports why
    }
    if (now?.isFile() && identityOf(now) === seen.identity) return seen.type;
  }
  const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  try {
    const st = fstatSync(fd, { bigint: true });
    if (!st.isFile()) return undefined;
    const type = readMarker(fd, Number(st.size));
    if (marksSeen.size >= MARKS_KEPT) marksSeen.clear();
    marksSeen.set(file, { identity: identityOf(st), type });
    return type;
  } finally {
    closeSync(fd);
  }
}

function readMarker(fd: number, size: number): string | undefined {
  const buf = Buffer.alloc(512);
  const bytesRead = readSync(fd, buf, 0, 512, 0);
  let head = buf.subarray(0, bytesRead).toString('latin1');
  if (head.startsWith('\x7fELF')) {
    // Our native launcher (`install --launcher`) carries the marker in a trailer after the ELF
    // image: its length (u32 LE) and "MCNILNC1" are the last 12 bytes (native/launcher/launcher.c).
    const tail = Buffer.alloc(12);
    if (size < 12 || readSync(fd, tail, 0, 12, size - 12) !== 12 || tail.toString('latin1', 4) !== 'MCNILNC1') return undefined;
    const len = Math.min(tail.readUInt32LE(0), 4096, size - 12);
    const text = Buffer.alloc(len);
    readSync(fd, text, 0, len, size - 12 - len);
    head = text.toString('latin1');
  }
  return new RegExp(`${PLUGIN_MARKER}\\s*([A-Za-z0-9_.+-]+)`).exec(head)?.[1];
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** Exec a plugin with the given env and stdin; collects stdout/stderr. */
export function execPlugin(file: string, env: Record<string, string>, stdin: string, argv: string[] = []): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, argv, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', (e) => reject(new CniError(ErrorCode.IoFailure, `exec ${file}`, e.message)));
    child.on('close', (code, signal) =>
      resolve({
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        exitCode: code ?? (signal ? 128 : 1),
      }),
    );
    child.stdin.on('error', () => {}); // a plugin may exit without reading stdin
    child.stdin.end(stdin);
  });
}

/** Turn a finished plugin run into its result, or throw the error it reported. */
export function interpret(file: string, r: ExecResult): AnyResult | undefined {
  const text = r.stdout.trim();
  if (r.exitCode === 0) return text ? parseResult(text, file) : undefined;
  let e: { code?: unknown; msg?: unknown; details?: unknown } | undefined;
  try {
    e = JSON.parse(text);
  } catch {
    e = undefined;
  }
  if (e && typeof e.code === 'number' && typeof e.msg === 'string') {
    throw new CniError(e.code, e.msg, typeof e.details === 'string' ? e.details : '');
  }
  throw new CniError(ErrorCode.Plugin, `plugin ${file} failed (exit status ${r.exitCode})`, (text || r.stderr).trim());
}

/** What an in-process run of one of our plugins answers: what its executable would print and exit with. */
export interface RunOutcome {
  stdout: string;
  exitCode: number;
}

/** Runs one plugin of ours in this process, as its executable would run (the skel's `handle`). */
export type InProcessRunner = (
  env: Record<string, string | undefined>,
  stdin: Buffer,
  opts: { releaseAfter?: PromiseLike<unknown>; onAddresses?: OnAddresses },
) => Promise<RunOutcome>;

/** The runner for our plugin of `type`, or undefined (not ours): how a delegator calls ours in-process. */
export type InProcess = (type: string) => Promise<InProcessRunner | undefined>;

/** How delegates are found and run when they are exec'd. */
export interface PluginExec {
  /** The first executable named `type` in `path`. */
  find(type: string, path: string[]): Promise<string>;
  /** Run it with this environment and stdin. */
  exec(file: string, env: Record<string, string>, stdin: string): Promise<ExecResult>;
  /** The plugin type it serves when it is one of ours (its marker), else undefined. */
  ownType(file: string): Promise<string | undefined>;
}

/** Executables on disk, as a runtime runs them. */
export const defaultExec: PluginExec = { find: findInPath, exec: (f, e, s) => execPlugin(f, e, s), ownType: ownPluginType };

export interface DelegatorOptions {
  /** Runs our own plugins in-process; without it every delegate is exec'd. */
  inProcess?: InProcess;
  /** How executables are found and run (default: on disk). */
  exec?: PluginExec;
  /** The process environment to pass through (PATH etc.); CNI_* are replaced. */
  baseEnv?: Record<string, string | undefined>;
  /** The caller's PluginContext.releaseAfter, the default for its DEL delegations. */
  releaseAfter?: PromiseLike<unknown>;
  /**
   * Where an exec'd delegate's stderr goes (default: ours). The spec has a delegate's stderr
   * reach the caller's; stdout stays the one JSON document. Ours in-process write to ours already.
   */
  stderr?: (text: string) => void;
  /** The caller is a runtime (lib/cni/runtime.ts, `mesos-cni exec`), not a plugin delegating. */
  runtime?: boolean;
}

const toStderr = (text: string) => writeAll(2, text);
/**
 * How many plugins deep a delegation may go. Real chains are 3 (dcos-l4lb → port mapper → bridge →
 * host-local); a config whose delegate names itself (`ipam.type: "bridge"` in a bridge config) would
 * recurse without end — in-process, until the daemon runs out of heap and aborts.
 */
export const MAX_DELEGATION_DEPTH = 8;
const DEPTH_VAR = 'MESOS_CNI_DELEGATION_DEPTH';

export function createDelegator(env: CniEnv, opts: DelegatorOptions = {}): Delegator {
  const base = Object.fromEntries(
    Object.entries(opts.baseEnv ?? process.env).filter((kv): kv is [string, string] => kv[1] !== undefined && !kv[0].startsWith('CNI_')),
  );
  const inProcess = (opts.baseEnv ?? process.env).MESOS_CNI_INPROCESS !== '0' ? opts.inProcess : undefined;
  const x = opts.exec ?? defaultExec;
  const find = (type: string) => x.find(type, env.path);
  // One marker read per executable per call of the plugin (runsInProcess, then run, ask twice).
  const marks = new Map<string, Promise<string | undefined>>();
  const ownType = (file: string) => {
    let m = marks.get(file);
    if (!m) marks.set(file, (m = x.ownType(file)));
    return m;
  };

  async function run(command: Command, conf: object, o: DelegateOptions = {}): Promise<AnyResult | undefined> {
    const type = (conf as { type?: unknown }).type;
    if (typeof type !== 'string') throw new InputError(ErrorCode.InvalidNetworkConfig, 'delegate.type: expected a string');
    // Carried in the environment, so it counts through exec'd delegates (ours or not) as well.
    // A runtime's own calls are the first level and carry no count (the spec's environment only).
    const depth = opts.runtime ? 0 : (Number(base[DEPTH_VAR]) || 0) + 1;
    if (depth > MAX_DELEGATION_DEPTH) {
      // No ADD gets through such a config: a DEL of it has nothing to remove (InputError).
      throw new InputError(ErrorCode.InvalidNetworkConfig, `delegation deeper than ${MAX_DELEGATION_DEPTH} plugins (does the config delegate to itself?), at type ${JSON.stringify(type)}`);
    }
    const file = await find(type);
    const callEnv = { ...env, containerId: o.containerId ?? env.containerId, ifname: o.ifname ?? env.ifname, netns: o.netns ?? env.netns, argsRaw: o.noArgs ? undefined : env.argsRaw };
    const vars = { ...base, ...envVars(callEnv, command), ...(depth > 0 ? { [DEPTH_VAR]: String(depth) } : {}) };
    const stdin = o.stdin ?? JSON.stringify(conf);
    const releaseAfter = command === 'DEL' ? (o.releaseAfter ?? opts.releaseAfter) : undefined;
    const onAddresses = command === 'ADD' ? o.onAddresses : undefined;
    if (inProcess) {
      const runner = (await ownType(file)) === type ? await inProcess(type) : undefined;
      if (runner) {
        // Same entry point the executable would run; only the process start is skipped.
        const r = await runner(vars, Buffer.from(stdin), { releaseAfter, onAddresses });
        return interpret(file, { stdout: r.stdout, stderr: '', exitCode: r.exitCode });
      }
    }
    await releaseAfter;
    const r = await x.exec(file, vars, stdin);
    if (r.stderr) (opts.stderr ?? toStderr)(r.stderr.endsWith('\n') ? r.stderr : `${r.stderr}\n`);
    return interpret(file, r);
  }

  const versions = new Map<string, Promise<string[]>>();
  function speaks(type: string, v: string): Promise<boolean> {
    let known = versions.get(type);
    if (!known) {
      known = run('VERSION', { type, cniVersion: v }).then(
        (r) => {
          const list = (r as { supportedVersions?: unknown } | undefined)?.supportedVersions;
          return Array.isArray(list) ? list.filter((x): x is string => typeof x === 'string') : [];
        },
        () => [],
      );
      versions.set(type, known);
    }
    return known.then((list) => list.includes(v));
  }

  async function runsInProcess(type: string): Promise<boolean> {
    if (!inProcess) return false;
    // Not found, or not readable: false here; run() reports it as the call's error.
    const file = await find(type).catch(() => undefined);
    return file !== undefined && (await ownType(file).catch(() => undefined)) === type && (await inProcess(type)) !== undefined;
  }

  return {
    run,
    find,
    speaks,
    runsInProcess,
    async add(conf, o) {
      const r = await run('ADD', conf, o);
      if (!r) throw new CniError(ErrorCode.DecodeFailure, `delegate ${(conf as { type: string }).type} ADD printed no result`);
      return r;
    },
    async del(conf, o) {
      await run('DEL', conf, o);
    },
    async check(conf, o) {
      await run('CHECK', conf, o);
    },
  };
}
