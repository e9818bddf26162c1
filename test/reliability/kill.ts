// kill -9 at random points of ADD: the plugin process (standalone) or the daemon serving it, after a
// delay spread over the ADD's measured duration; then a DEL (with the namespace, or without it once
// the container is gone, as after a reboot) and the leak check. Also several ADDs killed at once.
import { setTimeout as sleep } from 'node:timers/promises';
import type { ExecutionContext } from 'ava';
import { uniq } from '../helpers/fixture.js';
import { judge, N, Rng, Tally, type Outcome } from './harness.js';
import { check } from './fuzz.js';
import { container, linksIn, SIDES, World, type Container, type Plugin, type Side } from './world.js';

interface Round {
  id: string;
  ctr: Container;
  conf: string;
  delay: number;
  withNetns: boolean;
}

const envFor = (w: World, command: string, r: Round, netns = true) => ({ ...w.env(command, r.id), CNI_NETNS: netns ? r.ctr.path : undefined });

/** How the killed ADDs ended, per side: killed before answering, answered 11 (daemon gone), or finished. */
const endings: Record<string, number> = {};

/** The ADD's answer after a kill: none (the plugin was killed), or one document (the launcher's). */
async function afterKill(w: World, tally: Tally, side: Side, o: Outcome, replay: () => unknown): Promise<void> {
  tally.add('calls');
  const ending = o.exitCode === 137 ? 'killed' : o.exitCode === 0 ? 'finished first' : /"code":11/.test(o.stdout) ? 'code 11' : `exit ${o.exitCode}`;
  endings[`${side} ${ending}`] = (endings[`${side} ${ending}`] ?? 0) + 1;
  if (side === 'standalone') {
    // Killed: exit 137 and whatever it printed so far; if it finished first, the usual rules.
    if (o.exitCode === 137 || o.hung) return;
    const v = judge(o, 'ADD');
    if (v.verdict !== 'ok') tally.find(v.verdict === 'crash' ? 'crashes' : v.verdict === 'hang' ? 'hangs' : 'bad outputs', `standalone ADD finished before the kill: ${v.why}`, replay());
    return;
  }
  // The launcher outlives the daemon: code 11, the completed result, or its own fallback run.
  const v = judge(o, 'ADD');
  if (v.verdict !== 'ok') tally.find(v.verdict === 'crash' ? 'crashes' : v.verdict === 'hang' ? 'hangs' : 'bad outputs', `launcher ADD with its daemon killed: ${v.why}`, { ...(replay() as object), stdout: o.stdout, stderr: o.stderr.slice(-1500) });
}

/** DEL then the leak check, for each round. */
async function delAndCheck(w: World, tally: Tally, side: Side, rounds: Round[], replay: (r: Round) => unknown): Promise<void> {
  await Promise.all(
    rounds.map(async (r) => {
      if (!r.withNetns) await r.ctr.gone();
      const o = await w.call(side, { type: w.plugin, stdin: r.conf, env: envFor(w, 'DEL', r, r.withNetns) });
      await check(w, tally, side, o, 'DEL', () => replay(r));
      if (!(o.exitCode === 0 && o.stdout === '')) tally.find('bad outputs', `${side} DEL after a kill failed: ${o.stdout.slice(0, 300)}`, replay(r));
    }),
  );
  const leaks = await w.leaks(rounds.map((r) => r.id));
  for (const r of rounds) if (r.withNetns) leaks.push(...(await linksIn(r.ctr.name)).map((l) => `link ${l} in container ${r.id}`));
  if (leaks.length) {
    tally.find('leaks', `${side}: ${leaks.slice(0, 5).join('; ')}`, { rounds: rounds.map(replay), leaks });
    await w.heal(rounds.map((r) => r.id));
  }
  for (const r of rounds) await r.ctr.gone();
}

export async function killPlugin(t: ExecutionContext, plugin: Plugin): Promise<void> {
  const w = await World.create(t, plugin, { ctrs: 1 });
  const tally = new Tally(`kill -9: ${plugin}`);
  const rounds = Math.max(3, Math.ceil(N / 4));
  for (const side of SIDES) {
    // How long an ADD takes here: the kills spread over 0 … 1.2× that.
    const probe = new Rng('kill-probe', plugin);
    const cal: Round = { id: uniq(`${w.token}c`), ctr: await container(t), conf: JSON.stringify(w.baseConf(probe, 'kinet')), delay: 0, withNetns: true };
    const add = await w.call(side, { type: plugin, stdin: cal.conf, env: envFor(w, 'ADD', cal) });
    await check(w, tally, side, add, 'ADD', () => ({ calibration: cal.conf }));
    if (add.exitCode !== 0) tally.find('bad outputs', `${side}: the valid ADD failed: ${add.stdout.slice(0, 300)}`, { conf: cal.conf });
    await delAndCheck(w, tally, side, [cal], () => ({ calibration: cal.conf }));
    const span = Math.max(20, Math.round(add.ms * 1.2));

    const one = async (i: number, concurrent: boolean): Promise<Round> => {
      const r = new Rng('kill', plugin, side, i, concurrent ? 'c' : 's');
      return { id: uniq(`${w.token}k`), ctr: await container(t), conf: JSON.stringify(w.baseConf(r, 'kinet')), delay: r.int(0, span), withNetns: r.chance(0.5) };
    };
    const replay = (r: Round) => ({ plugin, side, id: r.id, delayMs: r.delay, spanMs: span, delWithNetns: r.withNetns, conf: r.conf });
    const killAfter = async (r: Round): Promise<Outcome> => {
      const run = w.start(side, { type: plugin, stdin: r.conf, env: envFor(w, 'ADD', r) });
      await sleep(r.delay);
      if (side === 'standalone') run.kill();
      else w.daemon.child.kill('SIGKILL');
      return run.done;
    };
    // One at a time.
    for (let i = 0; i < rounds; i++) {
      const r = await one(i, false);
      tally.add('inputs');
      const o = await killAfter(r);
      await afterKill(w, tally, side, o, () => replay(r));
      if (side === 'daemon') await w.restartDaemon();
      await delAndCheck(w, tally, side, [r], replay);
    }
    // Several at once, each killed at its own moment (through the daemon: one kill takes all).
    const batch = await Promise.all(Array.from({ length: 4 }, (_, i) => one(i, true)));
    tally.add('inputs', batch.length);
    if (side === 'standalone') {
      const outs = await Promise.all(batch.map(killAfter));
      for (const [i, o] of outs.entries()) await afterKill(w, tally, side, o, () => replay(batch[i]!));
    } else {
      const runs = batch.map((r) => w.start(side, { type: plugin, stdin: r.conf, env: envFor(w, 'ADD', r) }));
      await sleep(batch[0]!.delay);
      w.daemon.child.kill('SIGKILL');
      const outs = await Promise.all(runs.map((x) => x.done));
      for (const [i, o] of outs.entries()) await afterKill(w, tally, side, o, () => replay(batch[i]!));
      await w.restartDaemon();
    }
    await delAndCheck(w, tally, side, batch, replay);
  }
  t.log(`${plugin}: how the killed ADDs ended: ${JSON.stringify(endings)}`);
  for (const k of Object.keys(endings)) delete endings[k];
  tally.finish(t);
}
