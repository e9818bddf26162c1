// The fuzzer: for input i of a plugin, a valid config and environment from a PRNG seeded by
// (seed, plugin, i), 0-4 mutations of config and environment, a call sequence (ADD, CHECK, DEL…
// or one other command), run on both paths from the same state, every answer judged, the two
// paths compared byte for byte (masked), then a final DEL of every container used and the leak check.
import type { ExecutionContext } from 'ava';
import { judge, mask, N, ONLY, Rng, Tally, type Outcome } from './harness.js';
import { BAD_VERSIONS, brokenStdin, get, hostileString, INJECTIONS, paths, randomCniArgs, randomValue, set, show, wrongType, junkObject, type Json, type Path } from './mutate.js';
import { hostilePath, MAX_ID, SIDES, World, type Plugin, type Side } from './world.js';

interface Step {
  command: string;
  env: Record<string, string | undefined>;
  /** CHECK: the config gets this side's ADD result as prevResult. */
  withPrev?: boolean;
  /** GC: the config lists this attachment as valid. */
  keep?: boolean;
  /** This DEL must succeed even if ADD failed (its input was refused for what it is, or nothing was attached). */
  strict?: boolean;
}

export interface Input {
  plugin: Plugin;
  index: number;
  stdin: string;
  steps: Step[];
  mutations: string[];
  /** The attachment the final DEL removes. */
  id: string;
  ifname: string;
  cniArgs?: string;
  /** A plugin type in the config was changed: a DEL with it may fail (the plugin it names cannot run). */
  configBroken: boolean;
  /** The environment lacks something the final DEL cannot repair (an empty ID or interface name). */
  finalBroken: boolean;
}

const JUNK_COMMANDS = ['add', 'FOO', '', 'ADD ', 'DEL\n', 'VERSION;ADD', '💥', 'x'.repeat(5000)];
// (Not the reference `ptp`, nor the reference plugins first in CNI_PATH with a type mutated: a
// reference plugin whose IPAM is itself execs itself without end, a fork bomb we cannot bound.)
const PLUGIN_TYPES = ['bridge', 'host-local', 'static', 'dhcp', 'mesos-cni-port-mapper', 'mesos', 'nonexistent', '../bridge', 'BRIDGE', '', 'host-local\n'];

/** Paths whose removal or a default-meaning value would make a plugin use the machine's own directories. */
function isProtected(p: Path): boolean {
  const last = p[p.length - 1];
  const top = show(p);
  return last === 'dataDir' || last === 'resolvConf' || top === 'spartan' || top === 'minuteman' || top === 'minuteman.path' || top === 'spartan.enable' || top === 'minuteman.enable';
}

function protectedValue(w: World, r: Rng, p: Path): Json {
  const top = show(p);
  if (top === 'spartan' || top === 'minuteman') return false; // disabled: no default path is used
  if (top.endsWith('enable')) return r.pick([false, 'yes', 0, []]);
  return hostilePath(w, r);
}

/** A traversal aimed at the world's escape dir, from any dataDir under the state dir. */
const traversal = (w: World) => `${'../'.repeat(24)}${w.escape.slice(1)}/x`;

export function generate(w: World, index: number): Input {
  const r = new Rng('fuzz', w.plugin, index);
  const conf = w.baseConf(r, 'fznet') as Json;
  const mutations: string[] = [];
  let id = `${w.token}-${index}`;
  let ifname = 'eth0';
  let cniArgs: string | undefined;
  let stdin: string | undefined;
  let configBroken = false;
  const env = w.env('ADD', id);
  let envBroken = false;
  let commandMissing = false;
  let main = 'ADD';
  // Where the config names plugins: a change there (by any mutation) may make a DEL fail legitimately.
  const typePaths = paths(conf).filter((q) => q.length > 1 && q[q.length - 1] === 'type');
  const typesBefore = typePaths.map((q) => JSON.stringify(get(conf, q)));
  const k = r.pick([0, 1, 1, 2, 2, 3, 4]);
  for (let m = 0; m < k; m++) {
    const all = paths(conf);
    const op = r.int(0, 15);
    const p = r.pick(all.length ? all : [['x']]);
    if (op <= 7 && isProtected(p)) {
      const v = protectedValue(w, r, p);
      set(conf, p, v);
      mutations.push(`${show(p)} = ${JSON.stringify(v)} (a hostile path)`);
      continue;
    }
    switch (op) {
      case 0:
      case 1: {
        const v = hostileString(r);
        set(conf, p, v);
        mutations.push(`${show(p)} = hostile string ${JSON.stringify(v.slice(0, 80))}${v.length > 80 ? `… (${v.length} chars)` : ''}`);
        break;
      }
      case 2: {
        const v = wrongType(r, get(conf, p) ?? null);
        set(conf, p, v);
        mutations.push(`${show(p)} = wrong type ${JSON.stringify(v).slice(0, 120)}`);
        break;
      }
      case 3:
        set(conf, p, undefined);
        mutations.push(`${show(p)} removed`);
        break;
      case 4: {
        const objs = [[], ...all].filter((q) => {
          const v = q.length ? get(conf, q) : conf;
          return v && typeof v === 'object' && !Array.isArray(v);
        });
        const at = r.pick(objs);
        const key = r.pick(['junk', 'prevResult', 'runtimeConfig', 'args', 'capabilities', 'cni.dev/valid-attachments', hostileString(r).slice(0, 40)]);
        if (isProtected([...at, key])) break;
        const v = r.chance(0.5) ? junkObject(r, 3) : randomValue(r, 3);
        set(conf, [...at, key], v);
        mutations.push(`${show([...at, key])} added: ${JSON.stringify(v).slice(0, 120)}`);
        break;
      }
      case 5: {
        const strs = all.filter((q) => typeof get(conf, q) === 'string' && !isProtected(q));
        if (!strs.length) break;
        const q = r.pick(strs);
        const v = r.pick(INJECTIONS);
        set(conf, q, v);
        mutations.push(`${show(q)} = injection ${JSON.stringify(v)}`);
        break;
      }
      case 6: {
        const v = r.chance(0.5) ? r.pick(BAD_VERSIONS) : r.pick(['0.1.0', '0.3.1', '1.1.0']);
        set(conf, ['cniVersion'], v);
        mutations.push(`cniVersion = ${JSON.stringify(v).slice(0, 60)}`);
        break;
      }
      case 7: {
        const types = all.filter((q) => q[q.length - 1] === 'type' && q.length > 1);
        if (!types.length) break;
        const q = r.pick(types);
        const v = r.pick(PLUGIN_TYPES);
        set(conf, q, v);
        configBroken = true;
        mutations.push(`${show(q)} = plugin ${JSON.stringify(v)}`);
        break;
      }
      case 8: {
        const v = r.pick([traversal(w), '..', '.', 'a/b', '../fznet']);
        set(conf, ['name'], v);
        mutations.push(`name = traversal ${JSON.stringify(v)}`);
        break;
      }
      case 9: {
        id = r.pick([
          (id + '-').padEnd(MAX_ID, r.pick(['a', 'Z', '9', '.', '_'])),
          (id + '-').padEnd(MAX_ID + 1, 'x'),
          (id + '-').padEnd(5000, 'y'),
          `${id}%d`,
          `${id}/../../x`,
          `../${id}`,
          `-${id}`,
          `.${id}`,
          `${id} x`,
          `${id}\nx`,
          `${id}"x`,
          `${id}ü`,
          '',
          `${id}${hostileString(r).replace(/\u0000/g, '').slice(0, 100)}`,
        ]);
        env.CNI_CONTAINERID = id;
        mutations.push(`CNI_CONTAINERID = ${JSON.stringify(id.slice(0, 120))} (${id.length} chars)`);
        break;
      }
      case 10: {
        ifname = r.pick(['e'.repeat(15), 'e'.repeat(16), 'eth%d', '%d', 'a/b', 'a:b', 'a b', '.', '..', '', 'lo', 'ü', 'eth0\n', 'x'.repeat(300), 'spartan', 'minuteman', '-eth0', 'all', 'default']);
        env.CNI_IFNAME = ifname;
        mutations.push(`CNI_IFNAME = ${JSON.stringify(ifname)}`);
        break;
      }
      case 11: {
        const h = w.hostile;
        const v = r.pick([h.fifo, h.dir, h.file, h.symlinkToFifo, h.missing, h.ownByName, '/proc/self/ns/net', '/proc/self/ns/mnt', '/proc/thread-self/ns/net', '/dev/null', 'relative/ns', '', `${w.ctrs[0]!.path}/`, `${w.ctrs[0]!.path}\n`]);
        env.CNI_NETNS = v;
        envBroken = true;
        mutations.push(`CNI_NETNS = ${JSON.stringify(v)}`);
        break;
      }
      case 12: {
        const v = r.pick(['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_PATH', 'CNI_COMMAND']);
        env[v] = undefined;
        commandMissing ||= v === 'CNI_COMMAND';
        envBroken = true;
        mutations.push(`${v} missing`);
        break;
      }
      case 13:
        cniArgs = randomCniArgs(r);
        env.CNI_ARGS = cniArgs;
        mutations.push(`CNI_ARGS = ${JSON.stringify(cniArgs.slice(0, 120))}`);
        break;
      case 14: {
        const v = r.pick(['', ':::', '/nonexistent', 'relative', `${'/x'.repeat(3000)}`, '<BIN>', '/usr/lib/cni', `/usr/lib/cni:<BIN>`]);
        env.CNI_PATH = v;
        envBroken = true;
        mutations.push(`CNI_PATH = ${JSON.stringify(v.slice(0, 80))}`);
        break;
      }
      default: {
        if (r.chance(0.5)) {
          main = r.pick(JUNK_COMMANDS);
          envBroken = true;
          mutations.push(`CNI_COMMAND = ${JSON.stringify(main.slice(0, 40))}`);
        } else {
          const b = brokenStdin(r, JSON.stringify(conf));
          stdin = b.stdin;
          mutations.push(`stdin: ${b.what}`);
        }
      }
    }
  }
  if (r.chance(0.25) && main === 'ADD') {
    main = r.pick(['DEL', 'CHECK', 'VERSION', 'STATUS', 'GC']);
    mutations.push(`command ${main}`);
  }
  configBroken ||= typePaths.some((q, i) => JSON.stringify(get(conf, q)) !== typesBefore[i]);
  if (configBroken && !(env.CNI_PATH ?? '<BIN>').startsWith('<BIN>')) {
    env.CNI_PATH = w.env('ADD', id).CNI_PATH;
    mutations.push('CNI_PATH restored (a mutated type with the reference plugins first could recurse without end)');
  }
  // An empty CNI_CONTAINERID or CNI_IFNAME is a missing one: the call is broken, not its input.
  if (id === '' || ifname === '') envBroken = true;
  const text = stdin ?? JSON.stringify(conf);
  const strict = !envBroken && !configBroken;
  const steps: Step[] = [];
  const step = (command: string, extra: Partial<Step> = {}, envExtra: Record<string, string | undefined> = {}) =>
    steps.push({ command, env: { ...env, CNI_COMMAND: commandMissing ? undefined : command, ...envExtra }, ...extra });
  if (main === 'ADD') {
    step('ADD');
    if (r.chance(0.35)) step('CHECK', { withPrev: true });
    if (r.chance(0.1)) step('ADD');
    if (r.chance(0.1)) step('GC', { keep: true });
    step('DEL', { strict });
    if (r.chance(0.3)) step('DEL', { strict }, { CNI_NETNS: undefined });
  } else {
    step(main, { strict: main === 'DEL' && strict });
  }
  return { plugin: w.plugin, index, stdin: text, steps, mutations, id, ifname, cniArgs, configBroken, finalBroken: id === '' || ifname === '' };
}

/** The step's stdin: the config, with prevResult or the valid attachments when the step asks. */
function stdinFor(inp: Input, s: Step, added: string | undefined): string {
  if (!s.withPrev && !s.keep) return inp.stdin;
  let c: unknown;
  try {
    c = JSON.parse(inp.stdin);
  } catch {
    return inp.stdin;
  }
  if (!c || typeof c !== 'object' || Array.isArray(c)) return inp.stdin;
  const o = { ...(c as Record<string, unknown>) };
  try {
    if (s.withPrev && added) o.prevResult = JSON.parse(added);
    if (s.keep) o['cni.dev/valid-attachments'] = [{ containerID: inp.id, ifname: inp.ifname }];
    return JSON.stringify(o);
  } catch {
    return inp.stdin; // nested deeper than JSON.stringify can go: sent as it is
  }
}

const brief = (o: Outcome) => ({ exit: o.exitCode, ms: o.ms, stdout: o.stdout.slice(0, 2000), stderr: o.stderr.slice(-2000) });

/** Judge one answer (and, on the daemon side, that the daemon served it and lives); true if fine. */
export async function check(w: World, tally: Tally, side: Side, o: Outcome, command: string | undefined, replay: () => unknown): Promise<boolean> {
  tally.add('calls');
  let fine = true;
  const v = judge(o, command);
  if (v.verdict !== 'ok') {
    tally.find(v.verdict === 'crash' ? 'crashes' : v.verdict === 'hang' ? 'hangs' : 'bad outputs', `${side} ${command}: ${v.why}`, { ...(replay() as object), answer: brief(o) });
    fine = false;
  }
  if (side === 'daemon') {
    const d = await w.daemonProblems(o);
    if (d.crash) tally.find('crashes', `daemon ${command}: ${d.crash}`, { ...(replay() as object), answer: brief(o) });
    if (d.hang) tally.find('hangs', `daemon ${command}: ${d.hang}`, replay());
    if (d.bad) tally.find('bad outputs', `daemon ${command}: ${d.bad}`, replay());
    fine &&= !d.crash && !d.hang && !d.bad;
  }
  return fine;
}

/** Run one input on both paths; count and record what went wrong. */
export async function runInput(w: World, inp: Input, tally: Tally): Promise<void> {
  tally.add('inputs');
  const trails: Record<Side, string[]> = { standalone: [], daemon: [] };
  let comparable = true;
  for (const side of SIDES) {
    await w.wipe();
    let added: string | undefined;
    let addedOk = false;
    for (const [i, s] of inp.steps.entries()) {
      const o = await w.call(side, { type: inp.plugin, stdin: stdinFor(inp, s, added), env: s.env });
      const replay = () => ({ plugin: inp.plugin, index: inp.index, side, step: i, steps: inp.steps.map((x) => x.command), command: s.command, env: s.env, mutations: inp.mutations, stdin: inp.stdin.slice(0, 3000) });
      comparable = (await check(w, tally, side, o, s.env.CNI_COMMAND, replay)) && comparable;
      // An ADD step sent without CNI_COMMAND is no ADD: the plugin prints its "about" text and
      // exits 0 (libcni's skel), having attached nothing the final DEL must be able to remove.
      if (s.command === 'ADD' && s.env.CNI_COMMAND === 'ADD' && o.exitCode === 0) {
        added = o.stdout;
        addedOk = true;
      }
      if (s.command === 'DEL' && (s.strict || addedOk) && !(o.exitCode === 0 && o.stdout === '')) {
        tally.find('bad outputs', `${side} DEL after ${addedOk ? 'a successful ADD' : 'refused input'} failed: ${o.stdout.slice(0, 300)}`, replay());
      }
      trails[side].push(`${s.command} → ${o.exitCode} ${mask(o.stdout, w.sidePaths(side))}`);
    }
    // The final DEL of the container: the same config, the environment repaired.
    const final = await w.call(side, { type: inp.plugin, stdin: inp.stdin, env: { ...w.env('DEL', inp.id, w.ctrs[0], inp.ifname), CNI_ARGS: inp.cniArgs } });
    const replay = () => ({ plugin: inp.plugin, index: inp.index, side, step: 'final DEL', mutations: inp.mutations, stdin: inp.stdin.slice(0, 3000) });
    await check(w, tally, side, final, 'DEL', replay);
    const mustDel = (!inp.configBroken && !inp.finalBroken) || addedOk;
    if (mustDel && !(final.exitCode === 0 && final.stdout === '')) tally.find('bad outputs', `${side} final DEL failed: ${final.stdout.slice(0, 300)}`, replay());
    let leaks = await w.leaks([inp.id, `${w.token}-${inp.index}`]);
    // After a DEL that could not succeed (and did not), the container's lock file stays by design.
    if (!mustDel && final.exitCode !== 0) {
      leaks = leaks.filter((l) => !l.startsWith('container lock '));
      await w.dropLocks([inp.id, `${w.token}-${inp.index}`]); // the suite leaves nothing behind either
    }
    if (leaks.length) {
      tally.find('leaks', `${side}: ${leaks.slice(0, 5).join('; ')}`, { ...replay(), leaks, steps: inp.steps.map((x) => x.command) });
      await w.heal([inp.id, `${w.token}-${inp.index}`]);
    }
  }
  if (comparable && trails.standalone.join('\n') !== trails.daemon.join('\n')) {
    tally.find('path mismatches', `input ${inp.index}: the two paths answered differently`, {
      plugin: inp.plugin,
      index: inp.index,
      mutations: inp.mutations,
      stdin: inp.stdin.slice(0, 3000),
      standalone: trails.standalone.map((s) => s.slice(0, 1500)),
      daemon: trails.daemon.map((s) => s.slice(0, 1500)),
    });
  }
}

/** The fuzz test of one plugin: N inputs (or the one RELIABILITY_INPUT names), both paths each. */
export async function fuzzPlugin(t: ExecutionContext, plugin: Plugin): Promise<void> {
  const w = await World.create(t, plugin);
  const tally = new Tally(`fuzz: ${plugin}`);
  for (let i = 0; i < N; i++) {
    if (ONLY >= 0 && i !== ONLY) continue;
    const inp = generate(w, i);
    try {
      await runInput(w, inp, tally);
    } catch (e) {
      // The suite's own failure on this input: recorded with the input (it fails the test), and the run goes on.
      tally.find('bad outputs', `suite error on input ${i}: ${(e as Error).stack ?? String(e)}`.slice(0, 1500), { plugin, index: i, mutations: inp.mutations, stdin: inp.stdin.slice(0, 3000) });
      await w.heal([inp.id, `${w.token}-${i}`]).catch(() => undefined);
    }
  }
  tally.finish(t);
}
