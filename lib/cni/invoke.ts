// Running a delegate plugin by type, exactly as a runtime would: find it in CNI_PATH, give it the
// CNI environment and its config on stdin, parse its result or error. When the executable found is
// one of this package's own plugins, call it in-process instead: same inputs, same result, no exec.
import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, open } from 'node:fs/promises';
import { join } from 'node:path';
import { envVars, type CniEnv, type Command } from './env.js';
import { CniError, ErrorCode, InputError } from './errors.js';
import { parseResult, type AnyResult } from './result.js';
import type { PluginResolver } from './plugin.js';

/** Installed executables of ours carry this marker in their first bytes (see `mesos-cni install`). */
export const PLUGIN_MARKER = 'mesos-cni-plugin:';

export interface DelegateOptions {
  /** Override env for this call (e.g. another CNI_IFNAME for an IPAM call). */
  ifname?: string;
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
  releaseAfter?: Promise<unknown>;
}

export interface Delegator {
  add(conf: object, opts?: DelegateOptions): Promise<AnyResult>;
  del(conf: object, opts?: DelegateOptions): Promise<void>;
  check(conf: object, opts?: DelegateOptions): Promise<void>;
  /** Any command; returns the parsed stdout (undefined when empty). */
  run(command: Command, conf: object, opts?: DelegateOptions): Promise<AnyResult | undefined>;
  /** Absolute path of the executable for `type` (code 7 naming the path when absent). */
  find(type: string): Promise<string>;
}

const TYPE_RE = /^[A-Za-z0-9][A-Za-z0-9_.+-]{0,127}$/;

/** First executable named `type` in the search path (libcni's FindInPath). */
export async function findInPath(type: string, path: string[]): Promise<string> {
  // No executable has such a name: a config naming it was never attached, and a DEL of it succeeds (InputError).
  if (!TYPE_RE.test(type)) throw new InputError(ErrorCode.InvalidNetworkConfig, `type: expected a plugin name, got ${JSON.stringify(type)}`);
  for (const dir of path) {
    const file = join(dir, type);
    try {
      await access(file, constants.X_OK);
      return file;
    } catch {
      // try the next directory
    }
  }
  throw new CniError(ErrorCode.InvalidNetworkConfig, `failed to find plugin "${type}" in path [${path.join(' ')}]`);
}

/** The plugin type an executable of ours serves, read from its marker; undefined for others. */
async function ownPluginType(file: string): Promise<string | undefined> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(512);
    const { bytesRead } = await fh.read(buf, 0, 512, 0);
    let head = buf.subarray(0, bytesRead).toString('latin1');
    if (head.startsWith('\x7fELF')) {
      // Our native launcher (`install --launcher`) carries the marker in a trailer after the ELF
      // image: its length (u32 LE) and "MCNILNC1" are the last 12 bytes (native/launcher/launcher.c).
      const { size } = await fh.stat();
      const tail = Buffer.alloc(12);
      if (size < 12 || (await fh.read(tail, 0, 12, size - 12)).bytesRead !== 12 || tail.toString('latin1', 4) !== 'MCNILNC1') return undefined;
      const len = Math.min(tail.readUInt32LE(0), 4096, size - 12);
      const text = Buffer.alloc(len);
      await fh.read(text, 0, len, size - 12 - len);
      head = text.toString('latin1');
    }
    const m = new RegExp(`${PLUGIN_MARKER}\\s*([A-Za-z0-9_.+-]+)`).exec(head);
    return m?.[1];
  } finally {
    await fh.close();
  }
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

export interface DelegatorOptions {
  /** Finds our own plugins for in-process calls; without it every delegate is exec'd. */
  resolver?: PluginResolver;
  /** The process environment to pass through (PATH etc.); CNI_* are replaced. */
  baseEnv?: Record<string, string | undefined>;
  /** The caller's PluginContext.releaseAfter, the default for its DEL delegations. */
  releaseAfter?: Promise<unknown>;
}

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
  const inProcessAllowed = opts.resolver !== undefined && (opts.baseEnv ?? process.env).MESOS_CNI_INPROCESS !== '0';

  const find = (type: string) => findInPath(type, env.path);

  async function run(command: Command, conf: object, o: DelegateOptions = {}): Promise<AnyResult | undefined> {
    const type = (conf as { type?: unknown }).type;
    if (typeof type !== 'string') throw new InputError(ErrorCode.InvalidNetworkConfig, 'delegate.type: expected a string');
    // Carried in the environment, so it counts through exec'd delegates (ours or not) as well.
    const depth = (Number(base[DEPTH_VAR]) || 0) + 1;
    if (depth > MAX_DELEGATION_DEPTH) {
      // No ADD gets through such a config: a DEL of it has nothing to remove (InputError).
      throw new InputError(ErrorCode.InvalidNetworkConfig, `delegation deeper than ${MAX_DELEGATION_DEPTH} plugins (does the config delegate to itself?), at type ${JSON.stringify(type)}`);
    }
    const file = await find(type);
    const callEnv = { ...env, ifname: o.ifname ?? env.ifname, netns: o.netns ?? env.netns, argsRaw: o.noArgs ? undefined : env.argsRaw };
    const vars = { ...base, ...envVars(callEnv, command), [DEPTH_VAR]: String(depth) };
    const stdin = o.stdin ?? JSON.stringify(conf);
    const releaseAfter = command === 'DEL' ? (o.releaseAfter ?? opts.releaseAfter) : undefined;
    if (inProcessAllowed) {
      const own = await ownPluginType(file);
      const plugin = own === type ? await opts.resolver!(type) : undefined;
      if (plugin) {
        // Same entry point the executable would run; only the process start is skipped.
        const { handle } = await import('./skel.js');
        const r = await handle(plugin, vars, Buffer.from(stdin), { resolver: opts.resolver, releaseAfter });
        return interpret(file, { stdout: r.stdout, stderr: '', exitCode: r.exitCode });
      }
    }
    await releaseAfter;
    return interpret(file, await execPlugin(file, vars, stdin));
  }

  return {
    run,
    find,
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
