// Notifications a DEL could not deliver (the contrail-mesos-manager or the overlay master down):
// kept as files and sent again by every later call of the plugin, so a DEL never fails for a
// controller that is away and the controller still learns of it. Upstream failed the DEL instead,
// before it removed anything (the tap and port files stayed until a DEL succeeded).
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../cni/log.js';
import { writeAtomic } from '../../fs/atomic.js';
import { mkdirp } from '../../fs/mkdir.js';
import { removeFile } from '../../fs/remove.js';
import { sha256Hex } from '../../util/digest.js';

/** One undelivered call: a POST of `body` (raw text) to `path` at the first of `targets` that answers. */
export interface Pending {
  /** What it is, for logs: "manager DEL <cid>", "master detach <cid>/<if>". */
  what: string;
  targets: string[];
  path: string;
  body: string;
  /** When the DEL that could not deliver it ran (ms since the epoch). */
  since: number;
}

/** Sends one pending call; resolves when the controller took it (a 2xx), rejects otherwise. */
export type Deliver = (p: Pending) => Promise<void>;

const fileOf = (dir: string, p: Pending) => join(dir, `${sha256Hex(`${p.path}\n${p.body}`).slice(0, 32)}.json`);

export async function keep(dir: string, p: Pending, log: Logger): Promise<void> {
  await mkdirp(dir, 0o700);
  await writeAtomic(fileOf(dir, p), JSON.stringify(p), 0o600);
  log.warn('kept for later delivery', { what: p.what, dir });
}

/**
 * Try every pending call once, oldest first, until `deadline` (ms since the epoch); delivered ones
 * go. Never throws: a call that still fails stays for the next try. Returns how many were delivered.
 */
export async function flush(dir: string, deliver: Deliver, log: Logger, deadline: number): Promise<number> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.json'));
  } catch {
    return 0; // no outbox: nothing was ever kept
  }
  const items: { file: string; p: Pending }[] = [];
  for (const n of names) {
    try {
      items.push({ file: join(dir, n), p: JSON.parse(await readFile(join(dir, n), 'utf8')) as Pending });
    } catch {
      // A file we cannot read is no notification of ours (a torn one cannot exist: written whole).
    }
  }
  items.sort((a, b) => a.p.since - b.p.since);
  let sent = 0;
  for (const { file, p } of items) {
    if (Date.now() > deadline) break;
    try {
      await deliver(p);
      await removeFile(file);
      sent++;
      log.info('delivered a kept notification', { what: p.what, keptMs: Date.now() - p.since });
    } catch (e) {
      log.warn('a kept notification is still undelivered', { what: p.what, error: (e as Error).message });
      break; // the controller is still away: the rest would fail alike
    }
  }
  return sent;
}
