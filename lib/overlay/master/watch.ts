// Long-poll watches: agents ask "what changed since version V of epoch E" and get the changed
// agents' records (and deleted IPs) as soon as there is something, or an empty answer at their
// timeout. A reply's size grows with the change, not with the cluster; a version too old for the
// ring of recent changes, or from another epoch (another leader, a restart), gets everything.
import type { AgentInfo, NetworkConfigJson } from './types.js';
import { randomHex } from '../../util/digest.js';

export interface WatchReply {
  epoch: string;
  version: number;
  /** true: `agents` is every agent and the watcher drops what it knew. */
  full: boolean;
  network?: NetworkConfigJson;
  agents: AgentInfo[];
  deleted: string[];
  /** Contrail objects changed (every one, when full), only when there are any (docs/contrail.md). */
  records?: unknown[];
  /** Their keys gone. */
  removed?: string[];
}

export interface WatchView {
  agent(ip: string): AgentInfo | undefined;
  all(): AgentInfo[];
  network: NetworkConfigJson;
  /** Contrail objects by key (absent in views without them). */
  record?(key: string): unknown;
  records?(): unknown[];
}

interface Waiter {
  version: number;
  send(body: string, status?: number): void;
  timer: NodeJS.Timeout;
}

/** How many recent changes a watcher may be behind and still get a delta. */
export const RING = 4096;

export class WatchHub {
  epoch = randomHex(8);
  #version = 0;
  #ring: { version: number; ips: string[]; keys: string[] }[] = [];
  readonly #waiters = new Set<Waiter>();

  get version(): number {
    return this.#version;
  }

  get watchers(): number {
    return this.#waiters.size;
  }

  /** A new leadership term: everything a watcher knew may be stale. */
  reset(view: WatchView | undefined): void {
    this.epoch = randomHex(8);
    this.#version = 0;
    this.#ring = [];
    for (const w of this.#waiters) w.version = -1;
    if (view) this.#wake(view);
  }

  /** Agents changed (stored, deleted or reported a state), or Contrail objects (`keys`): wake the watchers. */
  bump(ips: string[], view: WatchView, keys: string[] = []): void {
    if (ips.length === 0 && keys.length === 0) return;
    this.#version++;
    this.#ring.push({ version: this.#version, ips, keys });
    if (this.#ring.length > RING) this.#ring.shift();
    this.#wake(view);
  }

  /** The reply for a watcher at (epoch, version), or undefined when it is up to date. */
  reply(epoch: string | undefined, version: number | undefined, view: WatchView): WatchReply | undefined {
    const base = { epoch: this.epoch, version: this.#version };
    const oldest = this.#ring[0]?.version ?? this.#version + 1;
    if (epoch !== this.epoch || version === undefined || version > this.#version || version < oldest - 1) {
      const records = view.records?.() ?? [];
      return { ...base, full: true, network: view.network, agents: view.all(), deleted: [], ...(records.length > 0 && { records }) };
    }
    if (version === this.#version) return undefined;
    const ips = new Set<string>();
    const keys = new Set<string>();
    for (const c of this.#ring) {
      if (c.version <= version) continue;
      for (const ip of c.ips) ips.add(ip);
      for (const k of c.keys) keys.add(k);
    }
    const agents: AgentInfo[] = [];
    const deleted: string[] = [];
    for (const ip of ips) {
      const a = view.agent(ip);
      if (a) agents.push(a);
      else deleted.push(ip);
    }
    const records: unknown[] = [];
    const removed: string[] = [];
    for (const k of keys) {
      const r = view.record?.(k);
      if (r !== undefined) records.push(r);
      else removed.push(k);
    }
    return { ...base, full: false, agents, deleted, ...(keys.size > 0 && { records, removed }) };
  }

  /** Park a watcher; `send` gets the JSON body once (a change, a reset, or the timeout). */
  wait(version: number, timeoutMs: number, send: (body: string, status?: number) => void): () => void {
    const w: Waiter = {
      version,
      send,
      timer: setTimeout(() => {
        this.#waiters.delete(w);
        send(JSON.stringify({ epoch: this.epoch, version: this.#version, full: false, agents: [], deleted: [] } satisfies WatchReply));
      }, timeoutMs),
    };
    this.#waiters.add(w);
    return () => {
      clearTimeout(w.timer);
      this.#waiters.delete(w);
    };
  }

  /** Answer every parked watcher; watchers at the same version share one serialised body. */
  #wake(view: WatchView): void {
    const bodies = new Map<number, string>();
    const epoch = this.epoch;
    for (const w of this.#waiters) {
      let body = bodies.get(w.version);
      if (body === undefined) {
        // A reset changed the epoch: every parked watcher gets the full state.
        const r = this.reply(w.version === -1 ? undefined : epoch, w.version, view);
        if (!r) continue;
        body = JSON.stringify(r);
        bodies.set(w.version, body);
      }
      clearTimeout(w.timer);
      this.#waiters.delete(w);
      w.send(body);
    }
  }

  /** Leadership lost: every parked watcher gets this answer (e.g. 503) and asks again elsewhere. */
  closeAll(status: number, body: string): void {
    for (const w of this.#waiters) {
      clearTimeout(w.timer);
      w.send(body, status);
    }
    this.#waiters.clear();
  }
}
