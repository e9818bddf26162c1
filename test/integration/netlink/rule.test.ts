// Policy-routing rules on a real kernel, IPv4 and IPv6, checked against `ip -j rule`.
import type { ExecutionContext } from 'ava';
import { ipJson, namespaces, rootTest, type TestNs } from '../../helpers/fixture.js';
import { NetlinkError, SpecError, undoErrorsOf } from '../../../lib/native/index.js';
import type { Rule } from '../../../lib/netlink/index.js';

interface IpRule {
  priority: number;
  src: string;
  srclen?: number;
  dst?: string;
  dstlen?: number;
  iif?: string;
  oif?: string;
  fwmark?: string;
  fwmask?: string;
  table?: string;
  action?: string;
}

const TABLE_NAMES: Record<string, number> = { local: 255, main: 254, default: 253 };

/** `ip rule` in the shape of our decoded rules, for comparison. */
async function oracle(ns: TestNs, family: 4 | 6): Promise<object[]> {
  return (await ipJson<IpRule[]>(ns, [`-${family}`, 'rule', 'show'])).map((r) => ({
    priority: r.priority,
    from: r.src === 'all' ? undefined : `${r.src}/${r.srclen ?? (family === 4 ? 32 : 128)}`,
    to: r.dst === undefined ? undefined : `${r.dst}/${r.dstlen ?? (family === 4 ? 32 : 128)}`,
    iif: r.iif,
    oif: r.oif,
    fwmark: r.fwmark === undefined ? undefined : Number(r.fwmark),
    action: r.action ?? 'table',
    table: r.table === undefined ? 0 : (TABLE_NAMES[r.table] ?? Number(r.table)),
  }));
}
const shape = (rs: Rule[]) =>
  rs.map((r) => ({ priority: r.priority, from: r.from, to: r.to, iif: r.iif, oif: r.oif, fwmark: r.fwmark, action: r.action, table: r.table }));

/** A namespace with IPv4 rules (every selector at 100, blackhole at 200) and IPv6 rules (from at 100, prohibit at 150). */
async function withRules(t: ExecutionContext): Promise<TestNs> {
  const [ns] = await namespaces(t, 1);
  await ns!.nl.request([
    { op: 'rule.add', spec: { from: '10.0.0.0/24', to: '10.1.0.0/16', iif: 'va', oif: 'vb', fwmark: 42, fwmask: 0xff, table: 1000, priority: 100 } },
    { op: 'rule.add', spec: { action: 'blackhole', priority: 200 } },
    { op: 'rule.add', spec: { from: 'fd00::/64', table: 300, priority: 100 } },
    { op: 'rule.add', spec: { family: 6, action: 'prohibit', priority: 150 } },
  ]);
  return ns!;
}

rootTest('IPv4 and IPv6 rules with every selector are listed as added, as ip rule shows them', async (t) => {
  const ns = await withRules(t);
  const v4 = await ns.nl.rule.list({ family: 4 });
  const v6 = await ns.nl.rule.list({ family: 6 });
  t.deepEqual(shape(v4), await oracle(ns, 4));
  t.deepEqual(shape(v6), await oracle(ns, 6));
  t.like(v4.find((r) => r.priority === 100), { family: 4, from: '10.0.0.0/24', to: '10.1.0.0/16', fwmark: 42, fwmask: 255, table: 1000, action: 'table' });
  t.like(v6.find((r) => r.priority === 150), { family: 6, action: 'prohibit' });
});

rootTest('rule.list filters by family and by table', async (t) => {
  const ns = await withRules(t);
  const v4 = await ns.nl.rule.list({ family: 4 });
  const v6 = await ns.nl.rule.list({ family: 6 });
  t.is((await ns.nl.rule.list()).length, v4.length + v6.length, 'no family: both');
  t.deepEqual((await ns.nl.rule.list({ table: 'main' })).map((r) => r.family), [4, 6]);
  t.deepEqual((await ns.nl.rule.list({ table: 1000 })).map((r) => r.priority), [100]);
});

rootTest('the same rule at the same priority is EEXIST', async (t) => {
  const [ns] = await namespaces(t, 1);
  const spec = { from: '10.0.0.0/24', table: 1000, priority: 100 };
  await ns!.nl.rule.add(spec);
  const e = await t.throwsAsync(ns!.nl.rule.add(spec), { instanceOf: NetlinkError });
  t.is(e!.code, 'EEXIST');
  t.is(e!.message, 'add rule priority 100 from 10.0.0.0/24 lookup 1000: File exists');
});

rootTest('the same rule without a priority is added again at a priority the kernel picks', async (t) => {
  const [ns] = await namespaces(t, 1);
  await ns!.nl.rule.add({ from: '10.5.0.0/24', table: 1001 });
  await ns!.nl.rule.add({ from: '10.5.0.0/24', table: 1001 });
  const dup = (await ns!.nl.rule.list({ table: 1001 })).map((r) => r.priority);
  t.is(dup.length, 2);
  t.not(dup[0], dup[1]);
});

/** A namespace with rules from 10.0.0.0/24 and fd00::/64 (table 1000, priority 100) and fwmark 7 (table 2000, priority 101). */
async function withRulesToDelete(t: ExecutionContext): Promise<TestNs> {
  const [ns] = await namespaces(t, 1);
  await ns!.nl.rule.add({ from: '10.0.0.0/24', table: 1000, priority: 100 });
  await ns!.nl.rule.add({ from: 'fd00::/64', table: 1000, priority: 100 });
  await ns!.nl.rule.add({ fwmark: 7, table: 2000, priority: 101 });
  return ns!;
}

rootTest('rule.del narrows by the given fields', async (t) => {
  const ns = await withRulesToDelete(t);
  await ns.nl.rule.del({ from: '10.0.0.0/24', table: 1000, priority: 100 });
  await ns.nl.rule.del({ family: 6, priority: 100 });
  t.deepEqual((await ns.nl.rule.list({ table: 1000 })).length, 0);
  await ns.nl.rule.del({ table: 2000 });
  t.deepEqual(shape(await ns.nl.rule.list({ family: 4 })), await oracle(ns, 4));
  t.deepEqual((await ns.nl.rule.list({ family: 4 })).map((r) => r.priority), [0, 32766, 32767], 'only the defaults remain');
});

rootTest('rule.del twice is fine', async (t) => {
  const ns = await withRulesToDelete(t);
  for (let i = 0; i < 2; i++) {
    await ns.nl.rule.del({ from: '10.0.0.0/24', table: 1000, priority: 100 });
    await ns.nl.rule.del({ family: 6, priority: 100 });
  }
  t.deepEqual((await ns.nl.rule.list({ table: 1000 })).length, 0);
});

rootTest('rule.del with an empty selector is refused', async (t) => {
  const [ns] = await namespaces(t, 1);
  const e = await t.throwsAsync(ns!.nl.rule.del({}), { instanceOf: SpecError });
  t.regex(e!.message, /^rule: a delete needs at least one of priority/);
});

rootTest('bad specs fail before the kernel, naming the field', async (t) => {
  const [ns] = await namespaces(t, 1);
  const cases: [object, RegExp][] = [
    [{ from: '10.0.0.0/24' }, /^rule\.table: required for a lookup rule/],
    [{ action: 'blackhole', table: 5 }, /^rule\.table: a blackhole rule looks up no table/],
    [{ action: 'jump', table: 5 }, /^rule\.action: expected one of table, blackhole, unreachable, prohibit/],
    [{ from: '10.0.0.0/24', to: 'fd00::/64', table: 5 }, /^rule\.to: fd00::\/64 is IPv6 but the other addresses are IPv4/],
    [{ family: 6, from: '10.0.0.0/24', table: 5 }, /^rule\.from: 10\.0\.0\.0\/24 is IPv4 but the family is IPv6/],
    [{ from: '10.0.0.0/40', table: 5 }, /^rule\.from: expected an address/],
    [{ iif: 'bad name', table: 5 }, /^rule\.iif: expected an interface name/],
    [{ fwmark: -1, table: 5 }, /^rule\.fwmark: expected an integer/],
    [{ priority: 1.5, table: 5 }, /^rule\.priority: expected an integer/],
    [{ table: 'mine' }, /^rule\.table: expected main, local, default or a table id/],
  ];
  for (const [spec, re] of cases) {
    const err = await t.throwsAsync(ns!.nl.rule.add(spec as never), { instanceOf: SpecError }, JSON.stringify(spec));
    t.regex(err!.message, re);
  }
  t.is((await ns!.nl.rule.list()).length, 5, 'only the default rules');
});

rootTest('a rolled-back batch that fails at its last op leaves no rule behind', async (t) => {
  const [ns] = await namespaces(t, 1);
  await ns!.nl.rule.add({ from: '10.9.0.0/16', table: 900, priority: 900 });
  const before = [...(await oracle(ns!, 4)), ...(await oracle(ns!, 6))];
  const e = await t.throwsAsync(
    ns!.nl.request(
      [
        { op: 'rule.add', spec: { from: '10.0.0.0/24', table: 1000, priority: 100 } },
        { op: 'rule.add', spec: { from: 'fd00::/64', table: 1000, priority: 100 } },
        { op: 'rule.add', spec: { action: 'unreachable', priority: 300 } },
        { op: 'rule.add', spec: { from: '10.9.0.0/16', table: 900, priority: 900 } },
      ],
      { rollback: true },
    ),
    { instanceOf: NetlinkError },
  );
  t.is(e!.code, 'EEXIST');
  t.deepEqual(undoErrorsOf(e), []);
  t.deepEqual([...(await oracle(ns!, 4)), ...(await oracle(ns!, 6))], before);
});
