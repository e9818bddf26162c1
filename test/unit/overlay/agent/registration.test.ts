// Upstream's registration state machine, driven by hand: fake transport, configuration, timers
// and randomness. Backoff, attempts, skipping overlays already OK, dropping a list while one is
// configuring, failed overlays reported with their error, the reset on a new master.
import test from 'ava';
import pino from 'pino';
import { INITIAL_BACKOFF_MS, MAX_BACKOFF_MS, Registration } from '../../../../lib/overlay/agent/registration.js';
import type { AgentOverlayInfo } from '../../../../lib/overlay/master/types.js';

const log = pino({ level: 'silent' });
const ov = (name: string): AgentOverlayInfo => ({
  info: { name, subnet: '192.168.0.0/16', prefix: 24, enabled: true },
  subnet: '192.168.0.0/24',
  backend: { vxlan: { vni: 1024, vtep_name: 'vtep1024', vtep_ip: '44.128.0.1/16', vtep_mac: '70:b3:d5:80:00:01' } },
});

const tick = () => new Promise((r) => setImmediate(r));

function harness(opts: { max?: number; fail?: Set<string>; overlays?: AgentOverlayInfo[]; random?: number } = {}) {
  const h = {
    registers: 0,
    reports: [] as AgentOverlayInfo[][],
    configured: [] as string[],
    timers: [] as { fn: () => void; ms: number; cancelled: boolean }[],
    gaveUp: [] as string[][],
    dropped: [] as string[],
    pending: new Map<string, () => void>(),
    hold: false,
    reg: undefined as unknown as Registration,
  };
  h.reg = new Registration(opts.max ?? 4, {
    log,
    register: async () => {
      h.registers++;
      return (opts.overlays ?? [ov('mz-overlay')]).map((o) => ({ ...o }));
    },
    report: async (overlays) => {
      h.reports.push(overlays.map((o) => ({ ...o })));
    },
    configure: (o) => {
      h.configured.push(o.info.name);
      if (h.hold) return new Promise((resolve) => h.pending.set(o.info.name, resolve));
      return opts.fail?.has(o.info.name) ? Promise.reject(new Error(`Unable to configure docker network: ${o.info.name} refused`)) : Promise.resolve();
    },
    random: () => opts.random ?? 1,
    setTimer: (fn, ms) => {
      const t = { fn, ms, cancelled: false };
      h.timers.push(t);
      return () => (t.cancelled = true);
    },
    gaveUp: (f) => h.gaveUp.push(f),
    dropped: (w) => h.dropped.push(w),
  });
  /** Fire the last live timer (the next registration). */
  const fire = () => {
    const live = h.timers.filter((x) => !x.cancelled);
    const t = live[live.length - 1]!;
    t.cancelled = true;
    t.fn();
  };
  return { h, fire };
}

/** From now on, reports are acknowledged only when the test calls the returned resolvers. */
function holdAcknowledgements(h: ReturnType<typeof harness>['h']): (() => void)[] {
  const acks: (() => void)[] = [];
  (h.reg.d as { report: (o: AgentOverlayInfo[]) => Promise<void> }).report = (overlays) => {
    h.reports.push(overlays);
    return new Promise<void>((resolve) => acks.push(resolve));
  };
  return acks;
}

test('detected: register, configure every overlay, report, acknowledgement → REGISTERED with 1 attempt', async (t) => {
  const { h } = harness({ overlays: [ov('a'), ov('b')] });
  t.is(h.reg.state, 'REGISTERING');
  h.reg.detected();
  await tick();
  t.is(h.registers, 1);
  t.deepEqual(h.configured, ['a', 'b']);
  t.is(h.reports.length, 1);
  t.deepEqual(h.reports[0]!.map((o) => [o.info.name, o.state]), [['a', { status: 'STATUS_OK' }], ['b', { status: 'STATUS_OK' }]]);
  t.is(h.reg.state, 'REGISTERED');
  t.is(h.reg.configAttempts, 1);
  t.true(h.timers.every((x) => x.cancelled), 'no registration retry left once REGISTERED');
});

test('reliable registration: retried after a random delay in [0, b], b from 5 s doubling, capped at 10 min', async (t) => {
  const { h, fire } = harness({ random: 1 });
  // The master never answers: every registration is lost.
  (h.reg.d as { register: () => Promise<AgentOverlayInfo[]> }).register = () => (h.registers++, Promise.reject(new Error('connection refused')));
  h.reg.detected();
  for (let i = 0; i < 10; i++) fire();
  await tick();
  t.is(h.registers, 11);
  t.deepEqual(
    h.timers.map((x) => x.ms),
    [5, 10, 20, 40, 80, 160, 320, 600, 600, 600, 600].map((s) => s * 1000),
  );
  t.is(INITIAL_BACKOFF_MS, 5000);
  t.is(MAX_BACKOFF_MS, 600_000);
  const half = harness({ random: 0.5 });
  half.h.reg.detected();
  t.is(half.h.timers[0]!.ms, 2500, 'the delay is random() times the bound');
});

test('a failed overlay is reported with its error; the acknowledgement is dropped until attempts exceed the maximum', async (t) => {
  const { h, fire } = harness({ max: 2, overlays: [ov('good'), ov('bad')], fail: new Set(['bad']) });
  h.reg.detected();
  await tick();
  t.deepEqual(h.reports[0]!.map((o) => [o.info.name, o.state]), [
    ['good', { status: 'STATUS_OK' }],
    ['bad', { status: 'STATUS_FAILED', error: 'Unable to configure docker network: bad refused' }],
  ]);
  t.is(h.reg.state, 'REGISTERING', 'ack dropped: not every overlay is OK');
  t.is(h.reg.configAttempts, 1);
  t.deepEqual(h.dropped, ['ack']);
  fire();
  await tick();
  t.deepEqual(h.configured, ['good', 'bad', 'bad'], 'only the failed overlay is configured again');
  t.is(h.reg.configAttempts, 2);
  t.is(h.reg.state, 'REGISTERING');
  fire();
  await tick();
  t.is(h.reg.configAttempts, 3);
  t.is(h.reg.state, 'REGISTERED', 'attempts > max_configuration_attempts: REGISTERED with the failure');
  t.deepEqual(h.gaveUp, [['bad']]);
  t.is(h.reg.overlays.get('bad')!.state!.status, 'STATUS_FAILED');
});

test('an overlay still CONFIGURING makes the next overlay list be dropped whole', async (t) => {
  const { h } = harness({ overlays: [ov('a')] });
  h.hold = true;
  h.reg.detected();
  await tick();
  t.is(h.reg.overlays.get('a')!.state!.status, 'STATUS_CONFIGURING');
  h.reg.update([ov('a')]);
  t.deepEqual(h.configured, ['a'], 'not configured twice at once');
  t.deepEqual(h.dropped, ['overlays']);
  h.pending.get('a')!();
  await tick();
  t.is(h.reg.state, 'REGISTERED');
});

test('a new master (detected) resets the attempts and re-registers; OK overlays are skipped but reported (checkAgentResetConfigurationAttempts)', async (t) => {
  const { h } = harness({ max: 1 });
  h.reg.detected();
  await tick();
  t.is(h.reg.configAttempts, 1);
  t.is(h.reg.state, 'REGISTERED');
  h.reg.detected();
  t.is(h.reg.configAttempts, 0);
  t.is(h.reg.state, 'REGISTERING');
  await tick();
  t.is(h.registers, 2);
  t.deepEqual(h.configured, ['mz-overlay'], 'already OK: not configured again');
  t.is(h.reports.length, 2, 'but reported to the new master');
  t.is(h.reg.configAttempts, 1);
  t.is(h.reg.state, 'REGISTERED');
});

test('an acknowledgement or an overlay list asked for before a new master was detected does not count in its term', async (t) => {
  const { h } = harness({ max: 1 });
  const acks = holdAcknowledgements(h);
  h.reg.detected();
  await tick();
  t.is(h.reports.length, 1, 'a report of the first term is in flight');
  h.reg.detected(); // a new master: attempts reset, registration again
  await tick();
  t.is(h.reports.length, 2);
  acks[0]!(); // the first term's acknowledgement arrives late
  await tick();
  t.is(h.reg.configAttempts, 0, 'not counted in the new term');
  t.is(h.reg.state, 'REGISTERING');
  acks[1]!();
  await tick();
  t.is(h.reg.configAttempts, 1);
  t.is(h.reg.state, 'REGISTERED');
  t.deepEqual(h.dropped, ['ack']);
  // An overlay list of a registration sent in an earlier term is dropped too.
  let answer!: (o: AgentOverlayInfo[]) => void;
  (h.reg.d as { register: () => Promise<AgentOverlayInfo[]> }).register = () => new Promise((resolve) => (answer = resolve));
  h.reg.exited();
  const late = answer;
  h.reg.detected();
  late([ov('mz-overlay')]);
  await tick();
  t.deepEqual(h.dropped, ['ack', 'overlays']);
});

test('two registrations of one term in flight: the second acknowledgement, after REGISTERED, is not counted', async (t) => {
  const { h, fire } = harness({ max: 1 });
  const acks = holdAcknowledgements(h);
  h.reg.detected();
  await tick();
  fire(); // the retry timer fires before the first report is acknowledged
  await tick();
  t.is(h.registers, 2);
  t.is(h.reports.length, 2, 'both registrations reported');
  acks[0]!();
  await tick();
  t.is(h.reg.state, 'REGISTERED');
  acks[1]!();
  await tick();
  t.is(h.reg.configAttempts, 1);
  t.is(h.reg.state, 'REGISTERED');
  t.deepEqual(h.dropped, ['ack']);
});

test('the master exiting keeps the attempts and registers again; an overlay list while REGISTERED is ignored', async (t) => {
  const { h } = harness({ max: 5, overlays: [ov('a')], fail: new Set(['a']) });
  h.reg.detected();
  await tick();
  t.is(h.reg.configAttempts, 1);
  h.reg.exited();
  t.is(h.reg.configAttempts, 1);
  await tick();
  t.is(h.registers, 1, 'a registration chain already runs: exited() does not start another');
  const ok = harness({ overlays: [ov('a')] });
  ok.h.reg.detected();
  await tick();
  t.is(ok.h.reg.state, 'REGISTERED');
  ok.h.reg.update([ov('a')]);
  t.deepEqual(ok.h.dropped, ['overlays']);
  ok.h.reg.exited();
  t.is(ok.h.reg.state, 'REGISTERING');
  await tick();
  t.is(ok.h.registers, 2);
  t.is(ok.h.reg.configAttempts, 2, 'exited: no reset');
});

test('an OK overlay whose allocation changed (deleted at the master, a new vtep_mtu) is configured again, unlike upstream', async (t) => {
  const { h } = harness({ overlays: [ov('a')] });
  h.reg.detected();
  await tick();
  t.deepEqual(h.configured, ['a']);
  const moved = { ...ov('a'), subnet: '192.168.7.0/24' };
  (h.reg.d as { register: () => Promise<AgentOverlayInfo[]> }).register = async () => [moved];
  h.reg.detected();
  await tick();
  t.deepEqual(h.configured, ['a', 'a']);
  t.is(h.reg.overlays.get('a')!.subnet, '192.168.7.0/24', '/overlay-agent/overlay shows the new allocation');
  t.is(h.reg.state, 'REGISTERED');
});
