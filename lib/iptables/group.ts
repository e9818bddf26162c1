// Group commit for iptables-restore. Every process costs a start, more as the table grows
// (iptables-nft fetches its chain list), and one that deleted something on nf_tables waits out an
// RCU grace period when it closes its netlink socket (docs/library.md has the figures). A daemon
// attaching many containers at once pays that per transaction; batched, once per batch. So, per
// namespace, family and table: up to IN_FLIGHT payloads run as their own processes; more wait, and
// go together in one payload when a slot frees. A batch that fails is not taken apart by guessing:
// each of its transactions runs again alone, so every caller gets exactly the outcome its own
// payload has.
import type { Netns } from '../netns/index.js';
import type { ResolvedOptions } from './backend.js';
import { stats } from './stats.js';
import type { Family, Table } from './tokens.js';

const IN_FLIGHT = 2;
const MAX_BATCH = 64; // keeps one failure's re-runs, and a payload, bounded

type Run = (ns: Netns, family: Family, table: Table, payload: string, o: ResolvedOptions) => Promise<void>;

interface Waiting {
  ns: Netns;
  payload: string;
  resolve: () => void;
  reject: (e: unknown) => void;
}

interface Lane {
  running: number;
  waiting: Waiting[];
}

const lanes = new Map<string, Lane>();

/**
 * One payload per transaction (`*table`, declarations, lines, `COMMIT`) merged into one: the
 * tables are the same, each transaction's chains are its own, so declarations go first and the
 * lines follow in arrival order.
 */
export function mergePayloads(payloads: readonly string[]): string {
  const bodies = payloads.map((p) => p.split('\n').filter((l) => l !== '' && l !== 'COMMIT'));
  const header = bodies[0]![0]!;
  const rest = bodies.flatMap((b) => b.slice(1));
  return [header, ...rest.filter((l) => l.startsWith(':')), ...rest.filter((l) => !l.startsWith(':')), 'COMMIT', ''].join('\n');
}

/** Commit `payload` with `run`, batched with others for the same namespace, family and table. */
export function commitGrouped(run: Run, ns: Netns, family: Family, table: Table, payload: string, o: ResolvedOptions): Promise<void> {
  const key = `${ns.dev}:${ns.ino}/${family}/${table}/${o.backend}`;
  let lane = lanes.get(key);
  if (!lane) lanes.set(key, (lane = { running: 0, waiting: [] }));
  const l = lane;
  return new Promise<void>((resolve, reject) => {
    l.waiting.push({ ns, payload, resolve, reject });
    void pump(key, l, run, family, table, o);
  });
}

async function pump(key: string, lane: Lane, run: Run, family: Family, table: Table, o: ResolvedOptions): Promise<void> {
  if (lane.running >= IN_FLIGHT || lane.waiting.length === 0) return;
  lane.running++;
  try {
    while (lane.waiting.length > 0) {
      const batch = lane.waiting.splice(0, MAX_BATCH);
      // Every member is still waiting, so its namespace is still open: use the first's.
      const alone = (w: Waiting) => run(w.ns, family, table, w.payload, o).then(w.resolve, w.reject);
      if (batch.length === 1) {
        await alone(batch[0]!);
        continue;
      }
      try {
        await run(batch[0]!.ns, family, table, mergePayloads(batch.map((w) => w.payload)), o);
        stats.grouped += batch.length;
        for (const w of batch) w.resolve();
      } catch {
        stats.rerunAlone += batch.length;
        await Promise.all(batch.map(alone));
      }
    }
  } finally {
    lane.running--;
    if (lane.running === 0 && lane.waiting.length === 0) lanes.delete(key);
  }
}
