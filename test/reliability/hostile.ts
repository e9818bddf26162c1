// Hostile hosts, for every plugin and both paths: CNI_NETNS a FIFO (or a symlink to one, a
// directory, a file), host-local's lease lock held by another process, the chain-creation lock
// held (port mapper; a lock path of our own, never /run/mesos-cni's), a dataDir that cannot be
// created, stdout that cannot be written (/dev/full), stdin that cannot be read. Every call
// answers within its bound with one document; a DEL then succeeds and nothing is left.
import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ExecutionContext } from 'ava';
import { uniq } from '../helpers/fixture.js';
import { tempDir } from '../helpers/daemon.js';
import { BOUNDED_WAITS, judge, mask, Rng, STACK_TRACE, Tally, type Outcome } from './harness.js';
import { check } from './fuzz.js';
import { SIDES, World, type Plugin, type Side } from './world.js';
import type { Json } from './mutate.js';

/** Hold an flock on `path` from another process until released (or the test ends). */
async function holdLock(t: ExecutionContext, path: string): Promise<() => void> {
  await mkdir(dirname(path), { recursive: true });
  const child = spawn('flock', [path, 'sleep', '120'], { stdio: 'ignore' });
  const release = () => void child.kill('SIGKILL');
  t.teardown(release);
  await sleep(200);
  return release;
}

/** Set every `dataDir` in the config (the IPAM's, the plugin's) to `dir`. */
function withDataDirs(c: Json, dir: string): Json {
  if (Array.isArray(c)) return c.map((x) => withDataDirs(x, dir));
  if (c && typeof c === 'object') return Object.fromEntries(Object.entries(c).map(([k, v]) => [k, k === 'dataDir' || k === 'path' ? dir : withDataDirs(v, dir)]));
  return c;
}

interface Case {
  what: string;
  /** Prepare the host (and return how to undo it); the call's config and environment changes. */
  prepare?: (w: World) => Promise<(() => void) | void>;
  conf?: (w: World, c: Json) => Json;
  env?: (w: World) => Record<string, string | undefined>;
  redirect?: string;
  command?: string;
  /** What the answer must be beyond the one-document rule. */
  expect: (o: Outcome) => string | undefined;
  /** Longest the call may take (ms). */
  boundMs: number;
  only?: Plugin[];
}

const LOCK_MS = Number(BOUNDED_WAITS.MESOS_CNI_LOCK_TIMEOUT_MS);
const failsWith = (codes: number[]) => (o: Outcome) => {
  if (o.exitCode !== 1) return `exit ${o.exitCode}, expected a refusal`;
  const code = (JSON.parse(o.stdout) as { code: number }).code;
  return codes.includes(code) ? undefined : `code ${code}, expected ${codes.join(' or ')}`;
};
const NETNS_USERS: Plugin[] = ['bridge', 'mesos-cni-port-mapper', 'dcos-l4lb', 'mesos', 'macvtap'];

function cases(): Case[] {
  const netns = (what: string, pick: (w: World) => string): Case => ({
    what: `CNI_NETNS ${what}`,
    env: (w) => ({ CNI_NETNS: pick(w) }),
    // 8: the plugin's own namespace (the Go skel's code); 4: not a namespace at all.
    expect: failsWith([4, 8, 101, 102]),
    boundMs: 5000,
    only: NETNS_USERS,
  });
  return [
    netns('a FIFO', (w) => w.hostile.fifo),
    netns('a symlink to a FIFO', (w) => w.hostile.symlinkToFifo),
    netns('a directory', (w) => w.hostile.dir),
    netns('a regular file', (w) => w.hostile.file),
    netns("the host's own namespace", (w) => w.hostile.ownByName),
    {
      what: "host-local's lease lock held by another process",
      prepare: (w) => holdLock(w.t, join(w.state, 'a', 'b', 'c', 'ipam', 'hsnet', 'lock')),
      expect: failsWith([11, 102]),
      boundMs: LOCK_MS + 4000,
    },
    {
      what: 'a dataDir under a regular file',
      conf: (w, c) => withDataDirs(c, join(w.hostile.file, 'x')),
      expect: (o) => (o.exitCode === 1 ? undefined : `exit ${o.exitCode}, expected a refusal`),
      boundMs: 5000,
    },
    {
      what: 'a dataDir in sysfs',
      conf: (_w, c) => withDataDirs(c, '/sys/fs/mcni-rel'),
      expect: (o) => (o.exitCode === 1 ? undefined : `exit ${o.exitCode}, expected a refusal`),
      boundMs: 5000,
    },
    {
      what: 'a dataDir in procfs',
      conf: (_w, c) => withDataDirs(c, '/proc/self/mcni-rel'),
      expect: (o) => (o.exitCode === 1 ? undefined : `exit ${o.exitCode}, expected a refusal`),
      boundMs: 5000,
    },
    {
      what: 'stdout /dev/full',
      redirect: '> /dev/full',
      expect: (o) => (o.exitCode === 1 && !STACK_TRACE.test(o.stderr) ? undefined : `exit ${o.exitCode}, stderr ${o.stderr.slice(-300)}`),
      boundMs: 5000,
    },
    {
      what: 'stdout /dev/full, VERSION',
      redirect: '> /dev/full',
      command: 'VERSION',
      expect: (o) => (o.exitCode === 1 && !STACK_TRACE.test(o.stderr) ? undefined : `exit ${o.exitCode}, stderr ${o.stderr.slice(-300)}`),
      boundMs: 5000,
    },
    {
      what: 'stdin a directory (unreadable)',
      redirect: '< /',
      expect: failsWith([5, 100]),
      boundMs: 5000,
    },
  ];
}

export async function hostile(t: ExecutionContext, plugin: Plugin): Promise<void> {
  const tally = new Tally(`hostile hosts: ${plugin}`);
  const w = await World.create(t, plugin, { ctrs: 1 });
  for (const c of cases()) {
    if (c.only && !c.only.includes(plugin)) continue;
    await bothSides(w, tally, c);
  }
  if (plugin === 'mesos-cni-port-mapper') {
    // The chain-creation lock, held elsewhere: a lock path of our own, in both the plugin's and the daemon's environment.
    const lock = join(await tempDir(t, 'mcni-rel-lock-'), 'create.lock');
    const lw = await World.create(t, plugin, { ctrs: 1, daemonEnv: { MESOS_CNI_IPTABLES_CREATE_LOCK: lock } });
    {
      await bothSides(lw, tally, {
        what: 'the iptables chain-creation lock held by another process',
        prepare: (x) => holdLock(x.t, lock),
        conf: (_x, cf) => ({ ...(cf as Record<string, Json>), chain: uniq('RH-'), args: { 'org.apache.mesos': { network_info: { name: 'hsnet', port_mappings: [{ host_port: 31000, container_port: 80 }] } } } }),
        env: () => ({ MESOS_CNI_IPTABLES_CREATE_LOCK: lock }),
        expect: failsWith([11]),
        boundMs: LOCK_MS + 4000,
      });
    }
  }
  tally.finish(t);
}

/** The case on each path; their answers must be the same, byte for byte (masked). */
async function bothSides(w: World, tally: Tally, c: Case): Promise<void> {
  const answers: string[] = [];
  for (const side of SIDES) {
    const o = await runCase(w, tally, side, c);
    if (o.hung) return;
    answers.push(`${o.exitCode} ${mask(o.stdout, w.sidePaths(side))}`);
  }
  if (answers[0] !== answers[1]) tally.find('path mismatches', `${c.what}: standalone ${answers[0]!.slice(0, 300)} / daemon ${answers[1]!.slice(0, 300)}`, { plugin: w.plugin, case: c.what });
}

async function runCase(w: World, tally: Tally, side: Side, c: Case): Promise<Outcome> {
  tally.add('inputs');
  await w.wipe();
  const id = uniq(`${w.token}h`);
  const base = w.baseConf(new Rng('hostile', w.plugin), 'hsnet');
  const conf = JSON.stringify(c.conf ? c.conf(w, base) : base);
  const command = c.command ?? 'ADD';
  const env = { ...w.env(command, id), ...c.env?.(w) };
  const replay = () => ({ plugin: w.plugin, side, case: c.what, env, conf });
  const undo = await c.prepare?.(w);
  let o: Outcome;
  try {
    o = await w.call(side, { type: w.plugin, stdin: conf, env, redirect: c.redirect, timeoutMs: c.boundMs + 20_000 });
  } finally {
    if (undo) undo();
  }
  if (c.redirect?.startsWith('>')) {
    // Nothing can be on stdout: the one-document rule is checked on what the plugin says instead.
    tally.add('calls');
    if (o.hung) tally.find('hangs', `${side} ${c.what}: no answer`, replay());
    else if (o.exitCode !== 0 && o.exitCode !== 1) tally.find('crashes', `${side} ${c.what}: exit ${o.exitCode}`, { ...replay(), stderr: o.stderr.slice(-1500) });
    if (side === 'daemon') await w.daemonProblems(undefined);
  } else if (await check(w, tally, side, o, command, replay)) {
    if (judge(o, command).verdict === 'ok' && o.ms > c.boundMs) tally.find('hangs', `${side} ${c.what}: took ${o.ms} ms (bound ${c.boundMs})`, replay());
  }
  const why = o.hung ? undefined : c.expect(o);
  if (why) tally.find('bad outputs', `${side} ${c.what}: ${why}`, { ...replay(), stdout: o.stdout.slice(0, 500) });
  // Then the runtime's DEL, and nothing may be left.
  const del = await w.call(side, { type: w.plugin, stdin: conf, env: { ...env, CNI_COMMAND: 'DEL', CNI_NETNS: w.ctrs[0]!.path } });
  await check(w, tally, side, del, 'DEL', replay);
  if (!(del.exitCode === 0 && del.stdout === '')) tally.find('bad outputs', `${side} DEL after "${c.what}" failed: ${del.stdout.slice(0, 300)}`, replay());
  const leaks = await w.leaks([id]);
  if (leaks.length) {
    tally.find('leaks', `${side} ${c.what}: ${leaks.slice(0, 5).join('; ')}`, { ...replay(), leaks });
    await w.heal([id]);
  }
  return o;
}
