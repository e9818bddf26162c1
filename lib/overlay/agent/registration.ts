// Upstream's registration state machine (agent.cpp), over the master's HTTP protocol: REGISTERING
// until the master acknowledges a report in which every overlay is STATUS_OK, or until the
// acknowledgements exceed max_configuration_attempts. Registration is re-sent after a random delay
// in [0, b], b from 5 s doubling to 10 min, until REGISTERED; a newly detected master resets the
// attempts. Overlays already OK are not configured again; while one is CONFIGURING a new overlay
// list is dropped. Transport, configuration, randomness and timers are injected (unit-tested).
import type { Logger } from 'pino';
import type { AgentOverlayInfo, OverlayState } from '../master/types.js';

export const INITIAL_BACKOFF_MS = 5_000;
export const MAX_BACKOFF_MS = 10 * 60_000;

export type RegState = 'REGISTERING' | 'REGISTERED';

export interface RegistrationDeps {
  /** RegisterAgentMessage → the overlays of UpdateAgentOverlaysMessage (states cleared). */
  register(): Promise<AgentOverlayInfo[]>;
  /** AgentRegisteredMessage → resolves with the acknowledgement. */
  report(overlays: AgentOverlayInfo[]): Promise<void>;
  /** Configure one overlay; rejects with the failure text. */
  configure(o: AgentOverlayInfo): Promise<void>;
  log: Logger;
  random?: () => number;
  setTimer?: (fn: () => void, ms: number) => () => void;
  /** Every change of an overlay's state or of the registration (for /overlay, metrics, logs). */
  changed?(): void;
  /** REGISTERED although some overlay failed (upstream's overlay_config_failed). */
  gaveUp?(failed: string[]): void;
  /** An overlay list or an acknowledgement was dropped (upstream's *_dropped metrics). */
  dropped?(what: 'overlays' | 'ack'): void;
}

const realTimer = (fn: () => void, ms: number) => {
  const t = setTimeout(fn, ms);
  return () => clearTimeout(t);
};

function sameAllocation(a: AgentOverlayInfo, b: AgentOverlayInfo): boolean {
  const { state: _a, ...x } = a;
  const { state: _b, ...y } = b;
  return JSON.stringify(x) === JSON.stringify(y);
}

export class Registration {
  state: RegState = 'REGISTERING';
  configAttempts = 0;
  /** Every overlay the master gave us, with its state, in the order first given. */
  readonly overlays = new Map<string, AgentOverlayInfo>();
  #cancel: (() => void) | undefined;
  #closed = false;
  // The master term (one per detection): an overlay list or an acknowledgement asked for in an
  // earlier term arrives late, and counting it would spend an attempt of the new term (seen under
  // load: a report sent while the old master was gone, acknowledged by the new one after its
  // detection reset the attempts, left them at 2 after one configuration).
  #term = 0;

  constructor(
    readonly max: number,
    readonly d: RegistrationDeps,
  ) {}

  /** A (new) leading master was detected: reset the attempts and register with it. */
  detected(): void {
    this.#term++;
    this.configAttempts = 0;
    this.state = 'REGISTERING';
    this.d.changed?.();
    this.#reliable(INITIAL_BACKOFF_MS);
  }

  /** The master went away: register again (with whichever leads next), attempts kept. */
  exited(): void {
    if (this.state === 'REGISTERING' && this.#cancel) return;
    this.state = 'REGISTERING';
    this.d.changed?.();
    this.#reliable(INITIAL_BACKOFF_MS);
  }

  /** Send a registration now and schedule the next one, until REGISTERED. */
  #reliable(maxBackoffMs: number): void {
    this.#cancel?.();
    this.#cancel = undefined;
    if (this.#closed || this.state === 'REGISTERED') return;
    const term = this.#term;
    this.d.register().then(
      (overlays) => {
        if (term === this.#term) this.update(overlays);
        else this.d.dropped?.('overlays');
      },
      (e: Error) => this.d.log.warn({ err: e.message }, 'registration not sent'),
    );
    const bound = Math.min(maxBackoffMs, MAX_BACKOFF_MS);
    const delay = bound * (this.d.random ?? Math.random)();
    this.#cancel = (this.d.setTimer ?? realTimer)(() => this.#reliable(bound * 2), delay);
  }

  /** UpdateAgentOverlaysMessage: configure what is not OK yet, then report every overlay. */
  update(list: AgentOverlayInfo[]): void {
    if (this.state !== 'REGISTERING') {
      this.d.log.debug('ignored the overlays of a registration: already REGISTERED');
      this.d.dropped?.('overlays');
      return;
    }
    const work: Promise<void>[] = [];
    for (const o of list) {
      const name = o.info.name;
      const known = this.overlays.get(name)?.state?.status;
      // A report cannot go out while a configuration runs: drop the whole list (the next
      // registration brings it again).
      if (known === 'STATUS_CONFIGURING') {
        this.d.log.info({ overlay: name }, 'overlay still configuring: dropping this overlay list');
        this.d.dropped?.('overlays');
        return;
      }
    }
    for (const o of list) {
      const name = o.info.name;
      const { state: _ignored, ...fresh } = o;
      const had = this.overlays.get(name);
      // Upstream skips an overlay that is OK, assuming its allocation never changes. It can (the
      // agent deleted at the master and given other subnets, a new vtep_mtu): then it is
      // configured again, so the CNI config and Docker network never keep a stale subnet.
      if (had?.state?.status === 'STATUS_OK' && sameAllocation(had, fresh)) {
        work.push(Promise.resolve());
        continue;
      }
      this.overlays.set(name, fresh);
      work.push(this.#configure(name));
    }
    if (work.length === 0) return;
    void Promise.all(work).then(() => this.#report());
  }

  async #configure(name: string): Promise<void> {
    const set = (state: OverlayState) => {
      const o = this.overlays.get(name);
      if (o) this.overlays.set(name, { ...o, state });
      this.d.changed?.();
    };
    set({ status: 'STATUS_CONFIGURING' });
    const o = this.overlays.get(name)!;
    try {
      await this.d.configure(o);
      set({ status: 'STATUS_OK' });
      this.d.log.info({ overlay: name }, 'overlay configured');
    } catch (e) {
      set({ status: 'STATUS_FAILED', error: (e as Error).message });
      this.d.log.error({ overlay: name, err: (e as Error).message }, 'overlay configuration failed');
    }
  }

  #report(): void {
    if (this.state !== 'REGISTERING' || this.#closed) return;
    const term = this.#term;
    this.d.report([...this.overlays.values()]).then(
      () => {
        if (term === this.#term) this.acknowledged();
        else this.d.dropped?.('ack');
      },
      (e: Error) => this.d.log.warn({ err: e.message }, 'overlay states not reported (the next registration retries)'),
    );
  }

  /** AgentRegisteredAcknowledgement. */
  acknowledged(): void {
    // Two registrations of one term can be in flight (the retry timer fires before the first is
    // acknowledged): both reports are acknowledged, and counting the second after REGISTERED
    // would show 2 attempts for one configuration. Like an overlay list, it counts only while
    // REGISTERING.
    if (this.state !== 'REGISTERING') {
      this.d.log.debug('ignored an acknowledgement: already REGISTERED');
      this.d.dropped?.('ack');
      return;
    }
    this.configAttempts++;
    const failed = [...this.overlays.values()].filter((o) => o.state?.status !== 'STATUS_OK').map((o) => o.info.name);
    if (this.configAttempts > this.max) {
      if (failed.length > 0) {
        this.d.log.error({ attempts: this.configAttempts, failed }, "Could not configure some overlay networks; moving to 'REGISTERED' with erroneous overlay configuration");
        this.d.gaveUp?.(failed);
      }
    } else if (failed.length > 0) {
      this.d.log.warn({ attempts: this.configAttempts, failed }, 'overlays not configured: dropping the acknowledgement (registration retries)');
      this.d.dropped?.('ack');
      this.d.changed?.();
      return;
    }
    this.state = 'REGISTERED';
    this.#cancel?.();
    this.#cancel = undefined;
    this.d.log.info({ attempts: this.configAttempts, overlays: [...this.overlays.keys()] }, 'registered');
    this.d.changed?.();
  }

  close(): void {
    this.#closed = true;
    this.#cancel?.();
  }
}
