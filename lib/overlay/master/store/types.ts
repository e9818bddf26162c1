// The store interface: where the master's state lives. Nothing outside store/ knows which one is
// in use. A store also decides who leads: the embedded and memory stores always do, the ZooKeeper
// store runs an election.
import type { StoredAgent } from '../types.js';

/** One agent's record before and after a batch (absent before: added; absent after: deleted). */
export interface StoreChange {
  ip: string;
  before?: StoredAgent;
  after?: StoredAgent;
}

/**
 * A record of another kind than an agent (the Contrail objects of lib/overlay/contrail): its key,
 * what it holds that no other record may (checked by the store where it can), and its JSON.
 */
export interface StoredRecord {
  key: string;
  claims: string[];
  value: unknown;
}

/** One such record before and after a batch. */
export interface RecordChange {
  key: string;
  before?: StoredRecord;
  after?: StoredRecord;
}

export interface StoreHooks {
  /** This master leads from now on; `agents` and `records` are everything stored. */
  lead(agents: StoredAgent[], records: StoredRecord[]): void;
  /** Another master leads (its advertised "host:port", when known). */
  follow(leader: string | undefined): void;
  /** Leadership or the store itself is gone: stop allocating at once (no local guessing). */
  lost(reason: string): void;
  /** The stored state is inconsistent: never serve it. */
  refuse(reason: string): void;
}

export interface Store {
  readonly kind: 'memory' | 'embedded' | 'zookeeper';
  /** Where it keeps the state, for logs. */
  readonly location: string;
  /** Load and lead (or join the election); hooks say what happens, now and later. */
  start(hooks: StoreHooks): Promise<void>;
  /** Write a batch atomically: all of it or none, never part. Rejects when not written. */
  commit(changes: StoreChange[], records?: RecordChange[]): Promise<void>;
  close(): Promise<void>;
}

/** A write the store could not make (the served state stays as it was). */
export class StoreError extends Error {
  override name = 'StoreError';
}
