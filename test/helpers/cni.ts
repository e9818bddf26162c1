// Running CNI plugins in tests the way a runtime does: exec with the CNI env, config on stdin.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execPlugin, type ExecResult } from '../../lib/cni/invoke.js';
import { install } from '../../lib/cli/install.js';

export const REFERENCE_DIR = '/usr/lib/cni';
export const hasReference = (type: string) => existsSync(`${REFERENCE_DIR}/${type}`);

/** Absolute path of one of our compiled plugin executables (dist/bin/<type>.js). */
export function ourPlugin(type: string): string {
  return fileURLToPath(new URL(`../../bin/${type}.js`, import.meta.url));
}

/** A CNI bin dir holding our installed launchers (as `mesos-cni install` writes them), made once. */
export const OUR_BIN_DIR = fileURLToPath(new URL('../../cni-bin', import.meta.url));
let installed: Promise<string[]> | undefined;
export async function ourBinDir(): Promise<string> {
  installed ??= install(OUR_BIN_DIR); // atomic renames: parallel test processes may race safely
  await installed;
  return OUR_BIN_DIR;
}

export interface CniCall {
  command: 'ADD' | 'DEL' | 'CHECK' | 'VERSION' | 'STATUS' | 'GC';
  containerId?: string;
  netns?: string;
  ifname?: string;
  path?: string;
  args?: string;
  extraEnv?: Record<string, string>;
  /** Run the plugin inside this namespace (the fake host), via `ip netns exec`. */
  hostNs?: string;
}

/** Exec `file` (a .js file runs under this node) as a runtime would. */
export function callPlugin(file: string, conf: object, c: CniCall): Promise<ExecResult> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', CNI_COMMAND: c.command, ...c.extraEnv };
  if (c.containerId) env.CNI_CONTAINERID = c.containerId;
  if (c.netns) env.CNI_NETNS = c.netns;
  env.CNI_IFNAME = c.ifname ?? 'eth0';
  env.CNI_PATH = c.path ?? REFERENCE_DIR;
  if (c.args) env.CNI_ARGS = c.args;
  const argv = file.endsWith('.js') || file.endsWith('.cjs') ? [process.execPath, file] : [file];
  if (c.hostNs) return execPlugin('/usr/sbin/ip', env, JSON.stringify(conf), ['netns', 'exec', c.hostNs, ...argv]);
  return execPlugin(argv[0]!, env, JSON.stringify(conf), argv.slice(1));
}

/** One implementation of a plugin type as a comparison test runs it: ours, or the reference Go one. */
export interface Impl {
  name: 'ours' | 'reference';
  /** The executable. */
  file: () => Promise<string>;
  /** CNI_PATH for it (ours find ours first, then the reference plugins). */
  path: () => Promise<string>;
}

export const oursFor = (type: string): Impl => ({ name: 'ours', file: async () => join(await ourBinDir(), type), path: async () => `${await ourBinDir()}:${REFERENCE_DIR}` });
export const referenceFor = (type: string): Impl => ({ name: 'reference', file: async () => `${REFERENCE_DIR}/${type}`, path: async () => REFERENCE_DIR });
