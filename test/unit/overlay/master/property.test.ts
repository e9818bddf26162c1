// Property test: random sequences of registrations, re-registrations, deletions, restarts and
// config changes (small pools, so exhaustion happens) checked against a brute-force model: never a
// duplicate VTEP IP, MAC, VTEP IPv6 or subnet; every new allocation the lowest free one; a restart
// always recovers. The seed is printed; OVERLAY_PROP_SEED=<seed> replays a run.
import test from 'ava';
import { Allocation, AllocationError } from '../../../../lib/overlay/master/allocate.js';
import { parseNetwork } from '../../../../lib/overlay/master/config.js';
import { bytesToBig } from '../../../../lib/overlay/master/net.js';
import { parsePrefix } from '../../../../lib/ip.js';
import type { StoredAgent } from '../../../../lib/overlay/master/types.js';
import { agentCfg, restart } from '../../../helpers/overlay/master.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let x = s;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const num = (cidr: string) => bytesToBig(parsePrefix(cidr, 'x').bytes);

interface Knobs {
  v6: boolean;
  extra: boolean;
  enabled: boolean;
}

function config(k: Knobs) {
  const overlays: Record<string, unknown>[] = [
    { name: 'a', subnet: '10.0.0.0/24', prefix: 27, subnet6: 'fd00::/120', prefix6: 123 },
    { name: 'b', subnet: '10.1.0.0/26', prefix: 28, enabled: k.enabled },
  ];
  if (k.extra) overlays.push({ name: 'c', subnet6: 'fd01::/124', prefix6: 126 });
  return parseNetwork({ vtep_subnet: '44.0.0.0/28', vtep_mac_oui: '70:B3:D5:00:00:00', overlays, ...(k.v6 && { vtep_subnet6: 'fd09::/124' }) });
}

/** The lowest number in [lo, hi] (stepping by `step`) not in `used`. */
function lowestFree(lo: bigint, hi: bigint, step: bigint, used: Set<bigint>): bigint | undefined {
  for (let x = lo; x <= hi; x += step) if (!used.has(x)) return x;
  return undefined;
}

function checkUnique(t: import('ava').ExecutionContext, agents: StoredAgent[]): void {
  const seen = new Set<string>();
  const once = (k: string) => {
    if (seen.has(k)) t.fail(`duplicate ${k}`);
    seen.add(k);
  };
  for (const a of agents) {
    once(`vtep ${a.backend.vxlan.vtep_ip}`);
    once(`mac ${a.backend.vxlan.vtep_mac}`);
    if (a.backend.vxlan.vtep_ip6) once(`vtep6 ${a.backend.vxlan.vtep_ip6}`);
    for (const o of a.overlays) {
      if (o.subnet) once(`subnet ${o.subnet}`);
      if (o.subnet6) once(`subnet6 ${o.subnet6}`);
    }
  }
}

test('random registrations, deletions, restarts and config changes: unique and lowest free', (t) => {
  const seed = Number(process.env.OVERLAY_PROP_SEED ?? Math.floor(Math.random() * 2 ** 31));
  t.log(`seed ${seed} (OVERLAY_PROP_SEED=${seed} replays it)`);
  const r = rng(seed);
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)]!;
  const ips = Array.from({ length: 24 }, (_, i) => `10.9.0.${i + 1}`);
  let knobs: Knobs = { v6: false, extra: false, enabled: true };
  let a = Allocation.empty(config(knobs));
  let checks = 0;
  for (let step = 0; step < 3000; step++) {
    const roll = r();
    if (roll < 0.6) {
      const ip = pick(ips);
      const cfg = agentCfg({ allocate_subnet: r() < 0.9, mesos_bridge: r() < 0.5, docker_bridge: r() < 0.5 });
      const others = [...a.agents.values()].filter((x) => x.ip !== ip);
      const known = a.agents.get(ip);
      const usedVtep = new Set(others.map((x) => num(x.backend.vxlan.vtep_ip)));
      const expectVtep = lowestFree(num('44.0.0.1'), num('44.0.0.14'), 1n, usedVtep);
      let res;
      try {
        res = a.register(ip, cfg);
      } catch (e) {
        t.true(e instanceof AllocationError);
        if (!known) t.is(expectVtep, undefined, `step ${step}: exhaustion reported with ${expectVtep} free`);
        continue;
      }
      if (!known) t.is<bigint | undefined, bigint | undefined>(num(res.agent.backend.vxlan.vtep_ip), expectVtep, `step ${step}: lowest free VTEP`);
      // Every overlay the agent did not hold before got the lowest block free among the others'
      // (overlays are added in config order, so earlier overlays of this agent count as used).
      for (const o of res.agent.overlays) {
        if (known?.overlays.some((k) => k.info.name === o.info.name)) continue;
        const spec = a.net.overlays.find((s) => s.name === o.info.name)!;
        if (o.subnet && spec.net) {
          const used = new Set(others.flatMap((x) => x.overlays.filter((y) => y.info.name === o.info.name && y.subnet).map((y) => num(y.subnet!))));
          const size = 1n << BigInt(32 - spec.prefix!);
          t.is<bigint | undefined, bigint | undefined>(num(o.subnet), lowestFree(spec.net.base, spec.net.base + (1n << BigInt(32 - spec.net.prefix)) - size, size, used), `step ${step}: lowest free subnet of ${o.info.name}`);
          checks++;
        }
      }
    } else if (roll < 0.75) {
      a.remove(ips.filter(() => r() < 0.15));
    } else if (roll < 0.85) {
      a = restart(a);
    } else if (roll < 0.92) {
      // Config changes upstream allows across a restart: add IPv6 VTEPs, add an overlay, toggle one.
      const next = { ...knobs };
      const which = r();
      if (which < 0.33) next.v6 = true;
      else if (which < 0.66) next.extra = true;
      else next.enabled = !knobs.enabled;
      knobs = next;
      a = restart(a, config(knobs));
    } else {
      // A batch as the state machine runs one: on a copy, kept or dropped whole.
      const copy = a.clone();
      for (let i = 0; i < 4; i++) {
        try {
          copy.register(pick(ips), agentCfg());
        } catch {
          /* exhaustion */
        }
      }
      if (r() < 0.5) a = copy;
    }
    checkUnique(t, [...a.agents.values()]);
    // The served value always recovers cleanly (what a restart would read).
    t.notThrows(() => Allocation.recover(a.net, JSON.parse(JSON.stringify([...a.agents.values()]))));
  }
  t.true(checks > 500, `only ${checks} subnet allocations checked`);
});
