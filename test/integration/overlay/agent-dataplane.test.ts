// The data plane for real in a test namespace (no master: desired planes from agent records):
// the VTEP as dcos-net makes it, every peer's neighbour, FDB entry and routes read back with
// iproute2, one batch per change, drift repaired by the next reconcile, peers removed, the VTEP
// recreated when it differs, foreign entries and a stale view never touched.
import pino from 'pino';
import { NetlinkHandle } from '../../../lib/netlink/index.js';
import { desiredPlane } from '../../../lib/overlay/agent/dataplane/plane.js';
import { Reconciler, type Applied } from '../../../lib/overlay/agent/dataplane/reconciler.js';
import type { AgentInfo } from '../../../lib/overlay/master/types.js';
import { namespaces, nsExec, rootTest, type TestNs } from '../../helpers/fixture.js';
import { agent } from '../../helpers/overlay/agents.js';

const log = pino({ level: 'silent' });

async function kernel(ns: TestNs) {
  const sh = async (...args: string[]) => (await nsExec(ns, args)).split('\n').map((l) => l.trim()).filter(Boolean).sort();
  return {
    routes: await sh('ip', 'route', 'show', 'dev', 'vtep1024', 'proto', 'boot'),
    routes6: await sh('ip', '-6', 'route', 'show', 'dev', 'vtep1024', 'proto', 'boot'),
    table42: await sh('ip', 'route', 'show', 'table', '42'),
    neigh: await sh('ip', 'neigh', 'show', 'dev', 'vtep1024', 'nud', 'permanent'),
    fdb: (await sh('bridge', 'fdb', 'show', 'dev', 'vtep1024')).filter((l) => l.includes(' dst ')),
    rules: (await sh('ip', 'rule', 'show')).filter((l) => l.includes('lookup 42')),
  };
}

async function start(t: import('ava').ExecutionContext, ns: TestNs) {
  const applied: Applied[] = [];
  const r = new Reconciler({ ns: ns.ns, intervalMs: 60_000, log, onApplied: (a) => applied.push(a), onError: (e) => t.log(`reconcile error: ${e.message}`) });
  await r.open();
  t.teardown(() => r.close());
  return { r, applied };
}

const until = async (cond: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((res) => setTimeout(res, 5));
  }
};

rootTest('VTEP, address, rule and every peer programmed as dcos-net does; a peer leaving takes all its entries', async (t) => {
  const [ns] = await namespaces(t, 1, 'oad');
  const { r, applied } = await start(t, ns!);
  const all: AgentInfo[] = [agent(1, { mtu: 1420 }), agent(2), agent(3)];
  r.set(desiredPlane(all[0], all), true);
  await until(() => applied.length > 0);
  const link = JSON.parse(await nsExec(ns!, ['ip', '-d', '-j', 'link', 'show', 'vtep1024']))[0];
  t.is(link.address, '70:b3:d5:80:00:01');
  t.is(link.mtu, 1420);
  t.deepEqual([link.linkinfo.info_kind, link.linkinfo.info_data.id, link.linkinfo.info_data.port, link.linkinfo.info_data.learning], ['vxlan', 1024, 64000, true]);
  t.true(link.flags.includes('UP'));
  t.regex(await nsExec(ns!, ['ip', 'addr', 'show', 'dev', 'vtep1024']), /inet 44\.128\.0\.1\/20 /);
  t.deepEqual(await kernel(ns!), {
    routes: ['9.0.2.0/24 via 44.128.0.2', '9.0.3.0/24 via 44.128.0.3'],
    routes6: [],
    table42: ['10.0.0.2 via 44.128.0.2 dev vtep1024', '10.0.0.3 via 44.128.0.3 dev vtep1024'],
    neigh: ['44.128.0.2 lladdr 70:b3:d5:80:00:02 PERMANENT', '44.128.0.3 lladdr 70:b3:d5:80:00:03 PERMANENT'],
    fdb: ['70:b3:d5:80:00:02 dst 10.0.0.2 self permanent', '70:b3:d5:80:00:03 dst 10.0.0.3 self permanent'],
    rules: ['32765:\tfrom 9.0.0.0/8 lookup 42'],
  });
  const n = applied.length;
  r.set(desiredPlane(all[0], all.slice(0, 2)), true);
  await until(() => applied.length > n);
  const k = await kernel(ns!);
  t.false(JSON.stringify(k).includes('44.128.0.3'), 'nothing of agent 3 is left');
  t.deepEqual(k.routes, ['9.0.2.0/24 via 44.128.0.2']);
  t.false(applied.at(-1)!.full, 'a change is applied as a diff, not by reading the kernel');
  t.is(applied.at(-1)!.ops, 4);
});

// Serial: it counts every request of this process (the other tests here run concurrently after it).
rootTest.serial('each change goes out as one netlink batch (one request), however many peers it touches', async (t) => {
  const [ns] = await namespaces(t, 1, 'oad');
  const { r, applied } = await start(t, ns!);
  const self = agent(1);
  r.set(desiredPlane(self, [self, agent(2)]), true);
  await until(() => applied.length > 0);
  const proto = NetlinkHandle.prototype as unknown as { request: (...a: unknown[]) => Promise<unknown> };
  const orig = proto.request;
  let batches = 0;
  let ops = 0;
  proto.request = function (this: unknown, ...a: unknown[]) {
    batches++;
    ops += (a[0] as unknown[]).length;
    return orig.apply(this, a);
  };
  t.teardown(() => (proto.request = orig));
  const peers = Array.from({ length: 50 }, (_, i) => agent(i + 2));
  const before = applied.length;
  r.set(desiredPlane(self, [self, ...peers]), true);
  await until(() => applied.length > before);
  proto.request = orig;
  t.is(applied.at(-1)!.requests, 1);
  t.is(batches, 1);
  t.is(ops, 49 * 4, '49 new peers × (neighbour, FDB entry, route, table-42 route)');
  t.is((await kernel(ns!)).fdb.length, 50);
  // Hundreds at once (a start): requests of 512 ops, pipelined; every entry lands.
  const many = Array.from({ length: 300 }, (_, i) => agent(i + 100));
  const n = applied.length;
  r.set(desiredPlane(self, [self, ...peers, ...many]), true);
  await until(() => applied.length > n);
  t.is(applied.at(-1)!.ops, 1200);
  t.is(applied.at(-1)!.requests, 3);
  await r.reconcileNow();
  t.is(applied.at(-1)!.ops, 0, 'the kernel holds exactly the desired plane');
  t.is((await kernel(ns!)).fdb.length, 350);
});

rootTest('drift is repaired by the next reconcile: a deleted route, FDB entry, neighbour and rule come back; a wrong MAC is fixed', async (t) => {
  const [ns] = await namespaces(t, 1, 'oad');
  const { r, applied } = await start(t, ns!);
  const all = [agent(1), agent(2), agent(3)];
  r.set(desiredPlane(all[0], all), true);
  await until(() => applied.length > 0);
  const want = await kernel(ns!);
  await nsExec(ns!, ['ip', 'route', 'del', '9.0.2.0/24']);
  await nsExec(ns!, ['ip', 'route', 'del', '10.0.0.3', 'table', '42']);
  await nsExec(ns!, ['bridge', 'fdb', 'del', '70:b3:d5:80:00:03', 'dev', 'vtep1024', 'dst', '10.0.0.3']);
  await nsExec(ns!, ['ip', 'neigh', 'replace', '44.128.0.2', 'lladdr', '02:00:00:00:00:99', 'dev', 'vtep1024', 'nud', 'permanent']);
  await nsExec(ns!, ['ip', 'rule', 'del', 'from', '9.0.0.0/8', 'lookup', '42']);
  t.notDeepEqual(await kernel(ns!), want);
  await r.reconcileNow();
  t.deepEqual(await kernel(ns!), want);
  t.true(applied.at(-1)!.full);
  t.is(applied.at(-1)!.ops, 5);
});

rootTest('the VTEP is recreated when its MTU, MAC, port or kind differ; brought up when down', async (t) => {
  const [ns] = await namespaces(t, 1, 'oad');
  const { r, applied } = await start(t, ns!);
  const all = [agent(1, { mtu: 1400 }), agent(2)];
  // Someone else's vtep1024: a bridge of that name, then a vxlan with the wrong port.
  await nsExec(ns!, ['ip', 'link', 'add', 'vtep1024', 'type', 'bridge']);
  r.set(desiredPlane(all[0], all), true);
  await until(() => applied.length > 0);
  t.regex(applied.at(-1)!.vtep, /^recreated \(was kind bridge/);
  await nsExec(ns!, ['ip', 'link', 'del', 'vtep1024']);
  await nsExec(ns!, ['ip', 'link', 'add', 'vtep1024', 'mtu', '1400', 'address', '70:b3:d5:80:00:01', 'type', 'vxlan', 'id', '1024', 'dstport', '4789']);
  await r.reconcileNow();
  t.regex(applied.at(-1)!.vtep, /^recreated \(was dstport 4789\)$/);
  t.is((await kernel(ns!)).fdb.length, 1, 'the peers come back with the new device');
  await nsExec(ns!, ['ip', 'link', 'set', 'vtep1024', 'down']);
  await r.reconcileNow();
  t.is(applied.at(-1)!.vtep, 'up');
  r.set(desiredPlane(agent(1, { mtu: 1450 }), all), true);
  await until(() => /mtu 1400/.test(applied.at(-1)!.vtep));
  t.regex(await nsExec(ns!, ['ip', 'link', 'show', 'vtep1024']), /mtu 1450/);
});

rootTest('foreign entries are never touched; a non-authoritative (stale) view only adds', async (t) => {
  const [ns] = await namespaces(t, 1, 'oad');
  const { r, applied } = await start(t, ns!);
  const all = [agent(1), agent(2), agent(3)];
  r.set(desiredPlane(all[0], all), true);
  await until(() => applied.length > 0);
  // Learned and foreign state: a reachable neighbour, a dynamic FDB entry, a gateway-less route,
  // a static-proto route, a rule of another table.
  await nsExec(ns!, ['ip', 'neigh', 'add', '44.128.0.99', 'lladdr', '02:00:00:00:00:98', 'dev', 'vtep1024', 'nud', 'reachable']);
  await nsExec(ns!, ['bridge', 'fdb', 'add', '02:00:00:00:00:97', 'dev', 'vtep1024', 'dst', '10.0.0.97', 'dynamic']);
  await nsExec(ns!, ['ip', 'route', 'add', '192.0.2.0/24', 'dev', 'vtep1024']);
  await nsExec(ns!, ['ip', 'route', 'add', '198.51.100.0/24', 'via', '44.128.0.2', 'proto', 'static']);
  await nsExec(ns!, ['ip', 'rule', 'add', 'from', '9.0.0.0/8', 'lookup', '43']);
  await r.reconcileNow();
  const out = [await nsExec(ns!, ['ip', 'neigh']), await nsExec(ns!, ['bridge', 'fdb', 'show', 'dev', 'vtep1024']), await nsExec(ns!, ['ip', 'route']), await nsExec(ns!, ['ip', 'rule'])].join('\n');
  for (const s of ['44.128.0.99', '02:00:00:00:00:97', '192.0.2.0/24', '198.51.100.0/24', 'lookup 43']) t.true(out.includes(s), s);
  // A stale view (e.g. read from the state file after a restart) lacks agent 3: nothing goes.
  r.set(desiredPlane(all[0], all.slice(0, 2)), false);
  await r.reconcileNow();
  t.true((await kernel(ns!)).fdb.some((l) => l.includes('10.0.0.3')));
  r.set(desiredPlane(all[0], all.slice(0, 2)), true);
  await r.reconcileNow();
  t.false((await kernel(ns!)).fdb.some((l) => l.includes('10.0.0.3')));
});

rootTest('IPv6 peers: the VTEP gets its IPv6 address (disable_ipv6 off) and routes via the peers\' vtep_ip6', async (t) => {
  const [ns] = await namespaces(t, 1, 'oad');
  await nsExec(ns!, ['sysctl', '-qw', 'net.ipv6.conf.default.disable_ipv6=1']);
  const { r, applied } = await start(t, ns!);
  const all = [agent(1, { v6: true, overlays: ['dcos', 'dcos6'] }), agent(2, { v6: true, overlays: ['dcos', 'dcos6'] })];
  r.set(desiredPlane(all[0], all), true);
  await until(() => applied.length > 0);
  t.regex(await nsExec(ns!, ['ip', '-6', 'addr', 'show', 'dev', 'vtep1024']), /inet6 fd01:a::1\/64/);
  const k = await kernel(ns!);
  t.deepEqual(k.routes6, ['fd01:b:0:0:2::/80 via fd01:a::2 metric 1024 pref medium']);
  t.true(k.neigh.includes('fd01:a::2 lladdr 70:b3:d5:80:00:02 PERMANENT'));
});
