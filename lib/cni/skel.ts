// The plugin main loop: environment + stdin in, exactly one JSON document out (result or error).
// `handle` is pure (no process I/O) so in-process delegation and the daemon reuse it unchanged.
import { fstatSync, readSync } from 'node:fs';
import { checkVersion, decodeConfig, type NetConf } from './config.js';
import { parseEnv, type CniEnv } from './env.js';
import { withContainerLock } from './container-lock.js';
import { asCniError, CniError, ErrorCode, InputError } from './errors.js';
import { createDelegator, type InProcess, type OnAddresses, type PluginExec } from './invoke.js';
import { createLogger } from './log.js';
import type { Plugin, PluginContext } from './plugin.js';
import { convertResult } from './result.js';
import { validAttachments } from './gc.js';
import { Netns } from '../netns/netns.js';
import { exitWhenDone, writeAll } from './stdio.js';
import { hasCommand, LATEST, SUPPORTED_VERSIONS } from './version.js';

export interface Outcome {
  /** The one JSON document (with a trailing newline), or '' for a successful DEL/CHECK/STATUS/GC. */
  stdout: string;
  exitCode: 0 | 1;
  /** Text for stderr (the "about" text when CNI_COMMAND is unset). */
  stderr?: string;
}

/**
 * What a plugin executable says about itself when run with no CNI_COMMAND (libcni's skel prints
 * its "about" string and the versions it speaks on stderr, and exits 0 with nothing on stdout).
 */
export function about(plugin: Plugin): string {
  const supported = plugin.supportedVersions ?? SUPPORTED_VERSIONS;
  return `CNI ${plugin.type} plugin (mesos-cni)\nCNI protocol versions supported: ${supported.join(', ')}\n`;
}

export interface HandleOptions {
  /** Runs delegates of ours in-process (lib/plugins/in-process.ts); without it they are exec'd. */
  inProcess?: InProcess;
  /** How exec'd delegates are found and run (default: on disk). */
  exec?: PluginExec;
  /** PluginContext.releaseAfter (DEL only). */
  releaseAfter?: PromiseLike<unknown>;
  /** PluginContext.onAddresses (ADD only). */
  onAddresses?: OnAddresses;
}

function versionOf(stdin: Buffer): string | undefined {
  try {
    const v = (JSON.parse(stdin.toString('utf8')) as { cniVersion?: unknown }).cniVersion;
    return typeof v === 'string' && v ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Run one CNI command of `plugin` with the given environment and stdin. Never throws. */
export async function handle(plugin: Plugin, rawEnv: Record<string, string | undefined>, stdin: Buffer, opts: HandleOptions = {}): Promise<Outcome> {
  const cniVersion = versionOf(stdin);
  try {
    const command = rawEnv.CNI_COMMAND;
    if (command === 'VERSION') {
      // Works without any config: the spec's VERSION reads at most {"cniVersion"}.
      const supported = plugin.supportedVersions ?? SUPPORTED_VERSIONS;
      return ok({ cniVersion: cniVersion ?? LATEST, supportedVersions: [...supported] });
    }
    plugin.preflight?.(rawEnv, stdin); // a drop-in answers a missing CNI_COMMAND as its upstream did
    if (!command) return { stdout: '', exitCode: 0, stderr: about(plugin) };
    const env = parseEnv(rawEnv);
    const conf = decodeConfig(stdin);
    checkVersion(conf, plugin.supportedVersions);
    if (env.command !== 'DEL' && !hasCommand(conf.cniVersion ?? '0.1.0', env.command)) {
      throw new CniError(ErrorCode.IncompatibleVersion, `config version does not allow ${env.command}`);
    }
    validate(plugin, conf, env);
    // STATUS and GC concern the network, not a container: no namespace is given or opened.
    const perContainer = env.command !== 'STATUS' && env.command !== 'GC';
    const netns = plugin.usesNetns === false || !perContainer ? undefined : await openContainerNetns(env, rawEnv);
    try {
      return await dispatch(plugin, context(plugin, env, conf, stdin, rawEnv, opts, netns));
    } finally {
      netns?.close();
    }
  } catch (e) {
    if (e instanceof InputError && rawEnv.CNI_COMMAND === 'DEL') {
      // No ADD accepts this input, so nothing of it can exist to remove (InputError).
      createLogger(rawEnv, { plugin: plugin.type, command: 'DEL' }).warn('nothing to delete: no ADD accepts this input', { reason: e.message });
      return { stdout: '', exitCode: 0 };
    }
    return failure(e, stdin);
  }
}

/** The error document for `e`, in the version the config on `stdin` names. */
export function failure(e: unknown, stdin: Buffer | undefined): Outcome {
  const err = asCniError(e);
  return { stdout: JSON.stringify(err.toJSON((stdin && versionOf(stdin)) ?? '0.1.0')) + '\n', exitCode: 1 };
}

/** The plugin's own config checks, as ADD makes them first: what they refuse is an InputError. */
function validate(plugin: Plugin, conf: NetConf, env: CniEnv): void {
  try {
    plugin.validate?.(conf, env);
  } catch (e) {
    if (e instanceof InputError) throw e;
    const c = asCniError(e);
    throw new InputError(c.code, c.msg, c.details, { cause: e });
  }
}

async function dispatch(plugin: Plugin, ctx: PluginContext): Promise<Outcome> {
  switch (ctx.command) {
    case 'ADD': {
      const r = await plugin.add(ctx);
      return ok(plugin.answer ? plugin.answer(ctx, r) : convertResult(r, ctx.conf.cniVersion));
    }
    case 'DEL':
      await plugin.del(ctx);
      return { stdout: '', exitCode: 0 };
    case 'CHECK':
      if (!plugin.check) throw new CniError(ErrorCode.InvalidEnvironment, `${plugin.type} does not implement CHECK`);
      await plugin.check(ctx);
      return { stdout: '', exitCode: 0 };
    default:
      // As libcni's skel: a plugin without a STATUS handler is ready; one without GC holds nothing to collect.
      await (ctx.command === 'STATUS' ? plugin.status : plugin.gc)?.call(plugin, ctx);
      return { stdout: '', exitCode: 0 };
  }
}

/**
 * Open CNI_NETNS. ADD/CHECK need it; a DEL whose namespace is gone proceeds without one (the
 * runtime may have destroyed it, or Mesos rebooted). A path naming our own namespace is refused
 * (code 8, as libcni's skel): a recycled /proc/<pid>/ns/net can point at the host
 * (containernetworking/plugins#714). CNI_NETNS_OVERRIDE=1 (or true) lifts that check, as in libcni,
 * for the rare plugin run from inside the container's own namespace.
 */
async function openContainerNetns(env: CniEnv, rawEnv: Record<string, string | undefined>): Promise<Netns | undefined> {
  if (!env.netns) return undefined;
  let ns: Netns;
  try {
    ns = await Netns.open(env.netns);
  } catch (e) {
    if (env.command === 'DEL') return undefined;
    throw new CniError(ErrorCode.InvalidEnvironment, `CNI_NETNS: cannot open ${env.netns}`, (e as Error).message);
  }
  const own = Netns.current();
  const same = ns.sameAs(own);
  own.close();
  if (same && !/^(1|true)$/i.test(rawEnv.CNI_NETNS_OVERRIDE ?? '')) {
    ns.close();
    throw new CniError(ErrorCode.InvalidNetns, `CNI_NETNS: ${env.netns} is the plugin's own network namespace`);
  }
  return ns;
}

function ok(doc: object): Outcome {
  return { stdout: JSON.stringify(doc) + '\n', exitCode: 0 };
}

function context(
  plugin: Plugin,
  env: CniEnv,
  conf: NetConf,
  stdin: Buffer,
  rawEnv: Record<string, string | undefined>,
  opts: HandleOptions,
  netns: Netns | undefined,
): PluginContext {
  return {
    command: env.command,
    env,
    netns,
    conf,
    stdin,
    delegate: createDelegator(env, { inProcess: opts.inProcess, exec: opts.exec, baseEnv: rawEnv, releaseAfter: opts.releaseAfter }),
    ...(env.command === 'GC' ? { validAttachments: validAttachments(conf) } : {}),
    ...(opts.releaseAfter ? { releaseAfter: opts.releaseAfter } : {}),
    ...(opts.onAddresses && env.command === 'ADD' ? { onAddresses: opts.onAddresses } : {}),
    log: createLogger(rawEnv, { plugin: plugin.type, containerId: env.containerId, command: env.command }),
  };
}

/**
 * Read all of stdin (empty when it is a terminal or closed). Plain reads of fd 0: going through
 * process.stdin loads net and stream, ~4 ms of every plugin start (bench/startup.ts).
 */
async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  try {
    // A terminal is a character device (so is /dev/null, which holds nothing anyway).
    if (fstatSync(0).isCharacterDevice()) return Buffer.alloc(0);
    for (;;) {
      const buf = Buffer.allocUnsafe(65536);
      const n = readSync(0, buf, 0, buf.length, null);
      if (n === 0) return Buffer.concat(chunks);
      chunks.push(buf.subarray(0, n));
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EBADF') return Buffer.concat(chunks);
    if (code !== 'EAGAIN') throw e;
  }
  // A non-blocking stdin (its open file shared with a parent that set O_NONBLOCK): stream the rest.
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/**
 * The executable's main: handle the process's env and stdin, print, end the process with the exit
 * status (stdio.ts's exitWhenDone: at once, when nothing is left to write). Whatever goes wrong
 * around the plugin (stdin unreadable, stdout unwritable, a stray rejection) is answered as a
 * plugin failure is, never with a stack trace.
 */
export async function runPlugin(plugin: Plugin, opts: HandleOptions = {}): Promise<void> {
  const log = createLogger(process.env, { plugin: plugin.type, containerId: process.env.CNI_CONTAINERID, command: process.env.CNI_COMMAND });
  // A promise nobody awaited must not end the process before the answer is out (lint forbids
  // them; this is the net under that rule).
  process.on('unhandledRejection', (e) => log.error('unhandled rejection', { err: String((e as Error)?.stack ?? e) }));
  let out: Outcome;
  let stdin: Buffer | undefined;
  try {
    stdin = await readStdin();
  } catch (e) {
    const code = plugin.readFailureCode ?? ErrorCode.IoFailure;
    out = failure(new CniError(code, 'failed to read the network configuration from stdin', (e as Error).message), undefined);
  }
  if (stdin) {
    const input = stdin;
    out = await withContainerLock(process.env, (env) => handle(plugin, env, input, opts), (o) => o.exitCode === 0).catch((e: unknown) => failure(e, input));
  }
  let status: number = out!.exitCode;
  try {
    if (out!.stderr) writeAll(2, out!.stderr);
    writeAll(1, out!.stdout);
  } catch (e) {
    // Nowhere to answer: say it on stderr, and fail (an ADD the runtime cannot read did not happen).
    writeAll(2, `${plugin.type}: cannot write the answer to stdout: ${(e as Error).message}\n${out!.stdout}`);
    status = 1;
  }
  exitWhenDone(status); // the answer is out and nothing is left to do
}
