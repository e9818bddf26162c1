// Minuteman registration: a `minuteman` link in the container (where dcos-net installs VIP routes),
// then the checkpoint `<path>/<container ID>` holding the netns path, which dcos-net watches.
import { open, rm } from 'node:fs/promises';
import { mkdirp } from '../../fs/mkdir.js';
import { readRegularFile } from '../../fs/read.js';
import { removeFile } from '../../fs/remove.js';
import { sweepTemps, writeAtomic } from '../../fs/atomic.js';
import { join } from 'node:path';
import { asCniError, CniError, ErrorCode } from '../../cni/errors.js';
import type { Rollback } from '../../cni/rollback.js';
import type { NetlinkHandle } from '../../netlink/handle.js';
import type { Link } from '../../netlink/link.js';
import { addStandalone } from '../shared/standalone.js';
import type { MinutemanConfig } from './config.js';

export const MINUTEMAN_IFNAME = 'minuteman';

const fail = (msg: string, e?: unknown) => {
  if (e === undefined) return new CniError(ErrorCode.Plugin, `minuteman: ${msg}`);
  const err = asCniError(e);
  return new CniError(err.code, `minuteman: ${msg}: ${err.msg}`, err.details, { cause: e });
};

export function checkpointFile(cfg: MinutemanConfig, containerId: string): string {
  return join(cfg.path, containerId);
}

/**
 * Write the checkpoint so that dcos-net, which acts on IN_CLOSE_WRITE of a name not starting with
 * '.', reads it whole: the content goes to a dot-file renamed into place (a reader never sees a
 * partial file), then the final name is opened for writing and closed untouched — a rename alone
 * raises IN_MOVED_TO, which dcos-net does not watch, and it would never hear of the container.
 */
async function writeCheckpoint(file: string, dir: string, netns: string): Promise<void> {
  // The temporary name is not the container's (with its ID it could outgrow NAME_MAX) and is a
  // dot-file, which dcos-net ignores. Exactly the path: no newline, dcos-net uses the bytes as is.
  await writeAtomic(file, netns, 0o644);
  await (await open(file, 'r+')).close();
}

/** ADD's minuteman step: the link first (dcos-net looks it up as soon as it sees the file), then the file. */
export async function register(cfg: MinutemanConfig, container: NetlinkHandle, containerId: string, netns: string, rb: Rollback): Promise<void> {
  try {
    // A dummy, or a port-less bridge where the kernel has no dummy driver; born in the container.
    await addStandalone(container, { name: MINUTEMAN_IFNAME, up: true });
  } catch (e) {
    throw fail(`failed to create the ${MINUTEMAN_IFNAME} interface in ${netns}`, e);
  }
  rb.push(`delete link ${MINUTEMAN_IFNAME}`, () => container.link.del(MINUTEMAN_IFNAME));
  const file = checkpointFile(cfg, containerId);
  try {
    await mkdirp(cfg.path, 0o755);
    rb.push(`remove ${file}`, () => rm(file, { force: true }));
    await writeCheckpoint(file, cfg.path, netns);
  } catch (e) {
    throw fail(`couldn't checkpoint the network namespace of container ${containerId} in ${cfg.path}`, e);
  }
}

/** DEL's first step: the file goes (dcos-net lets go of the namespace) before the link does. */
export async function removeCheckpoint(cfg: MinutemanConfig, containerId: string): Promise<void> {
  const file = checkpointFile(cfg, containerId);
  try {
    await removeFile(file); // a directory that could never be made: nothing was registered
    await sweepTemps(cfg.path); // a checkpoint's temporary file, left by a writer killed before its rename
  } catch (e) {
    throw fail(`unable to remove the registration ${file}`, e);
  }
}

/** What register makes: a dummy, or the bridge standing in for one. */
export const isMinutemanLink = (l: Link) => l.name === MINUTEMAN_IFNAME && (l.kind === 'dummy' || l.kind === 'bridge');

/** CHECK's minuteman step: the link is up and the file names this namespace, byte for byte. */
export async function verify(cfg: MinutemanConfig, container: NetlinkHandle, containerId: string, netns: string): Promise<void> {
  const link = await container.link.find(MINUTEMAN_IFNAME);
  if (!link) throw fail(`interface ${MINUTEMAN_IFNAME} missing in ${netns}`);
  if (!link.up) throw fail(`interface ${MINUTEMAN_IFNAME} is down`);
  const file = checkpointFile(cfg, containerId);
  let content: string;
  try {
    content = readRegularFile(file);
  } catch (e) {
    throw fail(`registration ${file} unreadable`, e);
  }
  if (content !== netns) throw fail(`registration ${file} holds ${JSON.stringify(content)}, expected ${JSON.stringify(netns)}`);
}
