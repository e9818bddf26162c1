// Local mode's Contrail records in the ZooKeeper store, for real: a ZooKeeper server and three
// overlay masters in a namespace this file makes (one for the whole file), which is also the fake
// host contrail-cni-plugin runs in. Through the leader's HTTP API, networks, pools, groups and
// endpoints become records with a claim znode per VNI, address and floating IP; after kill -9 of
// the leader the next one serves the same state and hands out the next free address; a detach
// removes the record and its claims; a conflicting record planted in ZooKeeper makes the masters
// refuse to serve, overwriting nothing. The plugin, with `contrail.master: zk://…`, finds the leader
// in the election (ADD, and DEL after the failover) and fails with code 11 naming contrail.master
// when ZooKeeper has no leader or does not answer.
import test, { type ExecutionContext } from 'ava';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as netns from '../../../lib/netns/index.js';
import { NetlinkHandle } from '../../../lib/netlink/index.js';
import { callPlugin, ourPlugin, REFERENCE_DIR } from '../../helpers/cni.js';
import { isRoot, uniq } from '../../helpers/fixture.js';
import { Cluster, masterPort, zookeeperInstalled } from '../../helpers/overlay/cluster.js';
import { fixtureNetwork } from '../../helpers/overlay/master.js';
import { claimPath, recordPath, zkMulti, zkRecords } from '../../helpers/overlay/zk-records.js';

const SESSION_S = 2;
const MASTERS = 3;
const ZPATH = '/ozc';
const ROOT = `${ZPATH}/overlay-master`;
const RED = 'default-domain:default:red';
const POOL = 'default-domain:default:public:pool1';
const WEB = 'default-domain:default:web';
const PLUGIN = ourPlugin('contrail-cni-plugin');
/** node-zookeeper-client's Exception.NODE_EXISTS. */
const NODE_EXISTS = -110;

const skip = !isRoot ? 'needs root (it creates network namespaces)' : !zookeeperInstalled() ? 'needs the zookeeper package (apt-get install zookeeperd)' : undefined;
const skipped = (title: string) => test.skip(`${title} (skipped: ${skip})`, () => {});
const serial = skip ? skipped : test.serial;

let c: Cluster;
let leader = 0;
const containers: string[] = [];
/** The container of the plugin's ADD (its DEL comes after the failover). */
let p1Ctr = '';
const masterCfg = () => ({ network: fixtureNetwork(), zk: { url: `zk://${c.zkConnect}${ZPATH}`, session_timeout: SESSION_S } });

if (!skip) {
  test.before(async (t) => {
    t.timeout(90_000);
    // One ZooKeeper server is enough here: what is tested is the masters' records and election.
    c = await Cluster.start('ozc', 1, { masters: MASTERS });
    for (let i = 0; i < MASTERS; i++) c.startMaster(i, masterCfg());
    // The host's public interface, where the pool's floating IPs go.
    const h = await netns.open(c.ns);
    const nl = await NetlinkHandle.open(h);
    await nl.link.add({ kind: 'veth', name: 'pub0', up: true, peer: { name: 'pub1' } });
    nl.close();
    h.close();
    leader = await c.waitLeader(MASTERS, 30_000);
  });
  test.after.always(async () => {
    for (const n of containers) await netns.del(n).catch(() => {});
    await c?.close();
  });
}

const api = (method: string, path: string, body?: unknown, i = leader) => c.http(i, method, path, body);

async function attach(t: ExecutionContext, cid: string, extra: Record<string, unknown> = {}): Promise<any> {
  const r = await api('POST', '/contrail/attach', { agent: '10.0.0.1', container_id: cid, ifname: 'eth0', network: RED, ...extra });
  t.is(r.status, 200, `attach ${cid}: ${r.body}`);
  return r.json().endpoint;
}

/** /contrail/state with every list in key order (a master that recovered lists them in ZooKeeper's order). */
async function state(i = leader): Promise<any> {
  const r = await api('GET', '/contrail/state', undefined, i);
  if (r.status !== 200) throw new Error(`GET /contrail/state on master ${i}: ${r.status} ${r.body}`);
  const s = r.json();
  const by = (f: (x: any) => string) => (a: any, b: any) => f(a).localeCompare(f(b));
  for (const k of ['networks', 'pools', 'groups']) s[k].sort(by((x) => x.fq));
  s.endpoints.sort(by((e) => `${e.container_id}/${e.ifname}`));
  return s;
}

/** Every address an endpoint holds (its own and its floating IPs): none may appear twice. */
function assertNoAddressTwice(t: ExecutionContext, endpoints: any[]): void {
  const all = endpoints.flatMap((e) => [e.ip, ...e.fips.map((f: { ip: string }) => f.ip)]);
  t.is(new Set(all).size, all.length, `an address is held twice: ${all.join(' ')}`);
}

/** The claims ZooKeeper must hold for these endpoints and networks, claim znode → record key. */
function expectedClaims(s: any): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of s.networks) out[encodeURIComponent(`vni/${n.vni}`)] = `network/${n.fq}`;
  for (const e of s.endpoints) {
    const key = `endpoint/${e.container_id}/${e.ifname}`;
    out[encodeURIComponent(`ip/${e.ip}`)] = key;
    for (const f of e.fips) out[encodeURIComponent(`fip/${f.ip}`)] = key;
  }
  return out;
}

/** The master that says it has `role` (or one of `also`), polling all of them. */
async function waitForRole(role: string, timeoutMs: number, also: string[] = []): Promise<{ i: number; role: string; reason: string }> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    for (let i = 0; i < MASTERS; i++) {
      if (!c.masters[i]) continue;
      const r = await c.http(i, 'GET', '/overlay-master/leader', undefined, 2000).catch(() => undefined);
      const got = r?.status === 200 ? (r.json() as { role: string; reason: string }) : undefined;
      if (got && [role, ...also].includes(got.role)) return { i, role: got.role, reason: got.reason };
    }
    if (Date.now() > end) throw new Error(`no master is ${role} after ${timeoutMs} ms (logs in ${c.dir})`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

// ---- the plugin, run in the cluster's namespace as its host

const pluginConf = (master: string, labels: Record<string, string>, extra: Record<string, unknown> = {}) => ({
  cniVersion: '0.4.0',
  name: 'contrail-cni-plugin',
  type: 'contrail-cni-plugin',
  contrail: { master, 'config-dir': join(c.dir, 'ports'), 'outbox-dir': join(c.dir, 'outbox'), 'http-timeout': 5, ...extra },
  args: { 'org.apache.mesos': { network_info: { name: 'contrail-cni-plugin', labels: { labels: Object.entries(labels).map(([key, value]) => ({ key, value })) } } } },
});

/** With credentials: the port record must keep the ensemble and path only. */
const zkMaster = () => `zk://ctl:secret@${c.zkConnect}${ZPATH}`;

async function plugin(command: 'ADD' | 'DEL' | 'STATUS', id: string, conf: object, ctr?: string) {
  return callPlugin(PLUGIN, conf, { command, containerId: id, ...(ctr && { netns: `/var/run/netns/${ctr}` }), hostNs: c.ns, path: REFERENCE_DIR });
}

async function containerNs(): Promise<string> {
  const name = uniq('ozcc');
  await netns.add(name);
  containers.push(name);
  return name;
}

const cniError = (stdout: string): { code: number; msg: string } => JSON.parse(stdout);

// ---- the tests (in order: each builds on the state the previous one left)

serial('networks, pools, groups and endpoints are records; a claim znode per VNI, address and floating IP', async (t) => {
  const net = await api('POST', '/contrail/networks', { fq: RED, subnet: '10.60.0.0/24' });
  t.is(net.status, 200, net.body);
  t.like(net.json(), { fq: RED, subnet: '10.60.0.0/24', gateway: '10.60.0.1', vni: 4096 });
  t.is((await api('POST', '/contrail/pools', { fq: POOL, subnet: '198.51.100.0/24', interface: 'pub0', first: '198.51.100.10', last: '198.51.100.20' })).status, 200);
  t.is((await api('POST', '/contrail/groups', { fq: WEB, rules: [{ direction: 'ingress', protocol: 'tcp', ports: '80' }] })).status, 200);
  const e1 = await attach(t, 'c1', { fips: [{ pool: POOL }], groups: [WEB] });
  const e2 = await attach(t, 'c2', { fips: [{ pool: POOL }] });
  const e3 = await attach(t, 'c3');
  t.deepEqual([e1.ip, e2.ip, e3.ip], ['10.60.0.2', '10.60.0.3', '10.60.0.4']);
  t.deepEqual([e1.fips, e2.fips], [[{ pool: POOL, ip: '198.51.100.10' }], [{ pool: POOL, ip: '198.51.100.11' }]]);

  // A follower sends the plugin to the leader.
  const f = (leader + 1) % MASTERS;
  await c.waitRole(f, 'follower', 10_000);
  const r = await api('POST', '/contrail/attach', { agent: '10.0.0.1', container_id: 'c9', ifname: 'eth0', network: RED }, f);
  t.is(r.status, 307);
  t.is(r.headers.location, `http://127.0.0.1:${masterPort(leader)}/contrail/attach`);

  const z = await zkRecords(c, ROOT);
  const keys = [`network/${RED}`, `pool/${POOL}`, `group/${WEB}`, 'endpoint/c1/eth0', 'endpoint/c2/eth0', 'endpoint/c3/eth0'];
  t.deepEqual(Object.keys(z.records).sort(), keys.map((k) => recordPath(k).slice('records/'.length)).sort());
  for (const [name, rec] of Object.entries(z.records)) t.is(encodeURIComponent(rec.key), name, 'each record under its own key');
  const rec = (key: string) => z.records[encodeURIComponent(key)]!;
  t.deepEqual(rec(`network/${RED}`), { key: `network/${RED}`, claims: ['vni/4096'], value: net.json() });
  t.deepEqual(rec('endpoint/c1/eth0'), { key: 'endpoint/c1/eth0', claims: ['ip/10.60.0.2', 'fip/198.51.100.10'], value: e1 });
  t.deepEqual(rec(`pool/${POOL}`).claims, [], 'a pool holds no claim');
  t.deepEqual(rec(`group/${WEB}`).value.rules, [{ direction: 'ingress', protocol: 'tcp', ports: '80' }]);
  // One claim znode per VNI, address and floating IP, whose data names its record.
  t.deepEqual(z.claims, expectedClaims(await state()));
  t.is(Object.keys(z.claims).length, 6);
});

serial('the plugin with contrail.master zk://…: ADD finds the leader in the election', async (t) => {
  const ctr = (p1Ctr = await containerNs());
  const r = await plugin('ADD', 'p1', pluginConf(zkMaster(), { networks: 'red', 'floating-ips': POOL }), ctr);
  t.is(r.exitCode, 0, r.stdout + r.stderr);
  const ip = JSON.parse(r.stdout).ips[0].address;
  t.is(ip, '10.60.0.5/24', 'the next free address of the network');
  t.regex(await execIn(ctr, ['ip', '-o', 'addr', 'show', 'eth0']), new RegExp(`inet ${ip.replace(/\./g, '\\.')} `));
  const e = (await state()).endpoints.find((x: any) => x.container_id === 'p1');
  t.like(e, { ip: '10.60.0.5', fips: [{ pool: POOL, ip: '198.51.100.12' }] });
  t.is(e.agent, '127.0.0.1', "no node-ip: the address the leader was reached from (found through ZooKeeper)");
  const dir = join(c.dir, 'ports', 'p1');
  const text = readFileSync(join(dir, readdirSync(dir)[0]!), 'utf8');
  t.deepEqual(JSON.parse(text).local.master, [`zk://${c.zkConnect}${ZPATH}`], 'the port record keeps the ensemble and path');
  t.false(text.includes('secret'), 'and not the credentials');
  // STATUS finds the leader the same way; the operator's command takes the same form.
  const st = await plugin('STATUS', '', { ...pluginConf(zkMaster(), {}), cniVersion: '1.1.0' });
  t.is(st.exitCode, 0, st.stdout + st.stderr);
  const cli = fileURLToPath(new URL('../../../bin/mesos-cni.js', import.meta.url));
  const out = await execIn(c.ns, [process.execPath, cli, 'contrail', '--master', zkMaster(), 'state']);
  t.deepEqual(JSON.parse(out), await state(), '`mesos-cni contrail --master zk://…` reads the leader');
});

serial('kill -9 of the leader: the next serves the same state, hands out the next free address, and takes the plugin\'s DEL', async (t) => {
  const before = await state();
  assertNoAddressTwice(t, before.endpoints);
  const old = leader;
  const t0 = Date.now();
  await c.killMaster(old);
  leader = await c.waitLeader(MASTERS, (SESSION_S + 15) * 1000);
  t.not(leader, old);
  t.log(`master ${old} killed; master ${leader} leads after ${c.ledAt(leader) - t0} ms`);
  t.deepEqual(await state(), before, 'identical networks, pools, groups and endpoints (addresses, floating IPs)');

  const e4 = await attach(t, 'c4', { fips: [{ pool: POOL }] });
  t.is(e4.ip, '10.60.0.6', 'the lowest address no endpoint holds');
  t.deepEqual(e4.fips, [{ pool: POOL, ip: '198.51.100.13' }]);
  const taken = await api('POST', '/contrail/attach', { agent: '10.0.0.1', container_id: 'c5', ifname: 'eth0', network: RED, ip: '10.60.0.2' });
  t.is(taken.status, 409);
  t.regex(taken.json().error, /^label network-ip: 10\.60\.0\.2 is taken \(by c1\/eth0\)/);
  const after = await state();
  assertNoAddressTwice(t, after.endpoints);
  t.deepEqual((await zkRecords(c, ROOT)).claims, expectedClaims(after));

  // The port record names ZooKeeper, not the master of the ADD: DEL reaches the new leader.
  const d = await plugin('DEL', 'p1', pluginConf(zkMaster(), {}), p1Ctr);
  t.is(d.exitCode, 0, d.stdout + d.stderr);
  t.falsy((await state()).endpoints.find((x: any) => x.container_id === 'p1'), 'detached at the new leader');
  const outbox = join(c.dir, 'outbox');
  t.true(!existsSync(outbox) || readdirSync(outbox).length === 0, 'nothing kept for later delivery');
  c.startMaster(old, masterCfg());
});

serial('a detach removes the record and its claims; the address is free again', async (t) => {
  const r = await api('POST', '/contrail/detach', { container_id: 'c2', ifname: 'eth0' });
  t.deepEqual(r.json(), { detached: true });
  const z = await zkRecords(c, ROOT);
  t.false(recordPath('endpoint/c2/eth0').slice('records/'.length) in z.records);
  t.false(encodeURIComponent('ip/10.60.0.3') in z.claims);
  t.false(encodeURIComponent('fip/198.51.100.11') in z.claims);
  t.deepEqual(z.claims, expectedClaims(await state()), 'every other claim stays');
  t.deepEqual((await api('POST', '/contrail/detach', { container_id: 'c2', ifname: 'eth0' })).json(), { detached: false });
  t.is((await attach(t, 'c6')).ip, '10.60.0.3', "c2's address, released");
});

serial('the plugin: no master in the election, an empty election, ZooKeeper not answering: code 11 naming contrail.master, nothing left', async (t) => {
  const ctr = await containerNs();
  const links = async () => (await execIn(c.ns, ['ip', '-o', 'link'])).trim().split('\n').length;
  const linksBefore = await links();
  const none = await plugin('ADD', 'n1', pluginConf(`zk://${c.zkConnect}/nomaster`, { networks: 'red' }), ctr);
  t.is(none.exitCode, 1);
  t.like(cniError(none.stdout), { code: 11 });
  t.regex(cniError(none.stdout).msg, /^contrail\.master: no overlay master leads at zk:\/\/127\.0\.0\.1:2181\/nomaster: \/nomaster\/overlay-master\/election does not exist/);

  t.deepEqual(await zkMulti(c, '', [{ op: 'create', path: 'empty', data: '' }, { op: 'create', path: 'empty/overlay-master', data: '' }, { op: 'create', path: 'empty/overlay-master/election', data: '' }]), { ok: true });
  const empty = await plugin('ADD', 'n2', pluginConf(`zk://${c.zkConnect}/empty`, { networks: 'red' }), ctr);
  t.like(cniError(empty.stdout), { code: 11 });
  t.regex(cniError(empty.stdout).msg, /^contrail\.master: no overlay master leads at zk:\/\/127\.0\.0\.1:2181\/empty: \/empty\/overlay-master\/election is empty/);

  // Nothing listens on port 1: the lookup is bounded by http-timeout and the process ends then.
  const t0 = Date.now();
  const down = await plugin('ADD', 'n3', pluginConf('zk://127.0.0.1:1/x', { networks: 'red' }, { 'http-timeout': 1 }), ctr);
  const ms = Date.now() - t0;
  t.like(cniError(down.stdout), { code: 11, msg: 'contrail.master: ZooKeeper at zk://127.0.0.1:1/x: no session within 1000 ms' });
  t.true(ms < 6000, `the plugin ended ${ms} ms after it started`);

  for (const id of ['n1', 'n2', 'n3']) t.false(readdirSync(join(c.dir, 'ports')).includes(id), `${id}: no port record`);
  t.is(await links(), linksBefore, 'no link left on the host');
  t.notRegex(await execIn(ctr, ['ip', '-o', 'link']), /eth0/, 'nothing in the container');
  t.falsy((await state()).endpoints.find((x: any) => /^n\d$/.test(x.container_id)), 'nothing at the master');
});

serial('a record whose claim another holds, planted in ZooKeeper: refused by ZooKeeper with its claim; alone, every master refuses to serve and nothing is overwritten', async (t) => {
  const before = await zkRecords(c, ROOT);
  const served = await state();
  // A second endpoint with c1's address, as a store written by anything but a leader could hold.
  const rogue = { kind: 'endpoint', container_id: 'rogue', ifname: 'eth0', agent: '10.0.0.9', network: RED, ip: '10.60.0.2', mac: '02:00:00:00:00:09', groups: [], fips: [] };
  const rec = { key: 'endpoint/rogue/eth0', claims: ['ip/10.60.0.2'], value: rogue };
  const dup = await zkMulti(c, ROOT, [
    { op: 'create', path: recordPath(rec.key), data: rec },
    { op: 'create', path: claimPath('ip/10.60.0.2'), data: rec.key },
  ]);
  t.like(dup, { code: NODE_EXISTS }, 'the record with its claim: the claim znode exists, the multi-op is refused whole');
  t.deepEqual(await zkRecords(c, ROOT), before, 'nothing written');

  t.deepEqual(await zkMulti(c, ROOT, [{ op: 'create', path: recordPath(rec.key), data: rec }]), { ok: true }, 'the record alone');
  // The leader does not read the store again while it leads; the next one to take over does.
  await c.killMaster(leader, 'SIGTERM');
  const refused = await waitForRole('refused', 15_000);
  t.regex(refused.reason, /^refusing to serve: two records hold the same claim/);
  await assertNotServing(t, refused.i, /two records hold the same claim/);
  // The plugin finds the refusing master in the election (it holds the lowest znode): code 11.
  const ctr = await containerNs();
  const add = await plugin('ADD', 'p2', pluginConf(zkMaster(), { networks: 'red' }), ctr);
  t.like(cniError(add.stdout), { code: 11, msg: `overlay master zk://${c.zkConnect}${ZPATH} (leader 127.0.0.1:${masterPort(refused.i)})/contrail/attach` });
  t.regex(JSON.parse(add.stdout).details, /503: \{"error":"refusing to serve: two records hold the same claim/);
  t.false(readdirSync(join(c.dir, 'ports')).includes('p2'), 'no port record left');
  const planted = await zkRecords(c, ROOT);
  t.deepEqual(planted.claims, before.claims, 'the claims untouched: c1 still holds its address');
  t.deepEqual(planted.records[encodeURIComponent('endpoint/c1/eth0')], before.records[encodeURIComponent('endpoint/c1/eth0')]);
  t.is(planted.meta, before.meta, 'no commit since');

  // Stored claims that do not say what the value holds pass ZooKeeper's check; the Contrail
  // recovery compares them with the value and refuses.
  t.deepEqual(
    await zkMulti(c, ROOT, [
      { op: 'remove', path: recordPath(rec.key) },
      { op: 'create', path: recordPath(rec.key), data: { ...rec, claims: [] } },
    ]),
    { ok: true },
  );
  c.startMaster(leader, masterCfg());
  await c.killMaster(refused.i, 'SIGTERM');
  const refused2 = await waitForRole('refused', 15_000);
  t.not(refused2.i, refused.i);
  t.regex(refused2.reason, /^refusing to serve: stored record "endpoint\/rogue\/eth0" claims \[\] but holds \[ip\/10\.60\.0\.2\]/);
  await assertNotServing(t, refused2.i, /claims \[\] but holds \[ip\/10\.60\.0\.2\]/);
  t.is((await zkRecords(c, ROOT)).meta, before.meta, 'still no commit');

  // The operator removes the planted record: the next master to take over serves what was there.
  t.deepEqual(await zkMulti(c, ROOT, [{ op: 'remove', path: recordPath(rec.key) }]), { ok: true });
  c.startMaster(refused.i, masterCfg());
  await c.killMaster(refused2.i, 'SIGTERM');
  leader = await c.waitLeader(MASTERS, 15_000);
  t.deepEqual(await state(), served);
  c.startMaster(refused2.i, masterCfg());
});

// A record whose value holds an address its stored claims do not list would pass ZooKeeper's check
// (the claim znodes agree with the stored claims) and be served with no znode guarding the address,
// and its detach could never be written: fromStored refuses it at takeover.
serial('a record whose stored claims are not what its value holds: the next master refuses to serve it', async (t) => {
  const ghost = { kind: 'endpoint', container_id: 'ghost', ifname: 'eth0', agent: '10.0.0.9', network: RED, ip: '10.60.0.99', mac: '02:00:00:00:00:0a', groups: [], fips: [] };
  const planted = await zkMulti(c, ROOT, [{ op: 'create', path: recordPath('endpoint/ghost/eth0'), data: { key: 'endpoint/ghost/eth0', claims: [], value: ghost } }]);
  if (!('ok' in planted)) throw new Error(`could not plant the record: ${planted.error}`);
  await c.killMaster(leader, 'SIGTERM');
  const next = await waitForRole('refused', 15_000, ['leader']);
  t.is(next.role, 'refused', `master ${next.i}: ${next.reason}`);
  t.regex(next.reason, /^refusing to serve: .*endpoint\/ghost\/eth0/, `master ${next.i}: ${next.reason}`);
});

/** Master `i` refuses: 503 with the reason, for reads and for the plugin's calls; the others send there. */
async function assertNotServing(t: ExecutionContext, i: number, reason: RegExp): Promise<void> {
  const s = await api('GET', '/contrail/state', undefined, i);
  t.is(s.status, 503);
  t.regex(s.json().error, reason);
  const a = await api('POST', '/contrail/attach', { agent: '10.0.0.1', container_id: 'c7', ifname: 'eth0', network: RED }, i);
  t.is(a.status, 503);
  for (let j = 0; j < MASTERS; j++) {
    if (j === i || !c.masters[j]) continue;
    await c.waitRole(j, 'follower', 10_000);
    const f = await api('GET', '/contrail/state', undefined, j);
    t.is(f.status, 307, `master ${j} follows the refusing master`);
    t.is(f.headers.location, `http://127.0.0.1:${masterPort(i)}/contrail/state`);
  }
}

function execIn(ns: string, cmd: string[]): Promise<string> {
  return new Promise((resolve, reject) => execFile('ip', ['netns', 'exec', ns, ...cmd], { timeout: 15_000 }, (e, out) => (e ? reject(e) : resolve(out))));
}
