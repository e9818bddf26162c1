// KeyedQueue: one key runs in arrival order (also after a failure), different keys overlap.
import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { KeyedQueue } from '../../../lib/util/keyed-queue.js';

/** a1 (40 ms, fails) then a2 on key a, b1 on key b, and a job without a key, all queued at once. */
function queued() {
  const q = new KeyedQueue();
  const events: string[] = [];
  const job = (name: string, ms: number, fail = false) => async () => {
    events.push(`start ${name}`);
    await sleep(ms);
    events.push(`end ${name}`);
    if (fail) throw new Error(name);
    return name;
  };
  const a1 = q.run('a', job('a1', 40, true));
  const a2 = q.run('a', job('a2', 10));
  const b1 = q.run('b', job('b1', 10));
  const free = q.run(undefined, job('free', 5));
  a1.catch(() => undefined); // each test awaits what it checks; none leaves a1's failure unhandled
  return { q, events, a1, a2, b1, free };
}

test('jobs of one key run in arrival order, also after a failure', async (t) => {
  const { events, a1, a2 } = queued();
  await t.throwsAsync(a1, { message: 'a1' });
  t.is(await a2, 'a2');
  t.true(events.indexOf('start a2') > events.indexOf('end a1'), events.join(', '));
});

test('jobs of other keys, or of none, run while a key is busy', async (t) => {
  const { events, a1, a2, b1, free } = queued();
  await t.throwsAsync(a1, { message: 'a1' });
  t.deepEqual(await Promise.all([a2, b1, free]), ['a2', 'b1', 'free']);
  t.true(events.indexOf('start b1') < events.indexOf('end a1'), events.join(', '));
});

test('keys are forgotten when idle', async (t) => {
  const { q, a1, a2, b1, free } = queued();
  t.is(q.keys, 2);
  await Promise.allSettled([a1, a2, b1, free]);
  await sleep(0);
  t.is(q.keys, 0);
  t.is(q.running, 0);
});

/** slow (150 ms) on key k, then late (30 ms timeout) and next behind it. */
function timedOutBehindSlow() {
  const q = new KeyedQueue();
  const events: string[] = [];
  const slow = q.run('k', async () => {
    await sleep(150);
    events.push('slow');
  });
  const late = q.run('k', async () => events.push('late'), { timeoutMs: 30, timeoutError: () => new Error('gave up') });
  const next = q.run('k', async () => events.push('next'));
  return { events, slow, late, next };
}

test('a job that waits past its timeout rejects and never starts', async (t) => {
  const { events, slow, late, next } = timedOutBehindSlow();
  await t.throwsAsync(late, { message: 'gave up' });
  t.deepEqual(events, [], 'the timed-out job rejected while the first still ran');
  await slow;
  await next;
  t.false(events.includes('late'), 'it never ran');
});

test('the jobs behind a timed-out job keep their order', async (t) => {
  const { events, slow, late, next } = timedOutBehindSlow();
  await t.throwsAsync(late, { message: 'gave up' });
  await slow;
  await next;
  t.deepEqual(events, ['slow', 'next']);
});
