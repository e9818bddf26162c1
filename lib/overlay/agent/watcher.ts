// The agent's view of every agent, kept by long-polling the master's watch: one full answer, then
// deltas (the changed agents, the deleted IPs) as they happen, never a full re-poll per change. A
// reply from a new epoch (first contact in this process, another leader, a restarted master) is a
// new term: the agent registers again. A failed poll is retried with a short backoff; a leader
// change announced by the detector cuts the current poll short.
import type { Logger } from 'pino';
import type { AgentInfo } from '../master/types.js';
import { recordKey, type ContrailRecord } from '../contrail/model.js';
import type { MasterClient } from './master-client.js';

export interface WatchHandlers {
  /** A new leadership term began (also the first answer this process gets). */
  term(epoch: string, master: string, localAddress: string | undefined): void;
  /** Agents changed; `full`: the map was replaced. */
  changed(full: boolean, changed: AgentInfo[], deleted: string[]): void;
  /** A poll failed (the first failure after a success is logged by the caller). */
  lost(e: Error): void;
}

export interface WatchStart {
  epoch?: string;
  version?: number;
  agents?: AgentInfo[];
}

/** How long a poll parks at the master (its default; at most 300 s there). */
export const POLL_MS = 30_000;
const MIN_BACKOFF_MS = 200;
const MAX_BACKOFF_MS = 5_000;

export class MasterWatch {
  epoch: string | undefined;
  version: number | undefined;
  readonly agents = new Map<string, AgentInfo>();
  /** The master's Contrail objects by key (local mode; docs/contrail.md). */
  readonly records = new Map<string, ContrailRecord>();
  connected = false;
  #termSeen = false;
  #closed = false;
  #abort: AbortController | undefined;
  #sleep: { timer: NodeJS.Timeout; wake: () => void } | undefined;
  #loop: Promise<void> | undefined;

  constructor(
    readonly client: MasterClient,
    readonly h: WatchHandlers,
    readonly log: Logger,
    start: WatchStart = {},
    readonly pollMs = POLL_MS,
  ) {
    this.epoch = start.epoch;
    this.version = start.version;
    for (const a of start.agents ?? []) this.agents.set(a.ip, a);
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  /** The leader changed: drop the current poll (or backoff) and ask the new one at once. */
  interrupt(): void {
    this.#abort?.abort();
    this.#wake();
  }

  #wake(): void {
    const s = this.#sleep;
    if (s) {
      clearTimeout(s.timer);
      this.#sleep = undefined;
      s.wake();
    }
  }

  async #run(): Promise<void> {
    let backoff = MIN_BACKOFF_MS;
    while (!this.#closed) {
      const ac = new AbortController();
      this.#abort = ac;
      try {
        // The first poll of a process never parks: even a resumed position must learn the term now.
        const { w, master, local } = await this.client.watch({ epoch: this.epoch, version: this.version }, this.#termSeen ? this.pollMs : 0, ac.signal);
        const newTerm = !this.#termSeen || w.epoch !== this.epoch;
        if (w.full) this.agents.clear();
        for (const a of w.agents) this.agents.set(a.ip, a);
        for (const ip of w.deleted) this.agents.delete(ip);
        if (w.full) this.records.clear();
        for (const r of (w.records ?? []) as ContrailRecord[]) this.records.set(recordKey(r), r);
        for (const k of w.removed ?? []) this.records.delete(k);
        this.epoch = w.epoch;
        this.version = w.version;
        this.connected = true;
        backoff = MIN_BACKOFF_MS;
        // A handler's failure is a bug to log, not a failed poll.
        try {
          if (newTerm) {
            this.#termSeen = true;
            this.h.term(w.epoch, master, local);
          }
          if (w.full || w.agents.length > 0 || w.deleted.length > 0 || (w.records?.length ?? 0) > 0 || (w.removed?.length ?? 0) > 0) this.h.changed(w.full, w.agents, w.deleted);
        } catch (e) {
          this.log.error({ err: (e as Error).stack ?? String(e) }, 'watch: handling an answer failed');
        }
      } catch (e) {
        if (this.#closed) break;
        if (ac.signal.aborted) continue;
        this.connected = false;
        this.h.lost(e as Error);
        await new Promise<void>((wake) => (this.#sleep = { timer: setTimeout(wake, backoff), wake }));
        this.#sleep = undefined;
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      }
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.interrupt();
    await this.#loop;
  }
}
