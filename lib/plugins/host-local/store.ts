// host-local's lease store, in the reference plugin's on-disk format so both can share a dataDir:
// <dataDir>/<network>/<ip> holds "<containerID>\r\n<ifname>"; last_reserved_ip.<rangeIdx> holds an
// IP; <dataDir>/<network>/lock is flock'ed around every change.
//
// The files are a few bytes on a local disk, so they are read and written synchronously: an async
// call is a round trip through libuv's thread pool (an ADD would make eight), a synchronous one a
// few microseconds of the event loop, also in the daemon.
import { closeSync, constants, existsSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { createWholeSync, sweepTempsSync } from '../../fs/atomic.js';
import { withFileLock } from '../../fs/flock.js';
import { mkdirpSync } from '../../fs/mkdir.js';
import { readRegularFile } from '../../fs/read.js';
import { native } from '../../native/index.js';
import { removeFileSync } from '../../fs/remove.js';

const LINE_BREAK = '\r\n';
const LAST_PREFIX = 'last_reserved_ip.';
// A lease holds an ID and an interface name; the reference writes IDs of any length (an
// environment variable holds at most 128 KiB), so leases are read whole up to this.
const MAX_LEASE_BYTES = 1 << 20;

export interface Lease {
  ip: string;
  containerId: string;
  ifname: string;
}

export class LeaseStore {
  constructor(readonly dir: string) {}

  static async open(dataDir: string, network: string): Promise<LeaseStore> {
    const dir = join(dataDir, network);
    if (mkdirpSync(dir, 0o755)) {
      // A new store: its lock file as the reference's makes it (0750, before the umask), once.
      try {
        closeSync(openSync(join(dir, 'lock'), 'wx', 0o750));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
    }
    return new LeaseStore(dir);
  }

  /** The store if it exists, without creating anything (DEL and CHECK have nothing to make). */
  static existing(dataDir: string, network: string): LeaseStore | undefined {
    const dir = join(dataDir, network);
    return existsSync(dir) ? new LeaseStore(dir) : undefined;
  }

  /** Run `fn` under the network's lock (the same flock the reference plugin takes). */
  locked<T>(fn: () => Promise<T>): Promise<T> {
    return withFileLock(join(this.dir, 'lock'), fn);
  }

  /**
   * Create the lease file exclusively, with its owner already in it; false when the address is
   * taken. (The reference creates the file, then writes the owner: a kill between the two leaves
   * an empty lease no DEL can ever match, and the address is lost until GC.)
   */
  async reserve(ip: string, containerId: string, ifname: string, rangeId: number): Promise<boolean> {
    if (!createWholeSync(join(this.dir, ip), containerId.trim() + LINE_BREAK + ifname)) return false;
    writeCursor(join(this.dir, LAST_PREFIX + rangeId), ip);
    return true;
  }

  async lastReserved(rangeId: number): Promise<string | undefined> {
    try {
      return readRegularFile(join(this.dir, LAST_PREFIX + rangeId)).trim();
    } catch {
      return undefined;
    }
  }

  /**
   * Every lease file (lock and last_reserved_ip.* are not leases), each read whole, in one native
   * job: ADD's duplicate check reads them all, one per attached container, so this is the part of
   * an attach that grows with the network (docs/host-local.md has the cost). A file over
   * MAX_LEASE_BYTES has no owner we could match: it still holds its address. `containing`: only
   * the leases whose file holds that text (the addon compares the bytes; 500 leases are then not
   * 500 objects made and parsed on this thread, 0.5-0.8 ms of an ADD here), a superset of
   * those `byId` keeps.
   */
  async leases(containing?: string): Promise<Lease[]> {
    const out: Lease[] = [];
    const files = await native.readSmallFiles(this.dir, MAX_LEASE_BYTES, containing);
    // A lease's temporary file, left by a writer killed before it linked it into place.
    sweepTempsSync(this.dir, files.map((f) => f.name));
    for (const { name, text, truncated } of files) {
      if (name === 'lock' || name.startsWith(LAST_PREFIX) || name.startsWith('.')) continue;
      const [containerId = '', ifname = ''] = truncated ? [] : text.trim().split(LINE_BREAK);
      out.push({ ip: name, containerId, ifname });
    }
    return out;
  }

  /**
   * Leases of (containerId, ifname). Like the reference, a file holding only the ID (written by
   * versions before ifname was recorded) matches any ifname, but only when no exact match exists.
   */
  async byId(containerId: string, ifname: string): Promise<Lease[]> {
    const id = containerId.trim();
    // An ID holding U+FFFD could match text decoded from invalid bytes, which are not its own.
    const all = await this.leases(id.includes('\uFFFD') ? undefined : id);
    const exact = all.filter((l) => l.containerId === id && l.ifname === ifname);
    return exact.length ? exact : all.filter((l) => l.containerId === id && l.ifname === '');
  }

  async release(ip: string): Promise<void> {
    removeFileSync(join(this.dir, ip));
  }

}

/**
 * The range's cursor rewritten in place: its bytes over the old ones, then cut to their length.
 * Not opened with O_TRUNC, as the reference does (and writeFileSync): on ext4 truncating a file with
 * data frees its block and, on close, starts its writeback (auto_da_alloc), 0.22 ms per ADD here
 * against 0.01 for this, on the event loop. A kill between the write and the cut leaves the new
 * address followed by the old one's last characters: an address that does not parse, or another
 * one; either is only where the next allocation starts looking (it reads as none, or as a place
 * in or out of the range), never a lease, which is created exclusively. A temporary file renamed
 * over the cursor was left behind by every kill between the two.
 */
function writeCursor(path: string, ip: string): void {
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT, 0o644);
  try {
    const bytes = Buffer.from(ip, 'latin1');
    writeSync(fd, bytes, 0, bytes.length, 0);
    ftruncateSync(fd, bytes.length);
  } finally {
    closeSync(fd);
  }
}
