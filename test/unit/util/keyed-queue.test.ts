// KeyedQueue: one key runs in arrival order (also after a failure), different keys overlap.
import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { KeyedQueue } from '../../../lib/util/keyed-queue.js';

test('same key serialised in order, other keys concurrent, keys forgotten when idle', async (t) => {
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
  t.is(q.keys, 2);
  await t.throwsAsync(a1, { message: 'a1' });
  t.deepEqual(await Promise.all([a2, b1, free]), ['a2', 'b1', 'free']);
  t.true(events.indexOf('start a2') > events.indexOf('end a1'), events.join(', '));
  t.true(events.indexOf('start b1') < events.indexOf('end a1'), events.join(', '));
  await sleep(0);
  t.is(q.keys, 0);
  t.is(q.running, 0);
});

test('a job that waits past its timeout never starts and rejects; the jobs behind it keep their order', async (t) => {
  const q = new KeyedQueue();
  const events: string[] = [];
  const slow = q.run('k', async () => {
    await sleep(150);
    events.push('slow');
  });
  const late = q.run('k', async () => events.push('late'), { timeoutMs: 30, timeoutError: () => new Error('gave up') });
  const next = q.run('k', async () => events.push('next'));
  await t.throwsAsync(late, { message: 'gave up' });
  t.deepEqual(events, [], 'the timed-out job rejected while the first still ran');
  await slow;
  await next;
  t.deepEqual(events, ['slow', 'next']);
});
