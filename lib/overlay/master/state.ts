// The master's served state: a versioned value that changes only by transactions. Each batch of
// queued operations is computed on a copy (pure code in allocate.ts), written to the store, and
// only then becomes the served state; operations that queue up meanwhile go together in the next
// batch (group commit), so a slow write costs one write for many registrations, not one each.
import { Allocation } from './allocate.js';
import { ContrailState } from './contrail/state.js';
import { recordChanges } from './contrail/records.js';
import type { RecordChange, Store, StoreChange } from './store/types.js';
import type { AgentInfo, OverlayState, StoredAgent } from './types.js';

export interface Op<T> {
  /** Runs on the batch's copies; throws to fail this operation alone (it must then change nothing). */
  apply(a: Allocation, c: ContrailState): T;
  resolve(v: T): void;
  reject(e: unknown): void;
}

/** Cap per batch: a ZooKeeper multi-op must stay well under its 1 MB request limit. */
export const MAX_BATCH = 200;

export interface CommitInfo {
  changes: StoreChange[];
  /** Keys of the other records (Contrail objects) written. */
  keys: string[];
  ms: number;
}

export class MasterState {
  #current: Allocation;
  #contrail: ContrailState;
  readonly #queue: Op<unknown>[] = [];
  #flushing: Promise<void> | undefined;
  /** Overlay states the agents reported: in memory only, as upstream (never stored). */
  readonly statuses = new Map<string, Map<string, OverlayState>>();
  #closed: string | undefined;

  constructor(
    current: Allocation,
    private readonly store: Store,
    private readonly onCommit: (info: CommitInfo) => void,
    private readonly onStoreError: (e: Error) => void,
    contrail: ContrailState = ContrailState.empty(),
  ) {
    this.#current = current;
    this.#contrail = contrail;
  }

  get current(): Allocation {
    return this.#current;
  }

  /** The served Contrail objects (networks, pools, groups, endpoints). */
  get contrail(): ContrailState {
    return this.#contrail;
  }

  /** Batches waiting or being written. */
  get pending(): number {
    return this.#queue.length;
  }

  /** Refuse further operations (leadership lost); queued ones fail with `reason`. */
  close(reason: string): void {
    this.#closed = reason;
    for (const op of this.#queue.splice(0)) op.reject(new Error(reason));
  }

  submit<T>(apply: (a: Allocation, c: ContrailState) => T): Promise<T> {
    if (this.#closed !== undefined) return Promise.reject(new Error(this.#closed));
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ apply, resolve, reject } as Op<unknown>);
      this.#flushing ??= this.#flush().finally(() => (this.#flushing = undefined));
    });
  }

  async #flush(): Promise<void> {
    while (this.#queue.length > 0 && this.#closed === undefined) {
      const batch = this.#queue.splice(0, MAX_BATCH);
      const prev = this.#current;
      const next = prev.clone();
      const prevC = this.#contrail;
      let nextC: ContrailState | undefined;
      // The Contrail copy is made on first use: agents' batches never pay for it.
      const contrail = () => (nextC ??= prevC.clone());
      const done: [Op<unknown>, unknown][] = [];
      for (const op of batch) {
        try {
          done.push([op, op.apply(next, lazy(contrail))]);
        } catch (e) {
          op.reject(e);
        }
      }
      const changes: StoreChange[] = [];
      for (const ip of next.touched) {
        const before = prev.agents.get(ip);
        const after = next.agents.get(ip);
        if (before !== after) changes.push({ ip, ...(before && { before }), ...(after && { after }) });
      }
      const records: RecordChange[] = nextC ? recordChanges(prevC, nextC) : [];
      if (changes.length > 0 || records.length > 0) {
        const t0 = performance.now();
        try {
          await this.store.commit(changes, records);
        } catch (e) {
          for (const [op] of done) op.reject(e);
          this.onStoreError(e as Error);
          continue;
        }
        if (this.#closed !== undefined) {
          // Written, but leadership went meanwhile: the next leader reads it from the store.
          for (const [op] of done) op.reject(new Error(this.#closed));
          return;
        }
        this.#current = next;
        if (nextC) this.#contrail = nextC;
        for (const c of changes) if (!c.after) this.statuses.delete(c.ip);
        this.onCommit({ changes, keys: records.map((r) => r.key), ms: performance.now() - t0 });
      }
      for (const [op, v] of done) op.resolve(v);
    }
  }

  /** The upstream `AgentInfo` of a stored agent, with the states it reported. */
  agentInfo(a: StoredAgent): AgentInfo {
    const st = this.statuses.get(a.ip);
    return {
      ip: a.ip,
      overlays: a.overlays.map((o) => {
        const s = st?.get(o.info.name);
        if (!s) return o;
        const { subnet6, ...rest } = o;
        return { ...rest, state: s, ...(subnet6 !== undefined && { subnet6 }) };
      }),
    };
  }
}

/** `get()` made only when the operation touches it: a proxy that forwards to the lazily made value. */
function lazy<T extends object>(get: () => T): T {
  return new Proxy({} as T, {
    get: (_t, k) => {
      const v = Reflect.get(get(), k) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(get()) : v;
    },
  });
}
