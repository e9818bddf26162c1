// The overlay agent: the master found by the detector, watched for every agent's record; the
// registration state machine run on every new term; each overlay configured (§6 side effects);
// and the VXLAN data plane converged to this agent's and its peers' records. Everything acts in
// one network namespace (the daemon's own; the benchmark runs many agents, one per namespace).
import type { Logger } from 'pino';
import type { Netns } from '../../netns/index.js';
import type { AgentInfo, AgentOverlayInfo } from '../master/types.js';
import type { AgentConfig } from './config.js';
import { configureOverlay } from './configure.js';
import { desiredPlane, planeSize } from './dataplane/plane.js';
import { Reconciler, type Applied } from './dataplane/reconciler.js';
import { createDetector, type Detector } from './detector.js';
import { DockerClient } from './docker.js';
import { MasterClient } from './master-client.js';
import { AgentMetrics, type GaugeValues } from './metrics.js';
import { initIpset } from './netfilter.js';
import { Registration } from './registration.js';
import { loadState, StateWriter, type SavedState } from './state-file.js';
import { MasterWatch } from './watcher.js';
import { mkdirp } from '../../fs/mkdir.js';
import { ContrailReconciler } from './contrail/reconciler.js';

/** What /overlay-agent/overlay serves: upstream's AgentInfo plus configuration_attempts. */
export interface AgentInfoReply extends AgentInfo {
  configuration_attempts: number;
}

export interface AgentOptions {
  config: AgentConfig;
  ns: Netns;
  log: Logger;
  /** Called after every data plane batch (tests, benchmark). */
  onApplied?(a: Applied): void;
}

export class OverlayAgent {
  readonly metrics = new AgentMetrics();
  readonly detector: Detector;
  readonly client: MasterClient;
  readonly registration: Registration;
  readonly watch: MasterWatch;
  readonly reconciler: Reconciler | undefined;
  readonly contrail: ContrailReconciler | undefined;
  ip: string | undefined;
  /** This agent's record as the master last served it (register answer or watch). */
  #self: AgentInfo | undefined;
  #state: StateWriter | undefined;
  #configFailed = false;
  #lostLogged = false;
  #ready: { resolve: () => void; promise: Promise<void> };
  #readyDone = false;
  readonly startedAt = performance.now();

  private constructor(
    readonly o: AgentOptions,
    cached: SavedState | undefined,
  ) {
    const { config, log } = o;
    this.ip = config.ip ?? cached?.ip;
    this.detector = createDetector(config.master, log);
    this.client = new MasterClient(this.detector);
    const docker = new DockerClient(config.dockerSocket, config.network.command_timeout);
    const configure = { ns: o.ns, cniDir: config.cniDir, cniDataDir: config.cniDataDir, network: config.network, docker, log };
    this.registration = new Registration(config.maxConfigurationAttempts, {
      log,
      register: () => this.#register(),
      report: (overlays) => this.#report(overlays),
      configure: (ov) =>
        configureOverlay(configure, ov).catch((e: Error) => {
          this.metrics.inc('overlay_slave_overlay_config_failures');
          if (/docker network/.test(e.message)) this.metrics.inc('overlay_slave_docker_cmd_failures');
          throw e;
        }),
      gaveUp: () => (this.#configFailed = true),
      dropped: (what) => this.metrics.inc(what === 'overlays' ? 'overlay_slave_internal_update_agent_overlays_messages_dropped' : 'overlay_slave_internal_agent_registered_acknowledgements_dropped'),
    });
    this.watch = new MasterWatch(
      this.client,
      {
        term: (e, m, l) => this.#term(e, m, l),
        changed: (full) => {
          this.metrics.inc('overlay_agent_watch_replies_total', `kind="${full ? 'full' : 'delta'}"`);
          this.#peersChanged();
        },
        lost: (e) => this.#lost(e),
      },
      log,
      cached ? { epoch: cached.epoch, version: cached.version, agents: cached.agents } : {},
    );
    this.detector.onChange = () => this.watch.interrupt();
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    this.#ready = { resolve, promise };
    if (config.dataplane) {
      this.reconciler = new Reconciler({
        ns: o.ns,
        intervalMs: config.reconcileIntervalMs,
        log,
        onApplied: (a) => this.#applied(a),
        onError: () => this.metrics.inc('overlay_agent_dataplane_errors_total'),
      });
    }
    if (config.contrail) this.contrail = new ContrailReconciler(o.ns, config.reconcileIntervalMs, log);
    if (config.stateDir) this.#state = new StateWriter(config.stateDir, (e) => log.warn({ err: e.message }, 'state file not written'));
  }

  /** Load what the last run knew, set up the ipset, then find the master and converge. */
  static async start(o: AgentOptions): Promise<OverlayAgent> {
    const { config, log } = o;
    let cached: SavedState | undefined;
    if (config.stateDir) {
      const { state, problem } = await loadState(config.stateDir);
      if (problem) log.warn({ problem }, 'state file ignored');
      // A file from another identity is no view of ours.
      if (state && (config.ip === undefined || config.ip === state.ip)) cached = state;
    }
    try {
      await mkdirp(config.cniDir, 0o755);
    } catch (e) {
      throw new Error(`Failed to create CNI config directory: ${(e as Error).message}`);
    }
    if (config.network.mesos_bridge || config.network.docker_bridge) await initIpset(o.ns, config.network.command_timeout);
    const agent = new OverlayAgent(o, cached);
    await agent.reconciler?.open();
    await agent.contrail?.open();
    if (cached) {
      agent.#self = cached.agents.find((a) => a.ip === cached.ip);
      log.info({ ip: cached.ip, agents: cached.agents.length, epoch: cached.epoch, version: cached.version }, 'resuming from the state file');
      agent.#program(false);
    }
    agent.detector.start();
    agent.watch.start();
    return agent;
  }

  /** Resolves once the data plane holds the master's view (or at once without a data plane, once registered). */
  get ready(): Promise<void> {
    return this.#ready.promise;
  }

  #term(epoch: string, master: string, local: string | undefined): void {
    this.metrics.inc('overlay_agent_master_terms_total');
    this.#lostLogged = false;
    if (!this.ip) {
      if (!local) return this.o.log.error({ master }, 'cannot tell this agent\'s IP (set "ip" in the config)');
      this.ip = local;
      this.o.log.info({ ip: local }, 'agent IP: the address the master is reached from');
    }
    this.o.log.info({ master, epoch, ip: this.ip }, 'Detected new overlay master');
    this.#configFailed = false;
    this.registration.detected();
    this.#peersChanged();
  }

  #lost(e: Error): void {
    this.metrics.inc('overlay_agent_watch_errors_total');
    if (!this.#lostLogged) this.o.log.warn({ err: e.message }, 'overlay master unreachable; retrying');
    this.#lostLogged = true;
    if (this.ip) this.registration.exited();
  }

  async #register(): Promise<AgentOverlayInfo[]> {
    if (!this.ip) throw new Error('agent IP not known yet');
    this.metrics.inc('overlay_slave_internal_register_agent_messages_sent');
    const info = await this.client.register(this.ip, this.o.config.network);
    this.metrics.inc('overlay_slave_internal_update_agent_overlays_messages_received');
    this.#self = info;
    this.#program(this.watch.connected);
    return info.overlays;
  }

  async #report(overlays: AgentOverlayInfo[]): Promise<void> {
    this.metrics.inc('overlay_slave_internal_agent_registered_messages_sent');
    await this.client.status(this.ip!, overlays);
    this.metrics.inc('overlay_slave_internal_agent_registered_acknowledgements_received');
    if (!this.reconciler) this.#ready.resolve();
  }

  #peersChanged(): void {
    if (this.ip) {
      const mine = this.watch.agents.get(this.ip);
      if (mine) this.#self = mine;
    }
    this.#program(true);
    if (this.ip) this.contrail?.set({ self: this.#self && { ...this.#self, ip: this.ip }, agents: [...this.watch.agents.values()], records: [...this.watch.records.values()] });
    if (this.ip && this.#state) this.#state.save({ format: 'mesos-overlay-agent/1', ip: this.ip, epoch: this.watch.epoch, version: this.watch.version, agents: [...this.watch.agents.values()] });
  }

  /** Hand the desired plane to the reconciler (authoritative: straight from the master). */
  #program(authoritative: boolean): void {
    if (!this.reconciler || !this.ip) return;
    const self = this.#self && { ...this.#self, ip: this.ip };
    this.reconciler.set(desiredPlane(self, this.watch.agents.values()), authoritative && this.watch.connected);
  }

  #applied(a: Applied): void {
    this.metrics.inc('overlay_agent_dataplane_ops_total', `mode="${a.full ? 'full' : 'change'}"`, a.ops);
    this.metrics.observeApply(a.ms / 1000);
    if (a.full && a.ops > 0 && this.#readyDone) this.metrics.inc('overlay_agent_dataplane_repairs_total');
    if (a.authoritative && !this.#readyDone) {
      this.#readyDone = true;
      this.o.log.info({ ms: Math.round(performance.now() - this.startedAt), entries: a.entries, ops: a.ops }, 'data plane ready');
      this.#ready.resolve();
    }
    this.o.onApplied?.(a);
  }

  /** GET /overlay-agent/overlay. */
  info(): AgentInfoReply | undefined {
    if (!this.ip) return undefined;
    return { ip: this.ip, overlays: [...this.registration.overlays.values()], configuration_attempts: this.registration.configAttempts };
  }

  /** This agent's record at the master (bridges and backend as allocated). */
  get self(): AgentInfo | undefined {
    return this.#self;
  }

  gauges(): GaugeValues {
    const overlays: Record<string, number> = {};
    for (const x of this.registration.overlays.values()) {
      const s = x.state?.status ?? 'STATUS_INVALID';
      overlays[s] = (overlays[s] ?? 0) + 1;
    }
    return {
      registering: this.registration.state === 'REGISTERING',
      configFailed: this.#configFailed,
      configurationAttempts: this.registration.configAttempts,
      overlaysWithoutSubnets: [...this.registration.overlays.values()].filter((x) => x.subnet === undefined && x.subnet6 === undefined).length,
      overlays,
      peers: Math.max(0, this.watch.agents.size - (this.ip && this.watch.agents.has(this.ip) ? 1 : 0)),
      entries: this.reconciler ? planeSize(this.reconciler.desired) : 0,
      masterConnected: this.watch.connected,
    };
  }

  /** Stop talking to the master; the kernel is left exactly as it is (traffic goes on). */
  async stop(): Promise<void> {
    this.registration.close();
    await this.watch.close();
    this.detector.close();
    this.client.close();
    await this.reconciler?.close();
    await this.contrail?.close();
    await this.#state?.flush();
  }
}
