// One attach or detach of a container at a time, across processes: an ADD racing the DEL of the same
// container ID would otherwise interleave (eth0 and DNAT rules left, the lease released). The
// daemon also serialises per container in memory; this flock makes a standalone plugin, the
// daemon and a mix of both (a launcher falling back while the daemon restarts) behave alike.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { withFileLock } from '../fs/flock.js';
import { validContainerId } from './env.js';

export const CONTAINER_LOCK_DIR = '/run/mesos-cni/containers';

/**
 * Set in the environment of everything run under the lock: a plugin of ours exec'd as a delegate
 * sees its container already locked by its caller (waiting for it would deadlock).
 */
export const LOCKED_ENV = 'MESOS_CNI_CONTAINER_LOCKED';

/**
 * How long a call waits for another call on the same container: 60 s (an ADD may legitimately take
 * seconds), or MESOS_CNI_CONTAINER_LOCK_TIMEOUT_MS. Then it fails with code 11, "try again later".
 */
function timeoutMs(): number {
  const v = Number(process.env.MESOS_CNI_CONTAINER_LOCK_TIMEOUT_MS);
  return Number.isFinite(v) && v > 0 ? v : 60_000;
}

let dirMade = false;

/**
 * Run `fn` with the container's lock held (ADD, DEL and CHECK of a valid container ID; anything
 * else runs at once). `fn` gets the environment to run with: `env` plus LOCKED_ENV. The lock file
 * goes after a DEL that `succeeded` and after an ADD that failed (nothing of either is left), so
 * finished containers leave no file behind.
 */
export async function withContainerLock<T>(
  env: Record<string, string | undefined>,
  fn: (env: Record<string, string | undefined>) => Promise<T>,
  succeeded: (result: T) => boolean,
): Promise<T> {
  const id = env.CNI_CONTAINERID;
  const command = env.CNI_COMMAND;
  if (!id || !validContainerId(id) || !['ADD', 'DEL', 'CHECK'].includes(command ?? '') || env[LOCKED_ENV] === id) return fn(env);
  if (!dirMade) {
    mkdirSync(CONTAINER_LOCK_DIR, { recursive: true, mode: 0o700 });
    dirMade = true;
  }
  return withFileLock(join(CONTAINER_LOCK_DIR, id), () => fn({ ...env, [LOCKED_ENV]: id }), {
    timeoutMs: timeoutMs(),
    unlinkAfter: (r) => r !== undefined && command !== 'CHECK' && (command === 'DEL') === succeeded(r as T),
  });
}
