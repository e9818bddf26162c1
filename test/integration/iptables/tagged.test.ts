// Rules found by tag against real tables (lib/iptables/tagged.ts): exact-tag reads and removals on
// both paths (legacy: iptables -S and a restore; nft: nf_tables netlink), no-op removals, the exact
// path from known rules, missing(), and the renderer's canonical form against iptables-save.
import type { ExecutionContext } from 'ava';
import { namespaces, rootTest, type TestNs } from '../../helpers/fixture.js';
import { execInNetns } from '../../../lib/netns/index.js';
import * as iptables from '../../../lib/iptables/index.js';
import type { Family, Rule } from '../../../lib/iptables/index.js';
import { BACKENDS, portMapperAdd, ruleShapes, saveText } from './helpers.js';

const CHAIN = 'MESOS-TEST-PORT-MAPPER';

// Serial tests run before the concurrent ones, so the process counters see only this test.
rootTest.serial('legacy: removeTagged with nothing tagged reads the chain once and runs no restore', async (t) => {
  const [h] = await namespaces(t, 1);
  const backend = 'legacy';
  await iptables.restore(h!.ns, portMapperAdd(CHAIN, 'P', [{ host: 1, ip: '10.0.0.1', port: 1 }]), { backend });
  const before = { ...iptables.stats };
  t.is(await iptables.removeTagged(h!.ns, 4, 'nat', { chains: [CHAIN], tag: 'container_id: Q' }, { backend }), 0);
  t.is(iptables.stats.restores, before.restores);
  t.is(iptables.stats.lists, before.lists + 1);
});

rootTest.serial('legacy: removeTagged with a match runs exactly one restore', async (t) => {
  const [h] = await namespaces(t, 1);
  const backend = 'legacy';
  await iptables.restore(h!.ns, portMapperAdd(CHAIN, 'P', [{ host: 1, ip: '10.0.0.1', port: 1 }]), { backend });
  const before = { ...iptables.stats };
  t.is(await iptables.removeTagged(h!.ns, 4, 'nat', { chains: [CHAIN], tag: 'container_id: P' }, { backend }), 1);
  t.is(iptables.stats.restores, before.restores + 1);
});

/** A legacy nat table with one port-mapper rule tagged K, and that rule as the caller knows it. */
async function knownK(t: ExecutionContext): Promise<{ h: TestNs; rules: Rule[] }> {
  const [h] = await namespaces(t, 1);
  const tx = portMapperAdd(CHAIN, 'K', [{ host: 7, ip: '10.0.0.7', port: 7 }]);
  await iptables.restore(h!.ns, tx, { backend: 'legacy' });
  const rules = tx.ops.flatMap((o) => ('rule' in o && o.rule.comment === 'container_id: K' ? [o.rule as Rule] : []));
  return { h: h!, rules };
}
const removeKnownK = (h: TestNs, rules: Rule[]) =>
  iptables.removeTagged(h.ns, 4, 'nat', { chains: [CHAIN], tag: 'container_id: K', known: async () => rules }, { backend: 'legacy' });

rootTest.serial('legacy: known rules are deleted exactly without reading', async (t) => {
  const { h, rules } = await knownK(t);
  const before = { ...iptables.stats };
  t.is(await removeKnownK(h, rules), 1);
  t.is(iptables.stats.lists, before.lists, 'nothing read');
  t.is(iptables.stats.restores, before.restores + 1);
});

rootTest.serial('legacy: when the known rules are not all there, the chain is read', async (t) => {
  const { h, rules } = await knownK(t);
  await removeKnownK(h, rules);
  // Gone already: the exact delete fails, the chain is read, nothing is left to do.
  const before = { ...iptables.stats };
  t.is(await removeKnownK(h, rules), 0);
  t.is(iptables.stats.lists, before.lists + 1);
});

for (const backend of BACKENDS) {
  /** Port-mapper rules tagged G and G.C in CHAIN, and a MASQUERADE tagged G in POSTROUTING. */
  const taggedG = async (t: ExecutionContext): Promise<TestNs> => {
    const [h] = await namespaces(t, 1);
    await iptables.restore(h!.ns, portMapperAdd(CHAIN, 'G', [{ host: 9, ip: '10.0.0.9', port: 9 }]), { backend });
    await iptables.restore(h!.ns, portMapperAdd(CHAIN, 'G.C', [{ host: 10, ip: '10.0.0.9', port: 10 }]), { backend });
    await iptables.restore(h!.ns, { table: 'nat', ops: [{ op: 'append', rule: { chain: 'POSTROUTING', source: '10.0.0.9', comment: 'container_id: G', target: { kind: 'MASQUERADE' } } }] }, { backend });
    return h!;
  };

  rootTest(`${backend}: readTagged reads exactly the tag from each chain`, async (t) => {
    const h = await taggedG(t);
    const both = await iptables.readTagged(h.ns, 4, 'nat', [CHAIN, 'POSTROUTING'], 'container_id: G', { backend, gatedByFirst: true });
    t.deepEqual(both.map((r) => r.chain), [CHAIN, 'POSTROUTING']);
  });

  rootTest(`${backend}: gatedByFirst skips the other chains when the first has none`, async (t) => {
    const h = await taggedG(t);
    t.deepEqual(await iptables.readTagged(h.ns, 4, 'nat', ['NO-SUCH', 'POSTROUTING'], 'container_id: G', { backend, gatedByFirst: true }), []);
    t.is((await iptables.readTagged(h.ns, 4, 'nat', ['NO-SUCH', 'POSTROUTING'], 'container_id: G', { backend })).length, 1);
  });

  /** Port-mapper rules tagged P (two), P.C, "P " and xP in CHAIN, and a MASQUERADE tagged P in POSTROUTING. */
  const taggedPAndLookalikes = async (t: ExecutionContext): Promise<TestNs> => {
    const [h] = await namespaces(t, 1);
    await iptables.restore(h!.ns, portMapperAdd(CHAIN, 'P', [{ host: 8080, ip: '10.0.0.2', port: 80 }, { host: 53, ip: '10.0.0.2', port: 53, proto: 'udp' }]), { backend });
    await iptables.restore(h!.ns, portMapperAdd(CHAIN, 'P.C', [{ host: 8081, ip: '10.0.0.3', port: 80 }]), { backend });
    await iptables.restore(h!.ns, portMapperAdd(CHAIN, 'P ', [{ host: 8082, ip: '10.0.0.4', port: 80 }]), { backend });
    await iptables.restore(h!.ns, portMapperAdd(CHAIN, 'xP', [{ host: 8083, ip: '10.0.0.5', port: 80 }]), { backend });
    await iptables.restore(h!.ns, {
      table: 'nat',
      ops: [{ op: 'append', rule: { chain: 'POSTROUTING', source: '10.0.0.2', comment: 'container_id: P', target: { kind: 'MASQUERADE' } } }],
    }, { backend });
    return h!;
  };
  const removeP = (h: TestNs, chains: string[]) => iptables.removeTagged(h.ns, 4, 'nat', { chains, tag: 'container_id: P' }, { backend });

  rootTest(`${backend}: removeTagged removes exactly container_id: P, not P.C or lookalikes`, async (t) => {
    const h = await taggedPAndLookalikes(t);
    t.is(await removeP(h, [CHAIN]), 2);
    const saved = await iptables.save(h.ns, 4, 'nat', { backend });
    t.deepEqual(saved.rules.filter((r) => r.chain === CHAIN).map((r) => r.comment), ['container_id: P.C', 'container_id: P ', 'container_id: xP']);
  });

  rootTest(`${backend}: removeTagged removes the tag only from the chains it is given`, async (t) => {
    const h = await taggedPAndLookalikes(t);
    // The same tag in another chain is deleted too unless chains narrows it.
    await removeP(h, [CHAIN]);
    let saved = await iptables.save(h.ns, 4, 'nat', { backend });
    t.is(saved.rules.filter((r) => r.chain === 'POSTROUTING').length, 1);
    await removeP(h, [CHAIN, 'POSTROUTING']);
    saved = await iptables.save(h.ns, 4, 'nat', { backend });
    t.is(saved.rules.filter((r) => r.chain === 'POSTROUTING').length, 0);
  });

  rootTest(`${backend}: removeTagged leaves the untagged jumps`, async (t) => {
    const h = await taggedPAndLookalikes(t);
    await removeP(h, [CHAIN, 'POSTROUTING']);
    const saved = await iptables.save(h.ns, 4, 'nat', { backend });
    t.is(saved.rules.filter((r) => r.chain === 'PREROUTING').length, 1, 'jumps are untagged and stay');
  });

  rootTest(`${backend}: removeTagged twice is fine: the second finds nothing`, async (t) => {
    const h = await taggedPAndLookalikes(t);
    await removeP(h, [CHAIN, 'POSTROUTING']);
    t.is(await removeP(h, [CHAIN, 'POSTROUTING']), 0);
  });

  rootTest(`${backend}: tags written by other tools with quotes and apostrophes are matched and deleted exactly`, async (t) => {
    const [h] = await namespaces(t, 1);
    const bin = backend === 'nft' ? 'iptables-nft-restore' : 'iptables-legacy-restore';
    // Another tool's comments: iptables-save will print these with backslash escapes.
    const payload = '*filter\n:OTHER - [0:0]\n-A OTHER -m comment --comment "id: \\"x\\"" -j ACCEPT\n-A OTHER -m comment --comment "it\'s" -j ACCEPT\n-A OTHER -m comment --comment "it\'s!" -j ACCEPT\nCOMMIT\n';
    await execInNetns(h!.ns, bin, ['--noflush', '-w', '5'], { stdin: payload });
    const saved = await iptables.save(h!.ns, 4, 'filter', { backend });
    t.deepEqual(saved.rules.map((r) => r.comment), ['id: "x"', "it's", "it's!"]);
    t.is(await iptables.removeTagged(h!.ns, 4, 'filter', { chains: ['OTHER'], tag: "it's" }, { backend }), 1);
    t.deepEqual((await iptables.save(h!.ns, 4, 'filter', { backend })).rules.map((r) => r.comment), ['id: "x"', "it's!"]);
  });

  for (const family of [4, 6] as Family[]) {
    const v4 = family === 4;
    /** Every rule shape the renderer knows, appended to the shared chain SH (an ipset and chain OWN to refer to). */
    const withShapes = async (t: ExecutionContext): Promise<{ h: TestNs; shapes: Rule[] }> => {
      const [h] = await namespaces(t, 1);
      const set = v4 ? 'overlay' : 'overlay6';
      await execInNetns(h!.ns, 'ipset', ['create', set, 'hash:net', 'family', v4 ? 'inet' : 'inet6']);
      const shapes = ruleShapes(family, set);
      await iptables.restore(h!.ns, { family, table: 'nat', own: ['OWN'], shared: [{ name: 'SH' }], ops: shapes.map((rule) => ({ op: 'append', rule })) }, { backend });
      return { h: h!, shapes };
    };

    rootTest(`${backend} IPv${family}: every rule shape renders exactly as iptables-save prints it`, async (t) => {
      const { h, shapes } = await withShapes(t);
      const saved = (await iptables.save(h.ns, family, 'nat', { backend })).rules.filter((r) => r.chain === 'SH');
      t.is(saved.length, shapes.length);
      shapes.forEach((rule, i) => t.deepEqual(saved[i]!.args, iptables.renderRule(rule, family, 'nat').args, saved[i]!.text));
    });

    rootTest(`${backend} IPv${family}: missing() is exact for every rule shape`, async (t) => {
      const { h, shapes } = await withShapes(t);
      t.deepEqual(await iptables.missing(h.ns, family, 'nat', shapes, { backend }), []);
      const absent: Rule = { chain: 'SH', protocol: 'tcp', dport: 9, target: { kind: 'DNAT', ip: v4 ? '10.0.0.2' : 'fd00::2' } };
      t.deepEqual(await iptables.missing(h.ns, family, 'nat', [shapes[0]!, absent], { backend }), [absent]);
    });
  }

  // Serial: timings taken while other tests spawn iptables in parallel measure the machine, not us.
  rootTest.serial(`${backend}: measured cost of ADD-like transactions and removals by tag`, async (t) => {
    const [h] = await namespaces(t, 1);
    const n = 20;
    await iptables.restore(h!.ns, portMapperAdd(CHAIN, 'warm', [{ host: 1, ip: '10.0.0.1', port: 1 }]), { backend });
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      await iptables.restore(h!.ns, portMapperAdd(CHAIN, `m${i}`, [{ host: 3000 + i, ip: '10.0.2.1', port: 80 }, { host: 4000 + i, ip: '10.0.2.1', port: 81 }]), { backend });
    }
    const t1 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) t.is(await iptables.removeTagged(h!.ns, 4, 'nat', { chains: [CHAIN], tag: `container_id: m${i}` }, { backend }), 2);
    const t2 = process.hrtime.bigint();
    const add = Number(t1 - t0) / 1e6 / n;
    const del = Number(t2 - t1) / 1e6 / n;
    t.log(`${backend}: ADD (one restore: 2 DNAT rules into an existing shared chain) ${add.toFixed(2)} ms; DEL by tag ${del.toFixed(2)} ms`);
    t.deepEqual((await iptables.save(h!.ns, 4, 'nat', { backend })).rules.filter((r) => r.chain === CHAIN).map((r) => r.comment), ['container_id: warm']);
    t.true(add < 1000 && del < 1000);
    t.is((await saveText(h!.ns, 4, 'nat', backend)).split('\n').filter((l) => l.startsWith('-A PREROUTING')).length, 1);
  });
}
