// /metrics in the Prometheus text format: role, agents, allocations and free addresses per pool,
// store write latency, registrations and watchers.
import type { Allocation } from './allocate.js';

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export class Metrics {
  readonly counters = new Map<string, number>();
  readonly #commit = { buckets: BUCKETS.map(() => 0), sum: 0, count: 0 };

  inc(name: string, labels = '', by = 1): void {
    const k = `${name}${labels ? `{${labels}}` : ''}`;
    this.counters.set(k, (this.counters.get(k) ?? 0) + by);
  }

  observeCommit(seconds: number): void {
    const c = this.#commit;
    BUCKETS.forEach((b, i) => {
      if (seconds <= b) c.buckets[i]!++;
    });
    c.sum += seconds;
    c.count++;
  }

  render(s: { role: string; store: string; allocation?: Allocation; watchers: number; version: number }): string {
    const out: string[] = [];
    const gauge = (name: string, help: string, rows: [string, number | bigint][]) => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
      for (const [labels, v] of rows) out.push(`${name}${labels ? `{${labels}}` : ''} ${v}`);
    };
    gauge('overlay_master_leader', 'Whether this master leads and allocates (1) or not (0).', [[`store="${s.store}"`, s.role === 'leader' ? 1 : 0]]);
    gauge('overlay_master_role', 'The role of this master (1 for the current one).', ['leader', 'follower', 'unavailable', 'refused', 'starting'].map((r) => [`role="${r}"`, s.role === r ? 1 : 0]));
    if (s.allocation) {
      gauge('overlay_master_agents', 'Agents in the served state.', [['', s.allocation.agents.size]]);
      const pools = s.allocation.pools();
      const lbl = (p: { pool: string; overlay?: string }) => `pool="${p.pool}"${p.overlay ? `,overlay="${p.overlay}"` : ''}`;
      gauge('overlay_master_allocations', 'Allocated VTEP addresses and agent subnets per pool.', pools.map((p) => [lbl(p), p.used]));
      gauge('overlay_master_free', 'Free VTEP addresses and agent subnets per pool.', pools.map((p) => [lbl(p), p.free]));
    }
    gauge('overlay_master_watchers', 'Agents parked on /overlay-master/watch.', [['', s.watchers]]);
    gauge('overlay_master_watch_version', 'Version of the served state within the current epoch.', [['', s.version]]);
    out.push('# HELP overlay_master_store_commit_seconds Time to write one batch to the store.', '# TYPE overlay_master_store_commit_seconds histogram');
    const c = this.#commit;
    BUCKETS.forEach((b, i) => out.push(`overlay_master_store_commit_seconds_bucket{le="${b}"} ${c.buckets[i]}`));
    out.push(`overlay_master_store_commit_seconds_bucket{le="+Inf"} ${c.count}`, `overlay_master_store_commit_seconds_sum ${c.sum}`, `overlay_master_store_commit_seconds_count ${c.count}`);
    const names = [...new Set([...this.counters.keys()].map((k) => k.split('{')[0]!))].sort();
    for (const n of names) {
      out.push(`# TYPE ${n} counter`);
      for (const [k, v] of this.counters) if (k.split('{')[0] === n) out.push(`${k} ${v}`);
    }
    return out.join('\n') + '\n';
  }
}
