// The ZooKeeper store for real: a 3-member ensemble (Debian's zookeeper) and three masters, all on
// loopback inside a namespace this file makes (one ensemble for the whole file: the JVMs take a
// few seconds to start). kill -9 of the leading master during a burst of registrations, one
// ZooKeeper member killed, the whole ensemble down and back.
import test from 'ava';
import { isRoot } from '../../helpers/fixture.js';
import { Cluster, zookeeperInstalled } from '../../helpers/overlay/cluster.js';
import { fixtureNetwork } from '../../helpers/overlay/master.js';

const SESSION_S = 3;
const skip = !isRoot ? 'needs root (it creates a network namespace)' : !zookeeperInstalled() ? 'needs the zookeeper package (apt-get install zookeeperd)' : undefined;
const zkTest = skip ? (title: string) => test.skip(`${title} (skipped: ${skip})`, () => {}) : test.serial;

let c: Cluster;
const network = fixtureNetwork({ vtep_subnet: '44.128.0.0/16', overlays: [{ name: 'dcos', subnet: '9.0.0.0/8', prefix: 24 }] });

if (!skip) {
  test.before(async () => {
    c = await Cluster.start('omzk', 3);
    for (let i = 0; i < 3; i++) c.startMaster(i, { network, zk: { url: `zk://${c.zkConnect}/`, session_timeout: SESSION_S } });
  });
  test.after.always(async () => {
    await c?.close();
  });
}

/** Register through whichever master leads now (followers answer 307 or 503): retries until `deadline`. */
async function register(ip: string, deadline: number): Promise<any> {
  for (let i = 0; ; i = (i + 1) % 3) {
    if (c.masters[i]) {
      const r = await c.http(i, 'POST', '/overlay-master/agents/register', { ip }, 3000).catch(() => undefined);
      if (r?.status === 200) return r.json();
    }
    if (Date.now() > deadline) throw new Error(`register ${ip}: no master answered 200 in time`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function assertUnique(t: import('ava').ExecutionContext, agents: any[]): void {
  const seen = new Set<string>();
  for (const a of agents) {
    const o = a.overlays[0];
    for (const k of [`vtep ${o.backend.vxlan.vtep_ip}`, `mac ${o.backend.vxlan.vtep_mac}`, `subnet ${o.subnet}`]) {
      t.false(seen.has(k), `duplicate ${k}`);
      seen.add(k);
    }
  }
}

zkTest('one master leads; followers redirect to it (307 Location) and report it', async (t) => {
  const l = await c.waitLeader(3, 30_000);
  const f = (l + 1) % 3;
  // A master that is still joining the election answers 503; wait until it follows.
  for (let k = 0; k < 200 && (await c.http(f, 'GET', '/overlay-master/leader')).json().role !== 'follower'; k++) await new Promise((r) => setTimeout(r, 50));
  const r = await c.http(f, 'POST', '/overlay-master/agents/register', { ip: '10.1.0.1' });
  t.is(r.status, 307);
  t.is(r.headers.location, `http://127.0.0.1:${5061 + l}/overlay-master/agents/register`);
  t.is((await c.http(f, 'GET', '/overlay-master/state')).status, 307);
  t.like((await c.http(f, 'GET', '/overlay-master/leader')).json(), { role: 'follower', leader: `127.0.0.1:${5061 + l}` });
  const a = await c.http(l, 'POST', '/overlay-master/agents/register', { ip: '10.1.0.1' });
  t.is(a.status, 200);
  t.is(a.json().overlays[0].subnet, '9.0.0.0/24');
  const dump = await c.zkDump();
  t.deepEqual(Object.keys(dump.agents), ['10.1.0.1']);
  t.deepEqual(dump.claims.vtep, ['44.128.0.1']);
  t.deepEqual(dump.claims.subnet, ['dcos@9.0.0.0_24']);
  t.regex((await c.http(l, 'GET', '/metrics')).body, /overlay_master_leader\{store="zookeeper"\} 1/);
});

zkTest('kill -9 of the leader during a burst: another leads within session timeout + 2 s, every acknowledged allocation intact, no duplicate', async (t) => {
  const leader = await c.waitLeader(3, 30_000);
  const acked = new Map<string, any>();
  let n = 0;
  let stop = false;
  const worker = async () => {
    while (!stop) {
      const ip = `10.2.${Math.floor(n / 250)}.${(n++ % 250) + 1}`;
      const a = await register(ip, Date.now() + 30_000);
      acked.set(ip, a);
    }
  };
  let failure: unknown;
  const workers = Array.from({ length: 8 }, () => worker().catch((e: unknown) => ((failure = e), (stop = true))));
  const until = async (n: number) => {
    while (acked.size < n && failure === undefined) await new Promise((r) => setTimeout(r, 10));
    if (failure) throw failure;
  };
  await until(100);
  const t0 = Date.now();
  await c.killMaster(leader);
  const next = await c.waitLeader(3, (SESSION_S + 10) * 1000);
  // Measured to the moment the new leader serves (its own log line), not to when our polling,
  // slowed by whatever else the machine runs, happens to see it.
  const failover = c.ledAt(next) - t0;
  t.log(`failover: master ${leader} killed, master ${next} leads after ${failover} ms (bound ${(SESSION_S + 2) * 1000} ms)`);
  t.true(failover <= (SESSION_S + 2) * 1000, `failover took ${failover} ms`);
  await until(acked.size + 100);
  stop = true;
  await Promise.all(workers);
  if (failure) throw failure;
  const state = (await c.http(next, 'GET', '/overlay-master/state')).json();
  const byIp = new Map(state.agents.map((a: any) => [a.ip, a]));
  for (const [ip, a] of acked) t.deepEqual(byIp.get(ip), a, `acknowledged allocation of ${ip}`);
  assertUnique(t, state.agents);
  const dump = await c.zkDump();
  t.is(Object.keys(dump.agents).length, state.agents.length);
  t.is(dump.claims.vtep!.length, state.agents.length);
  t.is(new Set(dump.claims.mac).size, state.agents.length);
  c.startMaster(leader, { network, zk: { url: `zk://${c.zkConnect}/`, session_timeout: SESSION_S } });
});

zkTest('one ZooKeeper member killed: registrations go on', async (t) => {
  await c.waitLeader(3, 30_000);
  await c.killZk(0);
  const t0 = Date.now();
  for (let i = 1; i <= 20; i++) await register(`10.3.0.${i}`, Date.now() + 20_000);
  t.log(`20 registrations with one member down in ${Date.now() - t0} ms`);
  c.startZk(0);
  await c.waitQuorum(60_000);
  const l = await c.waitLeader(3, 30_000);
  assertUnique(t, (await c.http(l, 'GET', '/overlay-master/state')).json().agents);
});

zkTest('the whole ensemble down: masters refuse to allocate, and recover when it returns', async (t) => {
  const l = await c.waitLeader(3, 30_000);
  const before = (await c.http(l, 'GET', '/overlay-master/state')).json().agents;
  for (let i = 0; i < 3; i++) await c.killZk(i);
  // Within a second every master has seen the connection go and stopped allocating.
  await new Promise((r) => setTimeout(r, 1000));
  for (let k = 0; k < 6; k++) {
    for (let i = 0; i < 3; i++) {
      const r = await c.http(i, 'POST', '/overlay-master/agents/register', { ip: '10.4.0.1' }, 5000).catch(() => undefined);
      t.not(r?.status, 200, `master ${i} allocated without ZooKeeper`);
      if (r) t.true([503, 307].includes(r.status), `master ${i}: ${r.status} ${r.body}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  for (let i = 0; i < 3; i++) c.startZk(i);
  await c.waitQuorum(60_000);
  const t0 = Date.now();
  const a = await register('10.4.0.1', Date.now() + 40_000);
  t.log(`first registration ${Date.now() - t0} ms after the ensemble served again`);
  t.truthy(a.overlays[0].subnet);
  const after = (await c.http(await c.waitLeader(3, 10_000), 'GET', '/overlay-master/state')).json().agents;
  const byIp = new Map(after.map((x: any) => [x.ip, x]));
  for (const b of before) t.deepEqual(byIp.get(b.ip), b);
  assertUnique(t, after);
});
