// The overlay master (docs/overlay-master.md): registrations per second for N simulated agents on
// the embedded and the ZooKeeper store, time to recover 10,000 agents from each, failover time,
// and the time and bytes for one change to reach 1000 parked watchers. Masters and a 3-member
// ZooKeeper ensemble run inside a namespace of their own (test/helpers/overlay/cluster.ts); this
// process reaches them through unix sockets, with keep-alive connections.
import { Agent, request } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Allocation } from '../lib/overlay/master/allocate.js';
import { parseNetwork } from '../lib/overlay/master/config.js';
import { EmbeddedStore } from '../lib/overlay/master/store/embedded.js';
import { AGENT_NETWORK_DEFAULTS } from '../lib/overlay/master/types.js';
import { Cluster, masterPort } from '../test/helpers/overlay/cluster.js';
import { ms, since, table } from './stats.js';

const network = { vtep_subnet: '44.128.0.0/16', vtep_mac_oui: '70:B3:D5:00:00:00', overlays: [{ name: 'dcos', subnet: '9.0.0.0/8', prefix: 24 }] };
const SESSION_S = 3;
const agentIp = (i: number) => `10.${(i >> 14) & 255}.${(i >> 6) & 255}.${(i & 63) + 1}`;

interface Reply {
  status: number;
  body: string;
}

function http(c: Cluster, i: number, agent: Agent, method: string, path: string, body?: unknown): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const req = request({ socketPath: c.sock(masterPort(i)), agent, method, path, headers: text ? { 'Content-Length': Buffer.byteLength(text) } : {} }, (res) => {
      let b = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (b += d));
      res.on('end', () => resolve({ status: res.statusCode!, body: b }));
    });
    req.on('error', reject);
    req.end(text);
  });
}

/** Register agents [from, to) with `concurrency` clients; returns registrations per second. */
async function registerAll(c: Cluster, i: number, from: number, to: number, concurrency = 64): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  let next = from;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < to) {
        const ip = agentIp(next++);
        const r = await http(c, i, agent, 'POST', '/overlay-master/agents/register', { ip });
        if (r.status !== 200) throw new Error(`register ${ip} on master ${i}: ${r.status} ${r.body}`);
      }
    }),
  );
  agent.destroy();
  return ((to - from) / since(t0)) * 1000;
}

/** A recovery time the master logged ("elected: read the stored state" + "leading: recovered"). */
function loggedRecoveryMs(c: Cluster, i: number): number {
  const lines = readFileSync(join(c.dir, `master${i}.log`), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { msg: string; ms?: number });
  const read = lines.filter((l) => l.msg === 'elected: read the stored state').at(-1)?.ms ?? 0;
  const rec = lines.filter((l) => l.msg.startsWith('leading: recovered')).at(-1)?.ms ?? NaN;
  return read + rec;
}

export interface OverlayBench {
  rows: string[][];
  regEmbedded: number;
  regZk: number;
  recoverEmbeddedMs: number;
  failoverMs: number;
  watchMs: number;
}

export async function benchOverlayMaster(n: number, recoverN: number, watchers: number): Promise<OverlayBench> {
  const c = await Cluster.start('ombench', 3, { masters: 3 });
  try {
    // 1. Registrations per second, each store, through a master process.
    c.startMaster(0, { network, replicated_log_dir: join(c.dir, 'emb') });
    await c.waitRole(0, 'leader', 20_000);
    const regEmbedded = await registerAll(c, 0, 0, n);
    const zkCfg = { network, zk: { url: `zk://${c.zkConnect}/bench`, session_timeout: SESSION_S } };
    c.startMaster(1, zkCfg);
    await c.waitRole(1, 'leader', 30_000);
    const regZk = await registerAll(c, 1, 0, n);

    // 2. Watches: `watchers` parked on the embedded master, one registration, time and bytes.
    const agent = new Agent({ keepAlive: true, maxSockets: watchers + 10 });
    const full = JSON.parse((await http(c, 0, agent, 'GET', '/overlay-master/watch')).body) as { epoch: string; version: number };
    const t0w = performance.now();
    let bytes = 0;
    let last = 0;
    const parked = Array.from({ length: watchers }, () =>
      http(c, 0, agent, 'GET', `/overlay-master/watch?epoch=${full.epoch}&version=${full.version}&timeout_ms=60000`).then((r) => {
        bytes += Buffer.byteLength(r.body);
        last = performance.now();
        return r;
      }),
    );
    // Wait until every watcher is parked (the metric), then make one change.
    for (;;) {
      const m = await http(c, 0, agent, 'GET', '/metrics');
      if (new RegExp(`overlay_master_watchers ${watchers}\\n`).test(m.body)) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const parkMs = since(t0w);
    const tChange = performance.now();
    await http(c, 0, agent, 'POST', '/overlay-master/agents/register', { ip: '10.250.0.1' });
    await Promise.all(parked);
    const watchMs = last - tChange;
    const fullBytes = Buffer.byteLength((await http(c, 0, agent, 'GET', '/overlay-master/watch')).body);
    agent.destroy();

    // 3. Recovery of recoverN agents. Embedded: a snapshot made by the allocator, read + re-reserved
    //    in this process. ZooKeeper: that many records registered, then a new master takes over.
    const net = parseNetwork(network);
    const a = Allocation.empty(net);
    for (let i = 0; i < recoverN; i++) a.register(agentIp(i), AGENT_NETWORK_DEFAULTS);
    const store = new EmbeddedStore(join(c.dir, 'recover'));
    await store.start({ lead: () => {}, follow: () => {}, lost: () => {}, refuse: () => {} });
    await store.commit([...a.agents.values()].map((x) => ({ ip: x.ip, after: x })));
    const t0r = performance.now();
    const re = new EmbeddedStore(join(c.dir, 'recover'));
    let loaded: Parameters<typeof Allocation.recover>[1] = [];
    await re.start({ lead: (ag) => (loaded = ag), follow: () => {}, lost: () => {}, refuse: () => {} });
    Allocation.recover(net, loaded);
    const recoverEmbeddedMs = since(t0r);
    const snapshotMb = readFileSync(re.location).length / 1e6;
    if (recoverN > n) await registerAll(c, 1, n, recoverN);
    // 4. Failover: a second ZooKeeper master follows; kill -9 the leader; the follower reads every
    //    record and leads (its recovery time is in its log).
    c.startMaster(2, zkCfg);
    await c.waitRole(2, 'follower', 30_000);
    await c.killMaster(1);
    const t0f = performance.now();
    await c.waitRole(2, 'leader', 60_000);
    const failoverMs = since(t0f);
    const recoverZkMs = loggedRecoveryMs(c, 2);
    const rows = [
      ['overlay master', 'embedded', 'ZooKeeper (3 members)', 'goal'],
      [`registrations/s, ${n} agents, 64 clients`, regEmbedded.toFixed(0), regZk.toFixed(0), '>= 1000 / >= 200'],
      [`recover ${recoverN} agents, ms`, ms(recoverEmbeddedMs), ms(recoverZkMs), '<= 1000 embedded'],
      [`failover after kill -9 (session ${SESSION_S} s), ms`, '-', ms(failoverMs), `<= ${(SESSION_S + 2) * 1000}`],
      [`one change to ${watchers} watchers: ms / bytes each`, `${ms(watchMs)} / ${(bytes / watchers).toFixed(0)}`, '-', '<= 1000 ms'],
      [`(full state for the same watcher, bytes)`, String(fullBytes), '-', ''],
      [`(snapshot of ${recoverN} agents, MB; watchers parked in ms)`, `${snapshotMb.toFixed(1)}; ${ms(parkMs)}`, '-', ''],
    ];
    return { rows, regEmbedded, regZk, recoverEmbeddedMs, failoverMs, watchMs };
  } finally {
    await c.close();
  }
}

export const overlayTable = (b: OverlayBench): string => table(b.rows);
