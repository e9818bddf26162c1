// execInNetns: programs run inside test namespaces via the addon's setns-then-exec child.
import test, { type ExecutionContext } from 'ava';
import { namespaces, rootTest } from '../../helpers/fixture.js';
import { execInNetns } from '../../../lib/netns/index.js';
import { SpawnError } from '../../../lib/native/index.js';

interface IpLink {
  ifname: string;
}

rootTest('ip -j link inside a namespace sees only that namespace', async (t) => {
  const [a] = await namespaces(t, 1);
  await a!.nl.link.add({ kind: 'veth', name: 'only-a0', peer: { name: 'only-a1' } });
  const r = await execInNetns(a!.ns, 'ip', ['-j', 'link', 'show']);
  t.is(r.status, 0);
  const names = (JSON.parse(r.stdout) as IpLink[]).map((l) => l.ifname).sort();
  t.deepEqual(names, ['lo', 'only-a0', 'only-a1']);
});

rootTest('stdin is delivered to the program', async (t) => {
  const [a] = await namespaces(t, 1);
  const r = await execInNetns(a!.ns, '/bin/cat', [], { stdin: 'hello netns\n' });
  t.is(r.stdout, 'hello netns\n');
});

rootTest('large stdin and output are pumped together without deadlock', async (t) => {
  const [a] = await namespaces(t, 1);
  // 4 MiB both ways: far past the 64 KiB pipe buffers, so stdin and stdout must be pumped together.
  const big = Buffer.alloc(4 << 20, 0x61);
  const r2 = await execInNetns(a!.ns, '/bin/sh', ['-c', 'cat; cat /dev/null >&2'], { stdin: big });
  t.is(r2.stdout.length, big.length);
});

const failingScript = 'echo out; echo "bad thing happened" >&2; exit 3';

rootTest('with check: false, the exit status, stdout and stderr are returned', async (t) => {
  const [a] = await namespaces(t, 1);
  const r = await execInNetns(a!.ns, '/bin/sh', ['-c', failingScript], { check: false });
  t.is(r.status, 3);
  t.is(r.signal, 0);
  t.is(r.stdout, 'out\n');
  t.is(r.stderr, 'bad thing happened\n');
});

rootTest('by default a failing program throws a SpawnError with its exit status and stderr', async (t) => {
  const [a] = await namespaces(t, 1);
  const e = await t.throwsAsync(execInNetns(a!.ns, '/bin/sh', ['-c', failingScript]), { instanceOf: SpawnError });
  t.is(e!.message, `/bin/sh -c ${failingScript}: exit status 3: bad thing happened`);
  t.is((e as SpawnError).detail, 'bad thing happened');
});

rootTest('exec of a missing file names the file and the cause', async (t) => {
  const [a] = await namespaces(t, 1);
  const e = await t.throwsAsync(execInNetns(a!.ns, '/usr/sbin/no-such-program-x', ['--version']), { instanceOf: SpawnError });
  t.is(e!.message, 'exec /usr/sbin/no-such-program-x: No such file or directory');
  t.is((e as SpawnError).code, 'ENOENT');
  const e2 = await t.throwsAsync(execInNetns(a!.ns, 'no-such-program-x', []), { instanceOf: SpawnError });
  t.regex(e2!.message, /^exec no-such-program-x: not found in PATH/);
});

rootTest('a program past its timeout is killed and reported', async (t) => {
  const [a] = await namespaces(t, 1);
  const t0 = Date.now();
  const r = await execInNetns(a!.ns, '/bin/sleep', ['10'], { timeoutMs: 150, check: false });
  const took = Date.now() - t0;
  t.true(r.timedOut);
  t.is(r.signal, 9);
  t.is(r.status, -1);
  t.true(took >= 140 && took < 3000, `took ${took} ms`);
  const e = await t.throwsAsync(execInNetns(a!.ns, '/bin/sleep', ['10'], { timeoutMs: 100 }), { instanceOf: SpawnError });
  t.is(e!.message, '/bin/sleep 10: timed out after 100 ms');
  t.is((e as SpawnError).code, 'ETIMEDOUT');
});

rootTest('a grandchild holding the pipes open does not hold the call past the child exit', async (t) => {
  const [a] = await namespaces(t, 1);
  const t0 = Date.now();
  const r = await execInNetns(a!.ns, '/bin/sh', ['-c', 'echo early; sleep 5 & exit 0'], { timeoutMs: 4000 });
  t.is(r.stdout, 'early\n');
  t.false(r.timedOut);
  t.true(Date.now() - t0 < 2000);
});

test('NUL bytes in arguments or env are refused before anything runs', async (t) => {
  await t.throwsAsync(execInNetns(undefined, '/bin/echo', ['a\0b']), { message: /args\[0\]: expected a string without NUL/ });
  await t.throwsAsync(execInNetns(undefined, '/bin/echo', [], { env: { A: 'x\0y' } }), { message: /env\.A/ });
});

rootTest('50 concurrent spawns in different namespaces each see their own namespace', async (t) => {
  const nss = await namespaces(t, 50, 'mx');
  await Promise.all(nss.map((n, i) => n.nl.link.add({ kind: 'veth', name: `own${i}a`, peer: { name: `own${i}b` } })));
  const results = await Promise.all(nss.map((n) => execInNetns(n.ns, 'ip', ['-j', 'link', 'show'])));
  results.forEach((r, i) => {
    const names = (JSON.parse(r.stdout) as IpLink[]).map((l) => l.ifname).sort();
    t.deepEqual(names, ['lo', `own${i}a`, `own${i}b`]);
  });
  // And nothing moved this process: a spawn without a namespace still sees the original one.
  const home = (JSON.parse((await execInNetns(undefined, 'ip', ['-j', 'link', 'show'])).stdout) as IpLink[]).map((l) => l.ifname);
  t.false(home.some((n) => /^own\d+[ab]$/.test(n)));
});

/** 8 children sleeping 0.5 s in one namespace, started together; resolves once they all run. */
async function eightSleepers(t: ExecutionContext) {
  const [ns] = await namespaces(t, 1);
  const started = performance.now();
  const sleeps = Array.from({ length: 8 }, () => execInNetns(ns!.ns, 'sleep', ['0.5']));
  await new Promise((r) => setTimeout(r, 50)); // every child is running now
  return { ns: ns!, started, sleeps };
}

rootTest('children run in a lane of their own: 8 at once all run together', async (t) => {
  const { started, sleeps } = await eightSleepers(t);
  await Promise.all(sleeps);
  // Four threads for all (as before) would take two rounds: over a second.
  t.true(performance.now() - started < 900, `8 x sleep 0.5 took ${(performance.now() - started).toFixed(0)} ms`);
});

rootTest('children run in a lane of their own: netlink calls do not wait behind them', async (t) => {
  const { ns, sleeps } = await eightSleepers(t);
  const q = performance.now();
  await ns.nl.link.list();
  t.true(performance.now() - q < 200, `a link dump waited ${(performance.now() - q).toFixed(0)} ms`);
  await Promise.all(sleeps);
});
