// Closing a Netns in JS while native jobs that were handed its fd are still queued: every job must
// still act in that namespace (each entry point owns a duplicate), never in whatever file the
// freed fd number names next. Each test frees the number and at once reopens it on another namespace.
import { closeSync, openSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { native, type NativeReply } from '../../../lib/native/index.js';
import * as netns from '../../../lib/netns/index.js';
import { namespaces, rootTest, type TestNs } from '../../helpers/fixture.js';

const TTL = 'net/ipv4/ip_default_ttl';

/** Two namespaces told apart by their default TTL (per namespace; 64 in a new one). */
async function twoNamespaces(t: ExecutionContext): Promise<[TestNs, TestNs]> {
  const [a, b] = await namespaces(t, 2, 'fd');
  await native.sysctlWrite(a!.ns.fd, TTL, '77');
  await native.sysctlWrite(b!.ns.fd, TTL, '55');
  return [a!, b!];
}

/** Fill the lowest free fd numbers (the one just closed among them) with fds of `path`. */
function occupyFreedNumbers(t: ExecutionContext, path: string, count: number): void {
  const fds = Array.from({ length: count }, () => openSync(path, 'r'));
  t.teardown(() => fds.forEach((fd) => closeSync(fd)));
}

// Serial: no other test's jobs open fds meanwhile, so the freed number goes to b as intended.
rootTest.serial('100 spawns queued with a Netns that is then closed all run in that namespace', async (t) => {
  const [a, b] = await twoNamespaces(t);
  const mine = await netns.open(a.path);
  t.teardown(() => mine.close());
  // Hold the waiting lane's threads (32) with lock waiters that time out, so the spawns below are
  // certainly still queued when the Netns closes.
  const dir = await mkdtemp(join(tmpdir(), 'mcni-fd-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const lock = join(dir, 'lock');
  const held = await native.fileLock(lock, 1000);
  const waiters = Array.from({ length: 36 }, () =>
    native.fileLock(lock, 300).then(
      (fd) => (native.fileUnlock(fd), 'locked'),
      (e: { code?: string }) => e.code,
    ),
  );
  const spawns = Array.from({ length: 100 }, () =>
    native.spawnInNetns({ netnsFd: mine.fd, file: '/bin/cat', argv: ['cat', `/proc/sys/${TTL}`], env: [], stdin: new Uint8Array(0), timeoutMs: 10_000 }),
  );
  mine.close();
  occupyFreedNumbers(t, b.path, 200);
  const outcomes = await Promise.all(waiters);
  native.fileUnlock(held);
  const results = await Promise.all(spawns);
  t.deepEqual(new Set(outcomes), new Set(['ETIMEDOUT']), 'the lane was held until after the close');
  t.deepEqual(
    results.map((r) => `${r.status} ${r.stdout.toString().trim()}`),
    Array.from({ length: 100 }, () => '0 77'),
  );
});

/**
 * Ready 4 handles in `ns`, each with 10 veth pairs to delete; the returned function starts the
 * deletes, which hold the 4 quick threads (a veth delete waits 20-40 ms in the kernel, behind the
 * RTNL lock) while the jobs queued next stay queued.
 */
async function quickLaneHolder(t: ExecutionContext, ns: TestNs): Promise<() => Promise<NativeReply[][]>> {
  const names = Array.from({ length: 40 }, (_, i) => `hold${i}`);
  await Promise.all(names.map((name) => ns.nl.link.add({ kind: 'veth', name, peer: { name: `${name}p` } })));
  const handles = await Promise.all([0, 1, 2, 3].map(() => native.netlinkOpen(ns.ns.fd)));
  t.teardown(() => handles.forEach((h) => native.netlinkClose(h)));
  return () =>
    Promise.all(handles.map((h, i) => native.netlinkRequest(h, names.slice(i * 10, i * 10 + 10).map((name) => ({ op: 'link.del', spec: { name } })))));
}

rootTest.serial('sysctl reads, netlink opens and link adds queued with a Netns that is then closed all act in that namespace', async (t) => {
  const [a, b] = await twoNamespaces(t);
  const [other] = await namespaces(t, 1, 'fo');
  await a.nl.link.add({ kind: 'bridge', name: 'marka' });
  const mine = await netns.open(a.path);
  t.teardown(() => mine.close());
  const sender = await native.netlinkOpen(other!.ns.fd);
  t.teardown(() => native.netlinkClose(sender));
  const hold = await quickLaneHolder(t, other!);
  const held = hold();
  const adds = Array.from({ length: 100 }, (_, i) =>
    native.netlinkRequest(sender, [{ op: 'link.add', spec: { kind: 'bridge', name: `fdq${i}`, netnsFd: mine.fd } }]),
  );
  const reads = Array.from({ length: 100 }, () => native.sysctlRead(mine.fd, TTL));
  const opens = Array.from({ length: 100 }, () => native.netlinkOpen(mine.fd));
  mine.close();
  occupyFreedNumbers(t, b.path, 300);
  t.deepEqual((await held).flat().map((r) => r.errno), Array.from({ length: 40 }, () => 0));

  t.deepEqual((await Promise.all(adds)).map((r) => r[0]!.errno), Array.from({ length: 100 }, () => 0));
  t.deepEqual(await Promise.all(reads), Array.from({ length: 100 }, () => '77'));
  const handles = await Promise.all(opens);
  t.teardown(() => handles.forEach((h) => native.netlinkClose(h)));
  const seen = await Promise.all(handles.map((h) => native.netlinkRequest(h, [{ op: 'link.get', spec: { name: 'marka' } }])));
  t.deepEqual(seen.map((r) => r[0]!.errno), Array.from({ length: 100 }, () => 0), 'every socket was opened in a');
  const names = (ns: TestNs) => ns.nl.link.list().then((ls) => ls.map((l) => l.name).filter((n) => n.startsWith('fdq')));
  t.is((await names(a)).length, 100);
  t.deepEqual(await names(b), []);
  t.deepEqual(await names(other!), []);
});

rootTest('a namespace fd that is not open is refused when the call is made, before anything is queued', async (t) => {
  const notOpen = 999_999; // above any RLIMIT_NOFILE here, so never a live fd
  await t.throwsAsync(native.sysctlRead(notOpen, TTL), { code: 'EBADF', message: /^read sysctl net\/ipv4\/ip_default_ttl: netns fd 999999: Bad file descriptor$/ });
  await t.throwsAsync(native.netlinkOpen(notOpen), { code: 'EBADF', message: /^open netlink socket: netns fd 999999/ });
  await t.throwsAsync(native.spawnInNetns({ netnsFd: notOpen, file: '/bin/true', argv: ['true'], env: [], stdin: new Uint8Array(0), timeoutMs: 0 }), {
    code: 'EBADF',
    message: /^spawn \/bin\/true: netns fd 999999/,
  });
  const [a] = await namespaces(t, 1, 'fd');
  const sender = await native.netlinkOpen(a!.ns.fd);
  t.teardown(() => native.netlinkClose(sender));
  await t.throwsAsync(native.netlinkRequest(sender, [{ op: 'link.add', spec: { kind: 'bridge', name: 'never', netnsFd: notOpen } }]), {
    code: 'EBADF',
    message: /^link: netns fd 999999/,
  });
});
