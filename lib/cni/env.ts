// The CNI environment (CNI_COMMAND, CNI_CONTAINERID, ...): which variable each command needs,
// CNI_ARGS parsing, and the checks libcni's skel makes (container ID and interface name shape).
import { CniError, ErrorCode, InputError } from './errors.js';

export const COMMANDS = ['ADD', 'DEL', 'CHECK', 'VERSION', 'STATUS', 'GC'] as const;
export type Command = (typeof COMMANDS)[number];

export interface CniEnv {
  command: Command;
  containerId: string;
  /** Absent on some DELs (Mesos after a reboot; spec allows it). */
  netns: string | undefined;
  ifname: string;
  /** CNI_ARGS as pairs, in order (malformed pairs left out: see argsError). */
  args: [string, string][];
  /**
   * Why CNI_ARGS did not parse, if it did not. Only plugins that read CNI_ARGS refuse it (cniArgs()),
   * as with libcni, where each plugin's LoadArgs checks it: a pair meant for another plugin in a
   * chain must not fail this one.
   */
  argsError?: CniError;
  /** The raw CNI_ARGS string, forwarded verbatim to delegates. */
  argsRaw: string | undefined;
  /** CNI_PATH split on ':'. */
  path: string[];
}

type Var = 'CNI_CONTAINERID' | 'CNI_NETNS' | 'CNI_IFNAME' | 'CNI_PATH';
const REQUIRED: Record<Command, Var[]> = {
  ADD: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_PATH'],
  CHECK: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_PATH'],
  DEL: ['CNI_CONTAINERID', 'CNI_IFNAME', 'CNI_PATH'],
  GC: ['CNI_PATH'],
  STATUS: [],
  VERSION: [],
};

const CONTAINER_ID = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/**
 * The longest container ID any plugin of ours accepts: the port mapper's rule tag
 * `container_id: <id>` (Mesos' own) must fit an iptables comment, 255 characters. Every plugin
 * takes the same bound (also the dcos-l4lb checkpoint, a file named by the ID, fits a file name).
 */
export const MAX_CONTAINER_ID = 241;

/** Whether `id` is a container ID that ADD accepts (CNI's characters, at most MAX_CONTAINER_ID). */
export function validContainerId(id: string): boolean {
  return id.length <= MAX_CONTAINER_ID && CONTAINER_ID.test(id);
}

/** Parse "K=V;K=V" (CNI_ARGS). Values may contain '='; empty input means no pairs. */
export function parseCniArgs(raw: string | undefined): [string, string][] {
  const { args, argsError } = lenientArgs(raw);
  if (argsError) throw argsError;
  return args;
}

/** CNI_ARGS for a plugin that reads them: the pairs, or the parse error (code 4). */
export function cniArgs(e: CniEnv): [string, string][] {
  if (e.argsError) throw e.argsError;
  return e.args;
}

/** The well-formed pairs of CNI_ARGS, and the first malformed one's error (kept for cniArgs()). */
function lenientArgs(raw: string | undefined): { args: [string, string][]; argsError?: CniError } {
  const args: [string, string][] = [];
  let argsError: CniError | undefined;
  for (const pair of raw ? raw.split(';') : []) {
    const eq = pair.indexOf('=');
    if (eq > 0) args.push([pair.slice(0, eq), pair.slice(eq + 1)]);
    else argsError ??= new InputError(ErrorCode.InvalidEnvironment, `CNI_ARGS: invalid pair ${JSON.stringify(pair)}: expected KEY=VALUE`);
  }
  return { args, ...(argsError ? { argsError } : {}) };
}

/** Read and check the environment for the command it names. */
export function parseEnv(env: Record<string, string | undefined>): CniEnv {
  const command = env.CNI_COMMAND;
  if (!command) throw new CniError(ErrorCode.InvalidEnvironment, 'required env variables [CNI_COMMAND] missing');
  if (!(COMMANDS as readonly string[]).includes(command)) {
    throw new CniError(ErrorCode.InvalidEnvironment, `CNI_COMMAND: expected one of ${COMMANDS.join(', ')}, got ${JSON.stringify(command)}`);
  }
  const cmd = command as Command;
  const missing = REQUIRED[cmd].filter((v) => !env[v]);
  if (missing.length) throw new CniError(ErrorCode.InvalidEnvironment, `required env variables [${missing.join(',')}] missing`);
  const containerId = env.CNI_CONTAINERID ?? '';
  if (containerId && !CONTAINER_ID.test(containerId)) {
    throw new InputError(ErrorCode.InvalidEnvironment, 'invalid characters in containerID', containerId);
  }
  if (containerId.length > MAX_CONTAINER_ID) {
    throw new InputError(ErrorCode.InvalidEnvironment, `CNI_CONTAINERID: expected at most ${MAX_CONTAINER_ID} characters, got ${containerId.length}`);
  }
  const ifname = env.CNI_IFNAME ?? '';
  if (ifname) checkIfname(ifname);
  return {
    command: cmd,
    containerId,
    netns: env.CNI_NETNS || undefined,
    ifname,
    ...lenientArgs(env.CNI_ARGS),
    argsRaw: env.CNI_ARGS || undefined,
    path: (env.CNI_PATH ?? '').split(':').filter(Boolean),
  };
}

function checkIfname(name: string): void {
  if (name.length > 15) throw new InputError(ErrorCode.InvalidEnvironment, `interface name is too long`, `interface name should be less than 16 characters`);
  // '%' on top of the spec's rules: the kernel reads such a name as a template ("eth%d") and picks
  // another name, which a DEL would then never find.
  if (name === '.' || name === '..' || /[/:%\s\0]/.test(name)) {
    throw new InputError(ErrorCode.InvalidEnvironment, `interface name contains an invalid character`, name);
  }
  // The kernel refuses these two for any link (they would clash with /proc/sys/net/*/conf/{all,default}).
  if (name === 'all' || name === 'default') {
    throw new InputError(ErrorCode.InvalidEnvironment, `interface name is reserved by the kernel`, name);
  }
}

/** The environment a runtime gives a plugin, as variables (for exec'ing a delegate). */
export function envVars(e: CniEnv, command: Command = e.command): Record<string, string> {
  const out: Record<string, string> = { CNI_COMMAND: command, CNI_PATH: e.path.join(':') };
  // STATUS and GC concern the network: a runtime gives them no container, interface or namespace.
  if (command === 'STATUS' || command === 'GC') return out;
  out.CNI_CONTAINERID = e.containerId;
  out.CNI_IFNAME = e.ifname;
  if (e.netns) out.CNI_NETNS = e.netns;
  if (e.argsRaw) out.CNI_ARGS = e.argsRaw;
  return out;
}
