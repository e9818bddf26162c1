// A `mesos-cni daemon` inside a fake host namespace, with native launchers installed for it in a
// temp bin dir: what the daemon tests and their parity checks run against. Never /run/mesos-cni.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { ExecutionContext } from 'ava';
import { install } from '../../lib/cli/install.js';
import { DAEMON_NODE_FLAGS } from '../../lib/daemon/server.js';

export const CLI = fileURLToPath(new URL('../../bin/mesos-cni.js', import.meta.url));

/** A temp dir removed after the test. */
export async function tempDir(t: ExecutionContext, prefix = 'mcni-d-'): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), prefix));
  t.teardown(() => rm(d, { recursive: true, force: true }));
  return d;
}

/** Native launchers for every plugin, baked with `socket`. */
export async function launcherDir(t: ExecutionContext, socket: string): Promise<string> {
  const bin = join(await tempDir(t, 'mcni-l-'), 'bin');
  await install(bin, undefined, { socket });
  return bin;
}

export interface RunningDaemon {
  socket: string;
  child: ChildProcess;
  exited: Promise<number | null>;
  logText(): Promise<string>;
}

/** Start `mesos-cni daemon` in namespace `hostNs` (by name); resolves once it listens. */
export async function startDaemon(t: ExecutionContext, hostNs: string, socket?: string, env?: Record<string, string>): Promise<RunningDaemon> {
  const dir = await tempDir(t);
  const sock = socket ?? join(dir, 'run', 'daemon.sock');
  if (!socket) await mkdir(join(dir, 'run'), { mode: 0o700 });
  const log = join(dir, 'daemon.log');
  // `ip netns exec` execs node in place, so the child's pid is the daemon's.
  const child = spawn('ip', ['netns', 'exec', hostNs, process.execPath, ...DAEMON_NODE_FLAGS, CLI, 'daemon', '--socket', sock, '--log-file', log], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...env },
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  // 'close': the exit status once stderr has been read to its end too.
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    return exited.then(() => undefined);
  });
  const logText = async () => ((await readFile(log, 'utf8').catch(() => '')) as string) + stderr;
  for (let i = 0; i < 200 && !(await logText()).includes('"listening"'); i++) {
    if (child.exitCode !== null) throw new Error(`daemon exited ${child.exitCode}: ${await logText()}`);
    await sleep(25);
  }
  if (!existsSync(sock)) throw new Error(`daemon did not listen on ${sock}: ${await logText()}`);
  return { socket: sock, child, exited, logText };
}

/** What differs between any two ADDs of the same config: MAC addresses and random veth names. */
export function maskRandom(stdout: string): string {
  return stdout.replace(/"mac":"[0-9a-f:]{17}"/g, '"mac":"M"').replace(/veth[0-9a-f]{8}/g, 'vethX');
}
