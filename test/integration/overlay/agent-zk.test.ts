// Masters electing their leader in ZooKeeper, as in an HA DC/OS cluster: three fake hosts, each
// running a ZooKeeper member (on its underlay address), an overlay master with the zookeeper
// store and an agent whose master is `zk://…/mesos`. The leading master is killed -9 while two
// containers on other hosts ping each other: no packet is lost (the data plane never depended on
// the master), and every agent finds the new leader in ZooKeeper and registers with it.
import test from 'ava';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { isRoot, type TestNs } from '../../helpers/fixture.js';
import { zkJava, zookeeperInstalled, zooConfig } from '../../helpers/overlay/cluster.js';
import { Hosts, until, type Host } from '../../helpers/overlay/hosts.js';

const MASTER = 5055;
const AGENT = 5056;
const NETWORK = { vtep_subnet: '44.128.0.0/20', vtep_mac_oui: '70:B3:D5:00:00:00', overlays: [{ name: 'dcos', subnet: '9.0.0.0/8', prefix: 24 }] };
const skip = !isRoot ? 'needs root' : zookeeperInstalled() ? '' : 'ZooKeeper not installed (Debian zookeeperd)';

let hosts: Hosts | undefined;
const ctrs: TestNs[] = [];
const ips: string[] = [];

const zkUrl = (hs: Host[]) => `zk://${hs.map((h) => `${h.ip}:2181`).join(',')}/mesos`;
const role = async (h: Host) => ((await hosts!.http(h, MASTER, 'GET', '/overlay-master/leader', undefined, 2000).catch(() => undefined))?.json().role as string | undefined);
const agentInfo = async (h: Host) => {
  const r = await hosts!.http(h, AGENT, 'GET', '/overlay-agent/overlay');
  return r.status === 200 ? r.json() : undefined;
};
const registered = async (h: Host) => {
  const m = (await hosts!.http(h, AGENT, 'GET', '/metrics')).body;
  const i = /\noverlay_slave_registering 0\n/.test(m) ? await agentInfo(h) : undefined;
  return i?.overlays[0]?.state?.status === 'STATUS_OK' ? i : undefined;
};

test.before(async (t) => {
  if (skip) return;
  t.timeout(180_000);
  hosts = await Hosts.create('oaz', 3);
  const hs = hosts.hosts;
  for (const h of hs) {
    const cfg = join(h.dir, 'zoo.cfg');
    writeFileSync(cfg, zooConfig(h.i, join(h.dir, 'zk'), 2181, hs.map((x) => `${x.ip}:2888:3888`)));
    hosts.spawn(`zk${h.i}`, h, zkJava(cfg, h.dir), { env: { JAVA_TOOL_OPTIONS: '' } });
  }
  for (const h of hs) {
    await hosts.relay(h, [MASTER, AGENT]);
    hosts.startMaster(h, { listen: `0.0.0.0:${MASTER}`, advertise: `${h.ip}:${MASTER}`, zk: { url: zkUrl(hs), session_timeout: 3 }, network: NETWORK });
  }
  await until('a master leads', 90_000, async () => (await Promise.all(hs.map(role))).includes('leader'), 200);
  for (const h of hs) hosts.startAgent(h, { master: zkUrl(hs), listen: `0.0.0.0:${AGENT}`, reconcile_interval_ms: 1000, network_config: { docker_bridge: false } });
  for (const h of hs) await until(`agent on ${h.name} registered`, 60_000, () => registered(h));
  for (const h of hs) {
    const ctr = await hosts.containerNs();
    const add = await hosts.mesos(h, 'add', 'dcos', ctr, `z${h.i}`);
    if (add.exitCode !== 0) throw new Error(`mesos-cni exec add on ${h.name}: ${add.stdout}${add.stderr}`);
    ctrs.push(ctr);
    ips.push(JSON.parse(add.stdout).ip4.ip.split('/')[0]);
  }
  for (const h of hs) {
    await until(`peers programmed on ${h.name}`, 30_000, async () => (await hosts!.exec(h.name, ['bridge', 'fdb', 'show', 'dev', 'vtep1024'])).split('\n').filter((l) => l.includes(' dst ')).length === 2);
  }
});

test.after.always(async () => {
  await hosts?.close();
});

(skip ? test.serial.skip : test.serial)(`the leading master killed -9 during traffic: no packet lost; every agent registers with the new leader${skip ? ` (skipped: ${skip})` : ''}`, async (t) => {
  t.timeout(120_000);
  const hs = hosts!.hosts;
  const leader = hs[(await Promise.all(hs.map(role))).indexOf('leader')]!;
  // Two containers on the hosts whose master goes on: ping across while the leader dies.
  const [a, b] = hs.filter((h) => h !== leader).map((h) => h.i) as [number, number];
  const before = await Promise.all(hs.map(agentInfo));
  const ping = spawn('ip', ['netns', 'exec', ctrs[a]!.name, 'ping', '-i', '0.05', '-W', '1', ips[b]!], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  ping.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const done = new Promise((r) => ping.once('exit', r));
  await new Promise((r) => setTimeout(r, 500));
  const t0 = Date.now();
  await hosts!.kill(`master${leader.i}`, 'SIGKILL');
  const next = await until('a new master leads', 30_000, async () => {
    for (const h of hs) if (h !== leader && (await role(h)) === 'leader') return h;
    return undefined;
  }, 100);
  t.log(`new leader ${next.ip} after ${Date.now() - t0} ms`);
  for (const h of hs) {
    await until(`agent on ${h.name} registered with ${next.ip}`, 30_000, async () => {
      const log = hosts!.log(h).split('\n').filter((l) => l.includes('Detected new overlay master'));
      return log.at(-1)?.includes(`"master":"${next.ip}:${MASTER}"`) && (await registered(h));
    });
  }
  await new Promise((r) => setTimeout(r, 500));
  ping.kill('SIGINT');
  await done;
  const m = /(\d+) packets transmitted, (\d+) received/.exec(out);
  t.truthy(m, out);
  t.true(Number(m![1]) > 20, `pinged throughout (${m![0]})`);
  t.is(m![1], m![2], `no loss across the failover: ${m![0]}`);
  // The new leader holds every agent, each OK (reported again after the new term), the same allocation.
  const state = (await hosts!.http(next, MASTER, 'GET', '/overlay-master/state')).json();
  t.is(state.agents.length, 3);
  for (const ag of state.agents) t.deepEqual(ag.overlays[0].state, { status: 'STATUS_OK' });
  const after = await Promise.all(hs.map(agentInfo));
  t.deepEqual(after, before, 'the same AgentInfo (attempts 1 again after the reset)');
});
