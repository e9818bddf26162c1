// Which dcos-l4lb network each attachment belongs to, on disk, for GC: the spartan lease (in the
// host-local store `spartan-network`, shared by every dcos-l4lb network) and the minuteman
// checkpoint (`<path>/<container ID>`) do not say it. One small JSON file per attachment, written at
// ADD before the spartan and minuteman steps and removed at the end of DEL:
//   <spartan store dir>/.dcos-l4lb/<network>/<containerID>@<ifname>   (or sha256-<hex> when long)
// beside the leases it accounts for, so both survive (or vanish with) the same disk; no network
// name starts with '.', and host-local reads no directory there.
import { readdir, rmdir } from 'node:fs/promises';
import { sweepTemps, writeAtomic } from '../../fs/atomic.js';
import { mkdirp } from '../../fs/mkdir.js';
import { removeFile } from '../../fs/remove.js';
import { join } from 'node:path';
import { readRegularFile } from '../../fs/read.js';
import { CniError, ErrorCode } from '../../cni/errors.js';
import { sha256Hex } from '../../util/digest.js';

/** host-local's own default store, where the spartan lease goes without spartan.dataDir. */
export const HOST_LOCAL_DEFAULT_DIR = '/var/lib/cni/networks';

export interface L4Record {
  containerId: string;
  ifname: string;
  /** The container's namespace at ADD (GC removes our links there while it exists). */
  netns: string;
}

export class RecordStore {
  readonly root: string;
  readonly dir: string;

  constructor(spartanDataDir: string | undefined, network: string) {
    this.root = join(spartanDataDir ?? HOST_LOCAL_DEFAULT_DIR, '.dcos-l4lb');
    this.dir = join(this.root, network);
  }

  file(containerId: string, ifname: string): string {
    const name = `${containerId}@${ifname}`;
    return join(this.dir, name.length <= 255 ? name : `sha256-${sha256Hex(name)}`);
  }

  async write(rec: L4Record): Promise<void> {
    const file = this.file(rec.containerId, rec.ifname);
    for (let attempt = 1; ; attempt++) {
      try {
        await mkdirp(this.dir, 0o755);
        await writeAtomic(file, JSON.stringify(rec));
        return;
      } catch (e) {
        // The directory went between the two steps: a DEL removed it with its last record (remove).
        if ((e as NodeJS.ErrnoException).code === 'ENOENT' && attempt < 3) continue;
        throw new CniError(ErrorCode.IoFailure, `record the attachment in ${file}`, (e as Error).message);
      }
    }
  }

  /**
   * The record, then the network's directory if that was its last (a network no longer used leaves
   * nothing behind, even in host-local's default store where records of a config without spartan go).
   * A record written meanwhile keeps the directory (ENOTEMPTY); a writer that finds it gone makes it again.
   */
  async remove(containerId: string, ifname: string): Promise<void> {
    await removeFile(this.file(containerId, ifname));
    await sweepTemps(this.dir); // a record's temporary file, left by a writer killed before its rename
    await rmdir(this.dir).catch(() => undefined);
  }

  /** Every record of this network (unreadable files left alone). */
  async all(): Promise<L4Record[]> {
    return readRecords(this.dir);
  }

  /** Whether any network's record names this container (its checkpoint is still someone's). */
  async containerRecorded(containerId: string): Promise<boolean> {
    for (const net of await readdir(this.root).catch(() => [] as string[])) {
      if ((await readRecords(join(this.root, net))).some((r) => r.containerId === containerId)) return true;
    }
    return false;
  }
}

async function readRecords(dir: string): Promise<L4Record[]> {
  const out: L4Record[] = [];
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (name.startsWith('.')) continue;
    try {
      const r = JSON.parse(readRegularFile(join(dir, name))) as L4Record;
      if (typeof r.containerId === 'string' && typeof r.ifname === 'string' && typeof r.netns === 'string') out.push(r);
    } catch {
      // not a record of ours
    }
  }
  return out;
}
