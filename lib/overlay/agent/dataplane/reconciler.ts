// Level-triggered programming of the data plane. A change of the desired plane (a watch delta)
// is applied as the diff from what was last applied, in one netlink batch; on a timer, after a
// failure and at start the kernel itself is read and diffed instead, which repairs drift (a
// route deleted by hand comes back within one period). Runs never overlap: changes arriving
// during a run are folded into the next one. Deletions happen only while the desired plane is
// authoritative (fresh from the master), so a restart never withdraws anything it has not seen go.
import type { Logger } from 'pino';
import { NetlinkHandle } from '../../../netlink/index.js';
import type { Netns } from '../../../netns/index.js';
import { applyOps } from './apply.js';
import { diffPlanes } from './diff.js';
import { ensureVtep, readPlane } from './kernel.js';
import { emptyPlane, planeSize, sameVtep, type Plane } from './plane.js';

export interface Applied {
  /** Kernel read and diffed (timer, start, after a failure) rather than the last applied plane. */
  full: boolean;
  /** Netlink ops sent in the batch. */
  ops: number;
  /** Netlink requests they went in (1 for a change; a large apply is pipelined in chunks). */
  requests: number;
  ms: number;
  /** Peer entries (neighbours, FDB, routes) in the desired plane. */
  entries: number;
  authoritative: boolean;
  /** What happened to the VTEP ('' when nothing). */
  vtep: string;
}

export interface ReconcilerOptions {
  ns?: Netns;
  intervalMs: number;
  log: Logger;
  onApplied?(a: Applied): void;
  onError?(e: Error): void;
}

const FIRST_RETRY_MS = 500;

export class Reconciler {
  #nl: NetlinkHandle | undefined;
  #desired: Plane = emptyPlane();
  #authoritative = false;
  #applied: Plane | undefined;
  #index: number | undefined;
  #needFull = true;
  #running: Promise<void> | undefined;
  #again = false;
  #timer: NodeJS.Timeout | undefined;
  #retry: NodeJS.Timeout | undefined;
  #retryMs = FIRST_RETRY_MS;
  #closed = false;

  constructor(readonly opts: ReconcilerOptions) {}

  async open(): Promise<void> {
    this.#nl = await NetlinkHandle.open(this.opts.ns);
    this.#timer = setInterval(() => this.#kick(true), this.opts.intervalMs);
  }

  /** The plane to converge to; `authoritative` once it comes from the master in this process. */
  set(desired: Plane, authoritative: boolean): void {
    if (authoritative && !this.#authoritative) this.#needFull = true;
    this.#desired = desired;
    this.#authoritative = authoritative;
    this.#kick(false);
  }

  get desired(): Plane {
    return this.#desired;
  }

  /** Read the kernel and converge now (tests, and the timer). Resolves when that run is done. */
  async reconcileNow(): Promise<void> {
    this.#kick(true);
    while (this.#running) await this.#running;
  }

  #kick(full: boolean): void {
    if (this.#closed) return;
    if (full) this.#needFull = true;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#loop().finally(() => (this.#running = undefined));
  }

  async #loop(): Promise<void> {
    do {
      this.#again = false;
      try {
        await this.#once();
        this.#retryMs = FIRST_RETRY_MS;
      } catch (e) {
        this.#needFull = true;
        this.opts.onError?.(e as Error);
        this.opts.log.error({ err: (e as Error).message, retryMs: this.#retryMs }, 'data plane: programming failed; reading the kernel again');
        clearTimeout(this.#retry);
        this.#retry = setTimeout(() => this.#kick(true), this.#retryMs);
        this.#retryMs = Math.min(this.#retryMs * 2, this.opts.intervalMs);
      }
    } while (this.#again && !this.#closed);
  }

  async #once(): Promise<void> {
    const nl = this.#nl;
    const want = this.#desired;
    const authoritative = this.#authoritative;
    // No overlay held yet: nothing to program, and an existing VTEP is left as it is.
    if (!nl || !want.vtep) return;
    const t0 = performance.now();
    const full = this.#needFull || this.#applied === undefined || this.#index === undefined || !sameVtep(this.#applied.vtep, want.vtep);
    let vtep = '';
    let base: Plane;
    if (full) {
      this.#needFull = false;
      const v = await ensureVtep(nl, this.opts.ns, want.vtep, [...want.addrs].some((a) => a.includes(':')));
      this.#index = v.index;
      vtep = v.change;
      if (vtep) this.opts.log.warn({ vtep: want.vtep.name, change: vtep }, 'data plane: VTEP ' + vtep);
      base = await readPlane(nl, v.index);
    } else base = this.#applied!;
    const ops = diffPlanes(base, want, this.#index!, authoritative);
    const requests = await applyOps(nl, ops);
    this.#applied = want;
    const a: Applied = { full, ops: ops.length, requests, ms: performance.now() - t0, entries: planeSize(want), authoritative, vtep };
    if (ops.length > 0) this.opts.log.info(a, full ? 'data plane: kernel reconciled' : 'data plane: change applied');
    this.opts.onApplied?.(a);
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    clearTimeout(this.#retry);
    while (this.#running) await this.#running;
    this.#nl?.close();
    this.#nl = undefined;
  }
}
