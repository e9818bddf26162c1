// N-way concurrency: many first ADDs on a fresh port-mapper chain (exactly one jump per family
// must result), ADDs and DELs of the same and of different containers racing (all of an
// attachment or none of it), then everything deleted and the leak check. Both paths.
import type { ExecutionContext } from 'ava';
import { nsExec, uniq } from '../helpers/fixture.js';
import { N, Rng, Tally, type Outcome } from './harness.js';
import { check } from './fuzz.js';
import { container, linksIn, SIDES, World, type Plugin, type Side } from './world.js';

const SLOW_MS = 180_000; // 50 Node processes on two cores: each call may wait long for a CPU

async function natSave(w: World, save: string): Promise<string[]> {
  return (await nsExec(w.host, [save, '-t', 'nat'])).split('\n');
}

/** The port mapper's storm: `n` first ADDs at once on a chain nobody made yet. */
async function storm(t: ExecutionContext, w: World, tally: Tally, side: Side, n: number): Promise<void> {
  const chain = uniq('RS-');
  const conf = JSON.stringify({
    name: 'stnet',
    type: 'mesos-cni-port-mapper',
    chain,
    delegate: {
      cniVersion: '1.0.0',
      type: 'bridge',
      bridge: w.bridge,
      isGateway: true,
      ipMasq: true,
      ipam: { type: 'host-local', ranges: [[{ subnet: '10.92.0.0/24' }], [{ subnet: 'fd92::/64' }]], dataDir: `${w.state}/ipam` },
    },
    args: { 'org.apache.mesos': { network_info: { name: 'stnet', port_mappings: [{ host_port: 30000, container_port: 80 }] } } },
  });
  const ids = Array.from({ length: n }, (_, i) => `${w.token}${side[0]}s${i}`);
  const env = (command: string, i: number) => ({ ...w.env(command, ids[i]!, w.ctrs[0], `st${i}`) });
  tally.add('inputs', n);
  const adds = await Promise.all(ids.map((_, i) => w.call(side, { type: 'mesos-cni-port-mapper', stdin: conf, env: env('ADD', i), timeoutMs: SLOW_MS })));
  for (const [i, o] of adds.entries()) {
    await check(w, tally, side, o, 'ADD', () => ({ storm: side, id: ids[i], conf }));
    if (o.exitCode !== 0) tally.find('bad outputs', `${side} storm ADD ${i} failed: ${o.stdout.slice(0, 300)}`, { conf });
  }
  for (const save of ['iptables-save', 'ip6tables-save']) {
    const lines = await natSave(w, save);
    for (const hook of ['PREROUTING', 'OUTPUT']) {
      const jumps = lines.filter((l) => l.startsWith(`-A ${hook} `) && l.endsWith(`-j ${chain}`)).length;
      if (jumps !== 1) tally.find('bad outputs', `${side}: ${n} concurrent first ADDs left ${jumps} ${hook} jumps to ${chain} (${save})`, { conf, rules: lines.filter((l) => l.includes(chain)) });
    }
    const dnat = lines.filter((l) => l.startsWith(`-A ${chain} `) && l.includes('DNAT')).length;
    if (dnat !== n) tally.find('bad outputs', `${side}: ${dnat} DNAT rules in ${chain} after ${n} ADDs (${save})`, { conf });
  }
  const dels = await Promise.all(ids.map((_, i) => w.call(side, { type: 'mesos-cni-port-mapper', stdin: conf, env: env('DEL', i), timeoutMs: SLOW_MS })));
  for (const [i, o] of dels.entries()) {
    await check(w, tally, side, o, 'DEL', () => ({ storm: side, id: ids[i], conf }));
    if (o.exitCode !== 0) tally.find('bad outputs', `${side} storm DEL ${i} failed: ${o.stdout.slice(0, 300)}`, { conf });
  }
  const leaks = await w.leaks(ids);
  if (leaks.length) {
    tally.find('leaks', `${side} after the storm: ${leaks.slice(0, 5).join('; ')}`, { conf, leaks });
    await w.heal(ids);
  }
  t.log(`${side}: ${n} concurrent first ADDs on ${chain}, then ${n} DELs`);
}

/**
 * ADDs and DELs racing: `k` containers, each gets an ADD and a DEL at once (the same container),
 * all containers at once (different containers); afterwards every attachment is whole or absent
 * (checked for the port mapper: interface, DNAT rule and lease together); then a DEL of each and
 * the leak check.
 */
async function race(t: ExecutionContext, w: World, tally: Tally, side: Side, k: number, round: number): Promise<void> {
  const r = new Rng('race', w.plugin, side, round);
  const base = w.baseConf(r, 'rcnet');
  if (w.plugin === 'mesos-cni-port-mapper') {
    // At least one mapping, so that a whole attachment has a DNAT rule.
    base.args = { 'org.apache.mesos': { network_info: { name: 'rcnet', port_mappings: [{ host_port: 30100 + round, container_port: 80 }] } } };
    delete base.runtimeConfig;
  }
  const conf = JSON.stringify(base);
  const ids = Array.from({ length: k }, (_, i) => `${w.token}${side[0]}r${round}x${i}`);
  // A namespace per container, as a runtime gives them (dcos-l4lb's spartan and minuteman have fixed names).
  const ctrs = await Promise.all(ids.map(() => container(t)));
  const env = (command: string, i: number) => ({ ...w.env(command, ids[i]!, undefined, 'eth0'), CNI_NETNS: ctrs[i]!.path });
  const ops: { i: number; command: string }[] = [];
  for (let i = 0; i < k; i++) {
    ops.push({ i, command: 'ADD' }, { i, command: 'DEL' });
    if (r.chance(0.3)) ops.push({ i, command: 'ADD' });
  }
  tally.add('inputs', ops.length);
  const outs: Outcome[] = await Promise.all(ops.map((op) => w.call(side, { type: w.plugin, stdin: conf, env: env(op.command, op.i), timeoutMs: SLOW_MS })));
  for (const [j, o] of outs.entries()) {
    const op = ops[j]!;
    await check(w, tally, side, o, op.command, () => ({ race: side, round, id: ids[op.i], command: op.command, conf }));
    if (op.command === 'DEL' && o.exitCode !== 0) tally.find('bad outputs', `${side} racing DEL failed: ${o.stdout.slice(0, 300)}`, { conf, id: ids[op.i] });
  }
  if (w.plugin === 'mesos-cni-port-mapper') {
    const nat = (await natSave(w, 'iptables-save')).join('\n');
    const leaseText = await nsExec(w.host, ['sh', '-c', `cat ${w.state}/a/b/c/ipam/rcnet/[0-9]* 2>/dev/null || true`]);
    for (const [i, id] of ids.entries()) {
      const parts = [(await linksIn(ctrs[i]!.name)).includes('eth0'), nat.includes(`container_id: ${id}"`), leaseText.includes(`${id}\r\neth0`)];
      if (!parts.every((x) => x === parts[0])) tally.find('leaks', `${side}: a half attachment after racing ADD/DEL of ${id}: interface ${parts[0]}, DNAT ${parts[1]}, lease ${parts[2]}`, { conf, id });
    }
  }
  const dels = await Promise.all(ids.map((_, i) => w.call(side, { type: w.plugin, stdin: conf, env: env('DEL', i), timeoutMs: SLOW_MS })));
  for (const [i, o] of dels.entries()) {
    await check(w, tally, side, o, 'DEL', () => ({ race: side, round, id: ids[i], conf }));
    if (!(o.exitCode === 0 && o.stdout === '')) tally.find('bad outputs', `${side} DEL after the race failed: ${o.stdout.slice(0, 300)}`, { conf, id: ids[i] });
  }
  const leaks = await w.leaks(ids);
  for (const [i, c] of ctrs.entries()) leaks.push(...(await linksIn(c.name)).map((l) => `link ${l} in container ${ids[i]}`));
  if (leaks.length) {
    tally.find('leaks', `${side} after the race: ${leaks.slice(0, 5).join('; ')}`, { conf, leaks });
    await w.heal(ids);
  }
  for (const c of ctrs) await c.gone();
}

export async function concurrency(t: ExecutionContext, plugin: Plugin): Promise<void> {
  const w = await World.create(t, plugin, { ctrs: 1 });
  const tally = new Tally(`concurrency: ${plugin}`);
  for (const side of SIDES) {
    if (plugin === 'mesos-cni-port-mapper') await storm(t, w, tally, side, Math.max(10, Math.min(50, N)));
    const rounds = Math.max(1, Math.ceil(N / 20));
    for (let round = 0; round < rounds; round++) await race(t, w, tally, side, plugin === 'macvtap' || plugin === 'mesos' ? 4 : 8, round);
  }
  tally.finish(t);
}
