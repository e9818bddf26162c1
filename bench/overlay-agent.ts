// The overlay agent (docs/overlay-agent.md): (1) daemon start to data plane ready with N peers in
// the cluster; (2) programming N peers in one netlink batch against the same work through
// `ip -batch` + `bridge -batch`, alternating, each run in a fresh namespace; (3) the time for a new
// agent to appear in the data plane of W running agents (W agents in this process, each in a
// namespace of its own, watching one master). Everything in namespaces this bench makes.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pino from 'pino';
import * as netns from '../lib/netns/index.js';
import { NetlinkHandle } from '../lib/netlink/index.js';
import { OverlayAgent } from '../lib/overlay/agent/agent.js';
import { parseAgentConfig } from '../lib/overlay/agent/config.js';
import { applyOps } from '../lib/overlay/agent/dataplane/apply.js';
import { diffPlanes } from '../lib/overlay/agent/dataplane/diff.js';
import { desiredPlane, emptyPlane, fdbKey } from '../lib/overlay/agent/dataplane/plane.js';
import { parseMasterConfig } from '../lib/overlay/master/config.js';
import { startMaster } from '../lib/overlay/master/server.js';
import { agent } from '../test/helpers/overlay/agents.js';
import { Hosts, until } from '../test/helpers/overlay/hosts.js';
import { median, ms, table } from './stats.js';

const execFileP = promisify(execFile);
const quiet = pino({ level: 'silent' });
const NETWORK = { vtep_subnet: '44.128.0.0/16', vtep_mac_oui: '70:B3:D5:00:00:00', overlays: [{ name: 'dcos', subnet: '9.0.0.0/8', prefix: 24 }] };
const peerIp = (i: number) => `10.${100 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;

export interface AgentBench {
  peers: number;
  startMs: number[];
  /** In-process: the ops applied (pipelined requests), warm (after one run). */
  oursMs: number[];
  /** Computing those ops: desired plane and diff. */
  diffMs: number[];
  oursColdMs: number;
  iprouteMs: number[];
  ratio: number;
  watchers: number;
  appearMs: number[];
}

/** A namespace with vtep1024 and its address, as the agent leaves it before the peers go in. */
async function vtepNs(tag: string): Promise<{ name: string; path: string; nl: NetlinkHandle; ns: netns.Netns; index: number }> {
  const name = `oab${process.pid.toString(36)}${tag}`.slice(0, 15);
  const path = await netns.add(name);
  const ns = await netns.open(path);
  const nl = await NetlinkHandle.open(ns);
  await nl.link.add({ kind: 'vxlan', name: 'vtep1024', vni: 1024, port: 64000, learning: true, mac: '70:b3:d5:80:00:01', up: true });
  const index = (await nl.link.get('vtep1024')).index;
  await nl.addr.replace({ dev: index, address: '44.128.0.1/16' });
  return { name, path, nl, ns, index };
}

async function dropNs(x: { path: string; nl: NetlinkHandle; ns: netns.Netns }): Promise<void> {
  x.nl.close();
  x.ns.close();
  await netns.del(x.path);
}

/** (2) N peers: our one batch vs ip -batch + bridge -batch of the same entries. */
async function programPeers(n: number, rounds: number, dir: string): Promise<{ ours: number[]; cold: number; ip: number[]; diff: number[] }> {
  const all = Array.from({ length: n + 1 }, (_, i) => agent(i + 1));
  const want = desiredPlane(all[0], all);
  const ipLines = [
    ...[...want.neigh].map(([ip, mac]) => `neigh replace ${ip} lladdr ${mac} dev vtep1024 nud permanent`),
    ...[...want.routes].map(([dst, gw]) => `route replace ${dst} via ${gw} dev vtep1024`),
    ...[...want.routes42].map(([dst, gw]) => `route replace ${dst} via ${gw} dev vtep1024 table 42`),
    `rule add from 9.0.0.0/8 lookup 42`,
  ];
  const brLines = [...want.fdb].map((k) => `fdb replace ${k.split('>')[0]} dev vtep1024 dst ${k.split('>')[1]} self permanent`);
  writeFileSync(join(dir, 'ip.batch'), ipLines.join('\n') + '\n');
  writeFileSync(join(dir, 'bridge.batch'), brLines.join('\n') + '\n');
  const ours: number[] = [];
  const ip: number[] = [];
  const diff: number[] = [];
  let cold = NaN;
  for (let r = 0; r <= rounds; r++) {
    for (const side of r % 2 === 0 ? ['ours', 'ip'] : ['ip', 'ours']) {
      const x = await vtepNs(`${side[0]}${r}`);
      try {
        // Ours: from the ops (as the iproute2 side starts from its batch files); what computing them costs is kept apart.
        const p0 = performance.now();
        const ops = side === 'ours' ? diffPlanes(emptyPlane(), desiredPlane(all[0], all), x.index, true) : [];
        if (side === 'ours' && r > 0) diff.push(performance.now() - p0);
        const t0 = performance.now();
        if (side === 'ours') {
          await applyOps(x.nl, ops);
        } else {
          await execFileP('ip', ['-n', x.name, '-batch', join(dir, 'ip.batch')]);
          await execFileP('bridge', ['-n', x.name, '-batch', join(dir, 'bridge.batch')]);
        }
        const t = performance.now() - t0;
        // Round 0 warms this process up (the daemon's state after its first batch).
        if (side === 'ours' && r === 0) cold = t;
        else if (r > 0) (side === 'ours' ? ours : ip).push(t);
        const fdb = (await execFileP('bridge', ['-n', x.name, 'fdb', 'show', 'dev', 'vtep1024'])).stdout.split('\n').filter((l) => l.includes(' dst ')).length;
        if (fdb !== n) throw new Error(`${side}: ${fdb} FDB entries programmed, expected ${n}`);
      } finally {
        await dropNs(x);
      }
    }
  }
  return { ours, cold, ip, diff };
}

/** (1) The daemon in a fake host: spawn to its "data plane ready" line, with N peers registered. */
async function startToReady(n: number, rounds: number): Promise<number[]> {
  const hosts = await Hosts.create('oab', 1);
  const out: number[] = [];
  try {
    const h = hosts.hosts[0]!;
    hosts.startMaster(h, { listen: '0.0.0.0:5055', network: NETWORK });
    await hosts.relay(h, [5055]);
    await until('master up', 20_000, async () => (await hosts.http(h, 5055, 'GET', '/overlay-master/leader').catch(() => undefined))?.status === 200);
    for (let i = 0; i < n; i += 32) {
      await Promise.all(
        Array.from({ length: Math.min(32, n - i) }, async (_, k) => {
          const r = await hosts.http(h, 5055, 'POST', '/overlay-master/agents/register', { ip: peerIp(i + k), network_config: { mesos_bridge: false, docker_bridge: false } });
          if (r.status !== 200) throw new Error(`register: ${r.status} ${r.body}`);
        }),
      );
    }
    for (let r = 0; r < rounds; r++) {
      await hosts.exec(h.name, ['sh', '-c', 'ip link del vtep1024 2>/dev/null; ip route flush table 42; ip rule del from 9.0.0.0/8 lookup 42 2>/dev/null; true']);
      rmSync(join(h.dir, 'agent.log'), { force: true });
      const t0 = Date.now();
      hosts.startAgent(h, { master: `${h.ip}:5055`, listen: '127.0.0.1:0', state_dir: join(h.dir, `state${r}`), network_config: { mesos_bridge: false, docker_bridge: false } }, 'agent');
      const line = await until('data plane ready', 60_000, () => hosts.log(h).split('\n').find((l) => l.includes('"data plane ready"')), 5);
      out.push(Date.parse((JSON.parse(line) as { time: string }).time) - t0);
      await hosts.kill('agent', 'SIGTERM');
    }
  } finally {
    await hosts.close();
  }
  return out;
}

/** (3) W agents in this process; a new agent registers; until every one of them has it programmed. */
async function appear(w: number, rounds: number): Promise<number[]> {
  const master = await startMaster(await parseMasterConfig({ listen: '127.0.0.1:0', network: NETWORK }), quiet);
  const agents: OverlayAgent[] = [];
  const spaces: { path: string; ns: netns.Netns }[] = [];
  const seen = new Map<number, number>();
  let ready = 0;
  let waitingFor: string | undefined;
  const out: number[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'oab-'));
  try {
    for (let i = 0; i < w; i++) {
      const path = await netns.add(`oab${process.pid.toString(36)}w${i}`);
      const ns = await netns.open(path);
      spaces.push({ path, ns });
      const config = await parseAgentConfig({ master: `127.0.0.1:${master.port}`, ip: peerIp(i), cni_dir: join(dir, `cni${i}`), state_dir: null, network_config: { mesos_bridge: false, docker_bridge: false } }, {});
      const a = await OverlayAgent.start({
        config,
        ns,
        log: quiet,
        onApplied: () => {
          if (waitingFor && agents[i]?.reconciler!.desired.fdb.has(waitingFor) && !seen.has(i)) seen.set(i, performance.now());
        },
      });
      agents.push(a);
      void a.ready.then(() => ready++);
    }
    await until('every agent ready', 120_000, () => ready === w, 50);
    for (let r = 0; r < rounds; r++) {
      const ip = peerIp(w + r);
      seen.clear();
      const t0 = performance.now();
      const reply = await fetch(`http://127.0.0.1:${master.port}/overlay-master/agents/register`, { method: 'POST', body: JSON.stringify({ ip, network_config: { mesos_bridge: false, docker_bridge: false } }) });
      const mac = ((await reply.json()) as { overlays: { backend: { vxlan: { vtep_mac: string } } }[] }).overlays[0]!.backend.vxlan.vtep_mac;
      waitingFor = fdbKey(mac, ip);
      // Agents that applied before `waitingFor` was set are caught by the check below.
      for (const [i, a] of agents.entries()) if (a.reconciler!.desired.fdb.has(waitingFor) && !seen.has(i) && (await kernelHas(spaces[i]!.ns, ip))) seen.set(i, performance.now());
      await until(`agent ${ip} in every data plane`, 30_000, () => seen.size === w, 2);
      out.push(Math.max(...seen.values()) - t0);
      // Verified in a kernel: the last agent's namespace has the route.
      if (!(await kernelHas(spaces[w - 1]!.ns, ip))) throw new Error(`agent ${ip} not in the kernel of the last agent`);
    }
  } finally {
    for (const a of agents) await a.stop();
    await master.stop();
    for (const s of spaces) {
      s.ns.close();
      await netns.del(s.path);
    }
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

async function kernelHas(ns: netns.Netns, ip: string): Promise<boolean> {
  const nl = await NetlinkHandle.open(ns);
  try {
    return (await nl.route.list({ table: 42, family: 4 })).some((r) => r.dst === `${ip}/32`);
  } finally {
    nl.close();
  }
}

export async function benchOverlayAgent(peers: number, rounds: number, watchers: number): Promise<AgentBench> {
  const dir = mkdtempSync(join(tmpdir(), 'oab-'));
  try {
    const p = await programPeers(peers, rounds, dir);
    const startMs = await startToReady(peers, Math.max(1, Math.min(rounds, 3)));
    const appearMs = watchers > 0 ? await appear(watchers, Math.max(1, rounds)) : [];
    return { peers, startMs, oursMs: p.ours, diffMs: p.diff, oursColdMs: p.cold, iprouteMs: p.ip, ratio: median(p.ours) / median(p.ip), watchers, appearMs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function agentTable(b: AgentBench): string {
  return table([
    ['overlay agent', 'median ms', 'runs', 'samples ms'],
    [`daemon start → data plane ready (${b.peers} peers)`, ms(median(b.startMs)), String(b.startMs.length), b.startMs.map(ms).join(' ')],
    [`${b.peers} peers applied by the agent (warm)`, ms(median(b.oursMs)), String(b.oursMs.length), b.oursMs.map(ms).join(' ')],
    [`  the same, first apply of the process (cold)`, ms(b.oursColdMs), '1', ms(b.oursColdMs)],
    [`  desired plane + diff that made the ops`, ms(median(b.diffMs)), String(b.diffMs.length), b.diffMs.map(ms).join(' ')],
    [`${b.peers} peers, ip -batch + bridge -batch`, ms(median(b.iprouteMs)), String(b.iprouteMs.length), b.iprouteMs.map(ms).join(' ')],
    [`new agent in the data plane of ${b.watchers} others`, ms(median(b.appearMs)), String(b.appearMs.length), b.appearMs.map(ms).join(' ')],
  ]);
}
