// The overlay master: a role (leader, follower, unavailable, refused) decided by the store, and
// the operations of the agent protocol and the endpoints, served only while leading.
import type { Logger } from 'pino';
import { Allocation, AllocationError, RecoveryError } from './allocate.js';
import type { MasterConfig } from './config.js';
import { Metrics } from './metrics.js';
import { MasterState, type CommitInfo } from './state.js';
import type { Store, StoredRecord } from './store/types.js';
import { ContrailRecoveryError, ContrailState } from './contrail/state.js';
import { fromStored } from './contrail/records.js';
import type { AgentInfo, AgentNetworkConfig, OverlayState, StoredAgent } from './types.js';
import { WatchHub, type WatchView } from './watch.js';

export type Role = 'starting' | 'leader' | 'follower' | 'unavailable' | 'refused';

/** This master cannot serve the request now: a follower (redirect) or no usable store (503). */
export class NotLeaderError extends Error {
  override name = 'NotLeaderError';
  constructor(
    readonly leader: string | undefined,
    reason: string,
  ) {
    super(reason);
  }
}

export { AllocationError };

export class OverlayMaster {
  role: Role = 'starting';
  leader: string | undefined;
  reason = 'starting';
  state: MasterState | undefined;
  readonly watch = new WatchHub();
  readonly metrics = new Metrics();

  constructor(
    readonly config: MasterConfig,
    readonly store: Store,
    readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    await this.store.start({
      lead: (agents, records) => this.#lead(agents, records),
      follow: (leader) => this.#step('follower', `following the leader at ${leader ?? '(unknown)'}`, leader),
      lost: (reason) => this.#step('unavailable', reason, undefined),
      refuse: (reason) => {
        this.#step('refused', `refusing to serve: ${reason}`, undefined);
        this.log.error({ err: reason, store: this.store.location }, 'the stored state is inconsistent; not serving');
      },
    });
  }

  #lead(agents: StoredAgent[], records: StoredRecord[]): void {
    this.state?.close('leadership re-established');
    const t0 = performance.now();
    let alloc: Allocation;
    let contrail: ContrailState;
    try {
      alloc = Allocation.recover(this.config.network, agents);
      contrail = ContrailState.recover(this.config.contrail, fromStored(records));
    } catch (e) {
      if (!(e instanceof RecoveryError) && !(e instanceof ContrailRecoveryError)) throw e;
      // Never serve (or overwrite) a state whose allocations conflict: an operator must look.
      this.#step('refused', `refusing to serve: ${e.message}`, undefined);
      this.log.error({ err: e.message, store: this.store.location }, 'recovery found a conflict; not serving');
      return;
    }
    this.state = new MasterState(
      alloc,
      this.store,
      (info) => this.#committed(info),
      (e) => {
        this.metrics.inc('overlay_master_store_errors_total');
        this.log.error({ err: e.message }, 'store write failed');
      },
      contrail,
    );
    this.role = 'leader';
    this.leader = this.config.advertise;
    this.reason = 'leading';
    this.watch.reset(this.#view());
    this.metrics.inc('overlay_master_recoveries_total');
    this.log.info({ agents: agents.length, ms: Math.round(performance.now() - t0), store: this.store.location }, 'leading: recovered the stored state');
  }

  #step(role: Role, reason: string, leader: string | undefined): void {
    const was = this.role;
    this.state?.close(reason);
    this.state = undefined;
    this.role = role;
    this.leader = leader;
    this.reason = reason;
    this.watch.closeAll(503, JSON.stringify({ error: reason, ...(leader && { leader }) }));
    this.watch.reset(undefined);
    if (was !== role || role !== 'follower') this.log.warn({ role, was, reason }, 'role changed');
  }

  #committed(info: CommitInfo): void {
    this.metrics.observeCommit(info.ms / 1000);
    this.watch.bump(
      info.changes.map((c) => c.ip),
      this.#view(),
      info.keys,
    );
  }

  #view(): WatchView {
    const st = this.state;
    return {
      network: this.config.network.json,
      agent: (ip) => {
        const a = st?.current.agents.get(ip);
        return a && st!.agentInfo(a);
      },
      all: () => (st ? [...st.current.agents.values()].map((a) => st.agentInfo(a)) : []),
      record: (key) => st?.contrail.records.get(key),
      records: () => (st ? [...st.contrail.records.values()] : []),
    };
  }

  /** The state to serve, or why not. */
  serving(): MasterState {
    if (this.role === 'leader' && this.state) return this.state;
    throw new NotLeaderError(this.role === 'follower' ? this.leader : undefined, this.reason);
  }

  /** RegisterAgentMessage → UpdateAgentOverlaysMessage: the agent's overlays, states cleared. */
  async register(ip: string, cfg: AgentNetworkConfig): Promise<AgentInfo> {
    const st = this.serving();
    this.metrics.inc('overlay_master_register_total');
    try {
      const r = await st.submit((a) => a.register(ip, cfg));
      for (const ev of r.events) {
        this.metrics.inc('overlay_master_subnet_allocation_failures_total', `overlay="${ev.overlay}",family="${ev.family}"`);
        this.log.error({ agent: ip, overlay: ev.overlay }, ev.msg);
      }
      if (r.change) this.log.info({ agent: ip, change: r.change, vtep: r.agent.backend.vxlan.vtep_ip, overlays: r.agent.overlays.map((o) => o.subnet ?? o.subnet6 ?? o.info.name) }, 'agent registered');
      return { ip, overlays: r.agent.overlays };
    } catch (e) {
      this.metrics.inc('overlay_master_register_dropped_total');
      if (e instanceof AllocationError) this.log.error({ agent: ip }, e.message);
      throw e;
    }
  }

  /** AgentRegisteredMessage: the states the agent reached, kept in memory (never stored). */
  reportStatus(ip: string, states: { name: string; state: OverlayState }[]): void {
    const st = this.serving();
    const agent = st.current.agents.get(ip);
    if (!agent) throw new UnknownAgentError(`status: agent ${ip} is not registered`);
    for (const s of states) {
      if (!agent.overlays.some((o) => o.info.name === s.name)) throw new BadRequestError(`status: agent ${ip} holds no overlay '${s.name}'`);
    }
    let m = st.statuses.get(ip);
    if (!m) st.statuses.set(ip, (m = new Map()));
    for (const s of states) m.set(s.name, s.state);
    this.watch.bump([ip], this.#view());
  }

  /** A change of the Contrail objects (contrail/http.ts), computed on the batch's copy and stored. */
  async contrail<T>(fn: (c: ContrailState) => T): Promise<T> {
    return this.serving().submit((_a, c) => fn(c));
  }

  /** POST /overlay-master/agents/delete: forget agents, free what they held (their Contrail endpoints too). */
  async deleteAgents(ips: string[]): Promise<void> {
    const st = this.serving();
    const gone = await st.submit((a, c) => {
      const ips2 = a.remove(ips);
      // Only a cluster with endpoints pays for the copy of its Contrail objects.
      if (st.contrail.x.endpoints.size > 0 && ips2.length > 0) c.dropAgents(ips2);
      return ips2;
    });
    for (const ip of ips) if (!gone.includes(ip)) this.log.info({ agent: ip }, `Unable to find an agent with IP: ${ip}`);
    if (gone.length) this.log.info({ agents: gone }, 'agents deleted');
  }

  /** GET /overlay-master/state: `State` as proto JSON. */
  stateJson(): { network: unknown; agents: AgentInfo[] } {
    const st = this.serving();
    return { network: this.config.network.json, agents: [...st.current.agents.values()].map((a) => st.agentInfo(a)) };
  }

  watchView(): WatchView {
    this.serving();
    return this.#view();
  }

  async close(): Promise<void> {
    this.#step('unavailable', 'shutting down', undefined);
    await this.store.close();
  }
}

export class UnknownAgentError extends Error {
  override name = 'UnknownAgentError';
}

export class BadRequestError extends Error {
  override name = 'BadRequestError';
}
