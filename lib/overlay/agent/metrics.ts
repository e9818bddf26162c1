// /metrics in the Prometheus text format. Upstream's agent metrics keep their names
// (`overlay/slave/registering` → overlay_slave_registering, `…/internal/…` → overlay_slave_internal_…);
// the data plane (dcos-net's part) and the master link are ours, under overlay_agent_.

const APPLY_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export const COUNTERS = {
  overlay_slave_overlay_config_failures: 'Overlay configurations that failed.',
  overlay_slave_docker_cmd_failures: 'Docker Engine calls that failed.',
  overlay_slave_internal_register_agent_messages_sent: 'Registrations sent to the master.',
  overlay_slave_internal_update_agent_overlays_messages_received: 'Overlay lists received in answer to a registration.',
  overlay_slave_internal_update_agent_overlays_messages_dropped: 'Overlay lists dropped (not REGISTERING, or an overlay still configuring).',
  overlay_slave_internal_agent_registered_messages_sent: 'Overlay state reports sent to the master.',
  overlay_slave_internal_agent_registered_acknowledgements_received: 'Acknowledgements of a report received.',
  overlay_slave_internal_agent_registered_acknowledgements_dropped: 'Acknowledgements dropped because an overlay was not configured.',
  overlay_agent_master_terms_total: 'Leadership terms of the overlay master seen (first contact, a new leader, a restart).',
  overlay_agent_watch_replies_total: 'Watch answers from the master, by kind (full, delta, timeout).',
  overlay_agent_watch_errors_total: 'Watch requests that failed (master unreachable, not leading).',
  overlay_agent_dataplane_ops_total: 'Netlink ops sent to program the data plane, by mode (change, full).',
  overlay_agent_dataplane_repairs_total: 'Timer reconciles that found the kernel had drifted and repaired it.',
  overlay_agent_dataplane_errors_total: 'Data plane batches the kernel refused (retried after reading the kernel).',
} as const;

export type CounterName = keyof typeof COUNTERS;

export interface GaugeValues {
  registering: boolean;
  configFailed: boolean;
  configurationAttempts: number;
  overlaysWithoutSubnets: number;
  overlays: Record<string, number>;
  peers: number;
  entries: number;
  masterConnected: boolean;
}

export class AgentMetrics {
  readonly #counters = new Map<string, number>();
  readonly #apply = { buckets: APPLY_BUCKETS.map(() => 0), sum: 0, count: 0 };

  inc(name: CounterName, labels = '', by = 1): void {
    const k = labels ? `${name}{${labels}}` : name;
    this.#counters.set(k, (this.#counters.get(k) ?? 0) + by);
  }

  get(name: CounterName, labels = ''): number {
    return this.#counters.get(labels ? `${name}{${labels}}` : name) ?? 0;
  }

  observeApply(seconds: number): void {
    const h = this.#apply;
    APPLY_BUCKETS.forEach((b, i) => {
      if (seconds <= b) h.buckets[i]!++;
    });
    h.sum += seconds;
    h.count++;
  }

  render(g: GaugeValues): string {
    const out: string[] = [];
    const gauge = (name: string, help: string, rows: [string, number][]) => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, ...rows.map(([l, v]) => `${name}${l ? `{${l}}` : ''} ${v}`));
    };
    gauge('overlay_slave_registering', 'Whether the agent is (re)registering with the overlay master (1) or REGISTERED (0).', [['', g.registering ? 1 : 0]]);
    gauge('overlay_slave_overlay_config_failed', 'Whether the agent gave up configuring some overlay after max_configuration_attempts.', [['', g.configFailed ? 1 : 0]]);
    gauge('overlay_slave_overlays_without_subnets', 'Overlays the master allocated no subnet on this agent.', [['', g.overlaysWithoutSubnets]]);
    gauge('overlay_agent_configuration_attempts', 'Acknowledged reports since the current master was detected.', [['', g.configurationAttempts]]);
    gauge('overlay_agent_overlays', 'Overlays of this agent by state.', Object.entries(g.overlays).map(([s, n]) => [`status="${s}"`, n]));
    gauge('overlay_agent_peers', 'Other agents known from the master.', [['', g.peers]]);
    gauge('overlay_agent_dataplane_entries', 'Peer neighbours, FDB entries and routes the data plane holds.', [['', g.entries]]);
    gauge('overlay_agent_master_connected', 'Whether the last watch of the master succeeded.', [['', g.masterConnected ? 1 : 0]]);
    for (const name of Object.keys(COUNTERS) as CounterName[]) {
      out.push(`# HELP ${name} ${COUNTERS[name]}`, `# TYPE ${name} counter`);
      const rows = [...this.#counters].filter(([k]) => k === name || k.startsWith(`${name}{`));
      if (rows.length === 0) out.push(`${name} 0`);
      for (const [k, v] of rows) out.push(`${k} ${v}`);
    }
    const h = this.#apply;
    out.push('# HELP overlay_agent_dataplane_apply_seconds Time to compute and apply one data plane batch.', '# TYPE overlay_agent_dataplane_apply_seconds histogram');
    APPLY_BUCKETS.forEach((b, i) => out.push(`overlay_agent_dataplane_apply_seconds_bucket{le="${b}"} ${h.buckets[i]}`));
    out.push(`overlay_agent_dataplane_apply_seconds_bucket{le="+Inf"} ${h.count}`, `overlay_agent_dataplane_apply_seconds_sum ${h.sum}`, `overlay_agent_dataplane_apply_seconds_count ${h.count}`);
    return out.join('\n') + '\n';
  }
}
