// The record of host routes an attachment installed (hostrouteif): written at ADD before the
// routes exist, read at DEL, so DEL removes them even when the container netns is gone (Mesos
// after a reboot) and whatever IPAM type handed out the addresses. One small JSON file per
// attachment: <dataDir>/<network>/<containerID>@<ifname> (a container ID holds no '@'), or, where
// that is longer than a file name may be, `sha256-<hex of it>`.
import { readdir } from 'node:fs/promises';
import { sweepTemps, writeAtomic } from '../../fs/atomic.js';
import { mkdirp } from '../../fs/mkdir.js';
import { neverThere, removeFile } from '../../fs/remove.js';
import { readRegularFile } from '../../fs/read.js';
import { join } from 'node:path';
import { CniError, ErrorCode } from '../../cni/errors.js';
import { sha256Hex } from '../../util/digest.js';

export interface HostRouteRecord {
  /** The host interface the routes go through. */
  hostrouteif: string;
  /** Route destinations, "<ip>/32" or "<ip>/128". */
  dsts: string[];
  /** The attachment (GC reads it back; a record written before these fields has them in its name only). */
  containerId?: string;
  ifname?: string;
}

export class HostRouteStore {
  readonly dir: string;

  constructor(dataDir: string, network: string) {
    this.dir = join(dataDir, network);
  }

  file(containerId: string, ifname: string): string {
    const name = `${containerId}@${ifname}`;
    return join(this.dir, name.length <= 255 ? name : `sha256-${sha256Hex(name)}`);
  }

  /** Write atomically (a crash leaves the old record or the new one, never half of one). */
  async write(containerId: string, ifname: string, rec: HostRouteRecord): Promise<void> {
    const file = this.file(containerId, ifname);
    try {
      await mkdirp(this.dir, 0o755);
      await writeAtomic(file, JSON.stringify(rec) + '\n');
    } catch (e) {
      throw new CniError(ErrorCode.IoFailure, `record host routes in ${file}`, (e as Error).message);
    }
  }

  /** The record, or undefined when there is none (never written, or already removed). */
  async read(containerId: string, ifname: string): Promise<HostRouteRecord | undefined> {
    const file = this.file(containerId, ifname);
    let text: string;
    try {
      text = readRegularFile(file);
    } catch (e) {
      // ENOTDIR, ENAMETOOLONG: the directory could never be made (a file in the way, a name too
      // long), so no record was ever written.
      if (neverThere(e)) return undefined;
      throw new CniError(ErrorCode.IoFailure, `read host routes from ${file}`, (e as Error).message);
    }
    try {
      const rec = JSON.parse(text) as HostRouteRecord;
      if (typeof rec.hostrouteif !== 'string' || !Array.isArray(rec.dsts) || rec.dsts.some((d) => typeof d !== 'string')) throw new Error('unexpected shape');
      return rec;
    } catch (e) {
      throw new CniError(ErrorCode.DecodeFailure, `read host routes from ${file}`, (e as Error).message);
    }
  }

  async remove(containerId: string, ifname: string): Promise<void> {
    await removeFile(this.file(containerId, ifname));
    await sweepTemps(this.dir); // a record's temporary file, left by a writer killed before its rename
  }

  /**
   * Every record of the network with its attachment: from the record's own fields, else from its
   * name (`<containerID>@<ifname>`); a hashed name of an old record without the fields is skipped.
   */
  async all(): Promise<(HostRouteRecord & { containerId: string; ifname: string })[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const out: (HostRouteRecord & { containerId: string; ifname: string })[] = [];
    for (const name of names.filter((n) => !n.startsWith('.'))) {
      const at = name.lastIndexOf('@');
      let rec: HostRouteRecord | undefined;
      try {
        rec = JSON.parse(readRegularFile(join(this.dir, name))) as HostRouteRecord;
      } catch {
        continue; // not a record of ours, or unreadable: left alone
      }
      const containerId = rec.containerId ?? (at > 0 ? name.slice(0, at) : undefined);
      const ifname = rec.ifname ?? (at > 0 ? name.slice(at + 1) : undefined);
      if (containerId && ifname && typeof rec.hostrouteif === 'string' && Array.isArray(rec.dsts)) out.push({ ...rec, containerId, ifname });
    }
    return out;
  }
}
