// Namespaces: created as `ip netns add` does, opened, identified, deleted (idempotently).
import { execFileSync } from 'node:child_process';
import { stat } from 'node:fs/promises';
import type { ExecutionContext } from 'ava';
import * as netns from '../../../lib/netns/index.js';
import { NetnsError } from '../../../lib/native/errors.js';
import { rootTest, uniq } from '../../helpers/fixture.js';

/** A new namespace under a unique name, removed at teardown. */
async function added(t: ExecutionContext, prefix: string): Promise<{ name: string; path: string }> {
  const name = uniq(prefix);
  const path = await netns.add(name);
  t.teardown(() => netns.del(name));
  return { name, path };
}

rootTest('add makes a bind-mounted netns that iproute2 sees', async (t) => {
  const { name, path } = await added(t, 'nsa');
  t.is(path, `/var/run/netns/${name}`);
  t.true(await netns.isNetns(path));
  t.true(execFileSync('ip', ['netns', 'list']).toString().includes(name));
});

rootTest('add of a name that exists is EEXIST', async (t) => {
  const { name, path } = await added(t, 'nsa');
  const e = await t.throwsAsync(netns.add(name));
  t.true(e instanceof NetnsError);
  t.like(e, { code: 'EEXIST', message: `create netns ${path}: File exists` });
});

rootTest('del removes the netns file', async (t) => {
  const { name, path } = await added(t, 'nsa');
  await netns.del(name);
  await t.throwsAsync(stat(path), { code: 'ENOENT' });
  t.false(await netns.isNetns(path));
});

rootTest('del is idempotent', async (t) => {
  const { name, path } = await added(t, 'nsa');
  await netns.del(name);
  await t.notThrowsAsync(netns.del(name));
  await t.throwsAsync(stat(path), { code: 'ENOENT' });
});

rootTest('sameAs compares kernel identity', async (t) => {
  const { name, path } = await added(t, 'nso');
  const a = await netns.open(name);
  const b = await netns.open(path);
  const here = netns.current();
  t.true(a.sameAs(b));
  t.false(a.sameAs(here));
  t.true(here.sameAs(netns.current()));
  for (const ns of [a, b, here]) ns.close();
});

rootTest('a closed Netns refuses to give its fd', async (t) => {
  const { name } = await added(t, 'nso');
  const a = await netns.open(name);
  a.close();
  t.throws(() => a.fd, { message: /already closed/ });
});

rootTest('open verifies the file is a network namespace', async (t) => {
  const notNs = await t.throwsAsync(netns.open('/etc/hostname'));
  t.like(notNs, { code: 'EINVAL', message: 'open netns /etc/hostname: Invalid argument: not a network namespace (not an nsfs file)' });
  const missing = await t.throwsAsync(netns.open('/var/run/netns/definitely-missing-ns'));
  t.like(missing, { code: 'ENOENT' });
});

rootTest('isNetns tells a network namespace from another file', async (t) => {
  t.false(await netns.isNetns('/etc/hostname'));
  t.true(await netns.isNetns('/proc/self/ns/net'));
});

rootTest('many namespaces can be created and removed concurrently', async (t) => {
  const names = Array.from({ length: 24 }, () => uniq('nsc'));
  t.teardown(() => Promise.all(names.map((n) => netns.del(n))));
  const paths = await Promise.all(names.map((n) => netns.add(n)));
  const opened = await Promise.all(paths.map((p) => netns.open(p)));
  t.is(new Set(opened.map((n) => n.ino)).size, names.length, 'each is a distinct namespace');
  for (const n of opened) n.close();
  await Promise.all(names.map((n) => netns.del(n)));
  for (const p of paths) t.false(await netns.isNetns(p));
});
