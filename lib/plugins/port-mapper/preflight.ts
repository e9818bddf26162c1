// The checks upstream makes before doing anything, in its order and with its texts: environment,
// JSON, config, the delegate's executable, then the command. Runs before the skel's generic checks
// (which then only add ours: container ID characters, interface name shape).
import { accessSync, constants, statSync } from 'node:fs';
import { join } from 'node:path';
import { isObject } from '../../cni/config.js';
import { asCniError, CniError, InputError } from '../../cni/errors.js';
import { MAX_CONTAINER_ID } from '../../cni/env.js';
import { parseConfig } from './config.js';
import { badArgs, Code } from './errors.js';
const TYPE = /^[A-Za-z0-9][A-Za-z0-9_.+-]{0,127}$/;
export const COMMANDS = ['ADD', 'DEL', 'CHECK', 'STATUS', 'GC'];

/** `os::which`: the first executable regular file named `type` in a ':'-separated path. */
export function whichSync(type: string, path: string): string | undefined {
  if (!TYPE.test(type)) return undefined; // a name with '/' would escape the plugin directories
  for (const dir of path.split(':').filter(Boolean)) {
    const file = join(dir, type);
    try {
      accessSync(file, constants.X_OK);
      if (statSync(file).isFile()) return file;
    } catch {
      // not here; try the next directory
    }
  }
  return undefined;
}

export function preflight(env: Record<string, string | undefined>, stdin: Buffer): void {
  const missing = (v: string) => env[v] === undefined || env[v] === '';
  if (missing('CNI_COMMAND')) throw badArgs("Unable to find environment variable 'CNI_COMMAND'");
  if (env.CNI_COMMAND === 'STATUS' || env.CNI_COMMAND === 'GC') {
    // Spec 1.1.0 commands of the network (never sent by Mesos): no container, interface or namespace.
    if (env.CNI_COMMAND === 'GC' && missing('CNI_PATH')) throw badArgs("Unable to find environment variable 'CNI_PATH'");
    parseInput(stdin);
    return;
  }
  if (missing('CNI_CONTAINERID')) throw badArgs("Unable to find environment variable 'CNI_CONTAINERID'");
  if (env.CNI_COMMAND !== 'DEL' && missing('CNI_NETNS')) {
    throw badArgs("Unable to find environment variable 'CNI_NETNS' for non-'DEL' command");
  }
  for (const v of ['CNI_IFNAME', 'CNI_PATH']) {
    if (missing(v)) throw badArgs(`Unable to find environment variable '${v}'`);
  }
  if (env.CNI_CONTAINERID!.length > MAX_CONTAINER_ID) {
    // A DEL of it succeeds (skel): no ADD accepted it, so no rule can carry it.
    throw new InputError(
      Code.BadArgs,
      `Invalid environment variable 'CNI_CONTAINERID': longer than ${MAX_CONTAINER_ID} characters (the rule tag must fit an iptables comment)`,
    );
  }

  const cfg = parseInput(stdin);
  if (!whichSync(cfg.delegateType, env.CNI_PATH!)) {
    throw badArgs(`Could not find the delegate plugin '${cfg.delegateType}' in '${env.CNI_PATH}'`);
  }
  if (!COMMANDS.includes(env.CNI_COMMAND!)) throw new CniError(Code.UnsupportedCommand, `Unsupported command: ${env.CNI_COMMAND}`);
}

/** stdin as JSON and the config in it, as upstream checks them; what they refuse is an InputError. */
function parseInput(stdin: Buffer): ReturnType<typeof parseConfig> {
  try {
    let doc: unknown;
    try {
      doc = JSON.parse(stdin.toString('utf8'));
    } catch (e) {
      throw badArgs((e as Error).message);
    }
    if (!isObject(doc)) throw badArgs('Unexpected JSON type parsed');
    return parseConfig(doc);
  } catch (e) {
    const c = asCniError(e);
    throw new InputError(c.code, c.msg, c.details, { cause: e });
  }
}
