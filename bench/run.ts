// `npm run bench`: container attach throughput (library vs `ip -batch`) and plugin start-up time,
// bridge + host-local plugins against the reference Go plugins, measured in one run on this machine,
// printed side by side. Knobs: BENCH_N (containers per attach run, default 200), BENCH_ROUNDS (attach
// runs per method, alternating, default 2), BENCH_STARTUP_RUNS (30), BENCH_PLUGIN_N (20),
// BENCH_PM_N (100, port-mapper containers), BENCH_PM_SCALE (500, containers on one bridge; 0 skips),
// BENCH_DAEMON_N (50, launcher + daemon vs standalone vs Go; 0 skips), BENCH_DAEMON_RSS_N (1000),
// BENCH_OVERLAY_N (1000 agents registering on the overlay master; 0 skips), BENCH_OVERLAY_RECOVER_N
// (10000 agents recovered), BENCH_OVERLAY_WATCHERS (1000 watchers), BENCH_AGENT_PEERS (1000 peers
// programmed / known at start by the overlay agent; 0 skips), BENCH_AGENT_ROUNDS (5),
// BENCH_AGENT_WATCHERS (100 running agents a new one must reach).
// Every count skips its part at 0.
import { cpus, hostname } from 'node:os';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { cleanup, cleanupOnSignals, live, runIp, runLibrary, stopping, type AttachRun } from './attach.js';
import { benchPlugins, pluginTable } from './plugins.js';
import { benchPortMapper, portMapperTable } from './port-mapper.js';
import { benchPortMapperScale, scaleTable } from './port-mapper-scale.js';
import { benchDaemon, daemonTable } from './daemon.js';
import { measureStartup, startupTable } from './startup.js';
import { benchOverlayMaster, overlayTable } from './overlay-master.js';
import { agentTable, benchOverlayAgent } from './overlay-agent.js';
import { mean, median, ms, p95, sum, table } from './stats.js';

const N = Number(process.env.BENCH_N ?? 200);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const STARTUP_RUNS = Number(process.env.BENCH_STARTUP_RUNS ?? 30);
const PLUGIN_N = Number(process.env.BENCH_PLUGIN_N ?? 20);
const PM_N = Number(process.env.BENCH_PM_N ?? 100); // port-mapper containers (issue 4: N >= 100)
const PM_SCALE = Number(process.env.BENCH_PM_SCALE ?? 500); // ADD of the ~10th vs ~Nth container on one bridge
const DAEMON_N = Number(process.env.BENCH_DAEMON_N ?? 50); // Go vs standalone vs launcher+daemon (0 skips)
const DAEMON_RSS_N = Number(process.env.BENCH_DAEMON_RSS_N ?? 1000); // containers attached when the daemon's RSS is read
const OVERLAY_N = Number(process.env.BENCH_OVERLAY_N ?? 1000);
const OVERLAY_RECOVER_N = Number(process.env.BENCH_OVERLAY_RECOVER_N ?? 10_000);
const OVERLAY_WATCHERS = Number(process.env.BENCH_OVERLAY_WATCHERS ?? 1000);
const AGENT_PEERS = Number(process.env.BENCH_AGENT_PEERS ?? 1000);
const AGENT_ROUNDS = Number(process.env.BENCH_AGENT_ROUNDS ?? 5);
const AGENT_WATCHERS = Number(process.env.BENCH_AGENT_WATCHERS ?? 100);
const prefix = `mcb${process.pid.toString(36)}`;

cleanupOnSignals();

function machine(): string {
  const kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  return `${cpus()[0]?.model ?? 'cpu'} x${cpus().length}, Linux ${kernel}, Node ${process.version}, host ${hostname()}`;
}

function attachTable(runs: AttachRun[]): { rows: string[][]; ratio: number; ratioTotal: number } {
  const by = (m: AttachRun['method']) => runs.filter((r) => r.method === m);
  const stats = (['library', 'ip -batch'] as const).map((m) => {
    const rs = by(m);
    const samples = rs.flatMap((r) => r.samples);
    const total = sum(rs.map((r) => r.totalMs));
    return { m, samples, cps: (samples.length / total) * 1000, total };
  });
  const [lib, ip] = stats as [(typeof stats)[0], (typeof stats)[0]];
  const ratio = median(lib.samples) / median(ip.samples);
  const ratioTotal = lib.total / ip.total;
  const rows = [
    ['attach (per container)', 'median ms', 'p95 ms', 'mean ms', 'containers/s'],
    ...stats.map((s) => [s.m === 'library' ? 'library (one Node process)' : 'ip: netns add + 2 x ip -batch', ms(median(s.samples)), ms(p95(s.samples)), ms(mean(s.samples)), s.cps.toFixed(0)]),
    ['ratio library / ip', (median(lib.samples) / median(ip.samples)).toFixed(2), (p95(lib.samples) / p95(ip.samples)).toFixed(2), (mean(lib.samples) / mean(ip.samples)).toFixed(2), `x${(lib.cps / ip.cps).toFixed(1)}`],
  ];
  return { rows, ratio, ratioTotal };
}

async function main(): Promise<void> {
  console.log(`mesos-cni bench — ${new Date().toISOString()}\n${machine()}\n`);
  if (process.getuid?.() !== 0) {
    console.log('attach benchmark skipped: needs root (it creates network namespaces)\n');
  } else if (N > 0 && ROUNDS > 0) {
    console.log(`attach: N=${N} containers per run, ${ROUNDS} run(s) per method, alternating; fresh host netns + bridge per run`);
    console.log('  per container: netns add; veth with the peer born in the container, host end master br0 + up;');
    console.log('  in the container: lo up, 10.200.x.y/16 on eth0, eth0 up, default via 10.200.0.1 (br0 holds it)');
    console.log('  library: netns.add/open, 1 link.add on the host handle, 1 four-op request on a container handle');
    console.log('  ip: bash loop of `ip netns add`, `ip -n HOST -batch` (link add), `ip -n CTR -batch` (4 lines)');
    const runs: AttachRun[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const order = r % 2 === 0 ? [runIp, runLibrary] : [runLibrary, runIp];
      for (const fn of order) {
        const res = await fn(`${prefix}${r}${fn === runIp ? 'i' : 'l'}`, N);
        console.log(`  run ${r + 1} ${res.method.padEnd(9)}: ${N} containers in ${ms(res.totalMs)} ms (median ${ms(median(res.samples))} ms)`);
        runs.push(res);
        await sleep(2000); // let the kernel finish tearing down the namespaces deleted above
      }
    }
    const { rows, ratio } = attachTable(runs);
    console.log('\n' + table(rows));
    console.log(`\nratio (library / ip, median per container) = ${ratio.toFixed(2)}: goal <= 1.0 ${ratio <= 1 ? 'met' : 'NOT met'}\n`);
  }
  if (process.getuid?.() === 0 && PLUGIN_N > 0) {
    console.log(`plugins: bridge + host-local ADD then DEL of ${PLUGIN_N} containers, exec'd per call as a runtime does, interleaved`);
    const b = await benchPlugins(`${prefix}p`, PLUGIN_N);
    console.log('\n' + pluginTable(b) + '\n');
  }
  if (process.getuid?.() === 0 && PM_N > 0) {
    console.log(`port mapper: ${PM_N} containers, 2 port mappings each, ADD then DEL, exec'd as Mesos / as libcni runs a conflist, interleaved`);
    // Shared host first: the headline (a real agent's host holds every network's chains).
    for (const layout of ['shared', 'separate'] as const) {
      const pm = await benchPortMapper(`${prefix}m${layout[0]}`, PM_N, layout);
      console.log('\n' + portMapperTable(pm));
      console.log(`\nratio (ours / Go chain, ADD+DEL median per container, ${layout} host) = ${pm.totalRatio.toFixed(2)}: goal <= 0.5 ${pm.totalRatio <= 0.5 ? 'met' : 'NOT met'}\n`);
    }
  }
  if (process.getuid?.() === 0 && PM_SCALE > 0) {
    console.log(`port mapper at scale: ${PM_SCALE} containers on one bridge per side, ADD latency around the 10th and the ${PM_SCALE}th`);
    const sc = await benchPortMapperScale(`${prefix}s`, PM_SCALE);
    console.log('\n' + scaleTable(sc));
    console.log(`\ngrowth ours x${sc.oursGrowth.toFixed(2)} vs Go x${sc.goGrowth.toFixed(2)}: goal ours <= Go ${sc.oursGrowth <= sc.goGrowth ? 'met' : 'NOT met'}; the part we control x${sc.oursControlledGrowth.toFixed(2)}: goal <= 1.25 ${sc.oursControlledGrowth <= 1.25 ? 'met' : 'NOT met'} (port mapper's own share x${sc.portMapGrowth.toFixed(2)})\n`);
  }
  if (process.getuid?.() === 0 && DAEMON_N > 0) {
    console.log(`daemon: port-mapper chain, ${DAEMON_N} containers, ADD+DEL each, sequential then ${8} concurrent runtimes; RSS with ${DAEMON_RSS_N} attached`);
    // Shared host first: the headline, as for the port mapper; the daemon's RSS is read there.
    for (const layout of ['shared', 'separate'] as const) {
      const d = await benchDaemon(`${prefix}d${layout[0]}`, DAEMON_N, layout === 'shared' ? DAEMON_RSS_N : 0, layout);
      console.log('\n' + daemonTable(d));
      const rss = d.rssN > 0 ? `; RSS ${d.rssMb.toFixed(0)} MB: goal <= 100 ${d.rssMb <= 100 ? 'met' : 'NOT met'}` : '';
      console.log(`\n(c)/(a) = ${d.seqRatio.toFixed(2)} (${layout} host): goal <= 0.15 ${d.seqRatio <= 0.15 ? 'met' : 'NOT met'}, issue 17's <= 0.1 ${d.seqRatio <= 0.1 ? 'met' : 'NOT met'}; containers/s x${d.cpsRatio.toFixed(1)}: goal >= 5 ${d.cpsRatio >= 5 ? 'met' : 'NOT met'}${rss}; daemon ADD ${d.daemonIdleAddMs.toFixed(1)} ms with the kernel idle: goal <= 8 ${d.daemonIdleAddMs <= 8 ? 'met' : 'NOT met'} (${d.daemonAddMs.toFixed(1)} ms right after its own DEL)\n`);
    }
  }
  if (process.getuid?.() === 0 && OVERLAY_N > 0) {
    console.log(`overlay master: ${OVERLAY_N} agents registering per store, ${OVERLAY_RECOVER_N} recovered, ${OVERLAY_WATCHERS} watchers; ZooKeeper: 3 members in a namespace`);
    const o = await benchOverlayMaster(OVERLAY_N, OVERLAY_RECOVER_N, OVERLAY_WATCHERS);
    console.log('\n' + overlayTable(o));
    console.log(`\nembedded ${o.regEmbedded.toFixed(0)}/s: goal >= 1000 ${o.regEmbedded >= 1000 ? 'met' : 'NOT met'}; ZooKeeper ${o.regZk.toFixed(0)}/s: goal >= 200 ${o.regZk >= 200 ? 'met' : 'NOT met'}; recovery ${ms(o.recoverEmbeddedMs)} ms: goal <= 1000 ${o.recoverEmbeddedMs <= 1000 ? 'met' : 'NOT met'}; failover ${ms(o.failoverMs)} ms: goal <= 5000 ${o.failoverMs <= 5000 ? 'met' : 'NOT met'}; watch ${ms(o.watchMs)} ms: goal <= 1000 ${o.watchMs <= 1000 ? 'met' : 'NOT met'}\n`);
  }
  if (process.getuid?.() === 0 && AGENT_PEERS > 0) {
    console.log(`overlay agent: ${AGENT_PEERS} peers (daemon start; applied by the agent vs ip -batch + bridge -batch, ${AGENT_ROUNDS} rounds alternating, fresh namespace each), a new agent reaching ${AGENT_WATCHERS} running ones`);
    const a = await benchOverlayAgent(AGENT_PEERS, AGENT_ROUNDS, AGENT_WATCHERS);
    console.log('\n' + agentTable(a));
    const appear = median(a.appearMs);
    console.log(`\nratio (agent apply / ip -batch + bridge -batch, median) = ${a.ratio.toFixed(2)}: goal <= 1.0 ${a.ratio <= 1 ? 'met' : 'NOT met'}; new agent in ${AGENT_WATCHERS} data planes ${ms(appear)} ms: goal <= 1000 ${appear <= 1000 ? 'met' : 'NOT met'}\n`);
  }
  if (STARTUP_RUNS <= 0) return;
  console.log(`start-up: ${STARTUP_RUNS} runs each, interleaved, CNI_COMMAND=VERSION`);
  const { rows, notes } = await measureStartup(STARTUP_RUNS);
  for (const n of notes) console.log(`  note: ${n}`);
  console.log('\n' + table(startupTable(rows)));
  const bundled = rows.filter((r) => r.label.includes('(bundled') && r.overMs !== undefined);
  const worst = Math.max(...bundled.map((r) => r.overMs!));
  console.log(`\nloading overhead of the bundled entries over node -e 0: at most ${ms(worst)} ms: goal < 15 ms ${worst < 15 ? 'met' : 'NOT met'}`);
}

main().catch(async (e: unknown) => {
  if (stopping) return; // a signal stopped the bench (the refusal from addNs): its handler cleans up and exits
  console.error(e);
  await cleanup([...live]);
  process.exit(1);
});
