// Tags and checks against real tables: exact-tag deletion, no-op deletes, check(), and the
// renderer's canonical form compared with what both backends' iptables-save print.
import { namespaces, rootTest } from '../../helpers/fixture.js';
import { execInNetns } from '../../../lib/netns/index.js';
import * as iptables from '../../../lib/iptables/index.js';
import type { Family, Rule } from '../../../lib/iptables/index.js';
import { BACKENDS, portMapperAdd, saveText } from './helpers.js';

const CHAIN = 'MESOS-TEST-PORT-MAPPER';

// Serial tests run before the concurrent ones, so the process counters see only this test.
rootTest.serial('deleteByTag with nothing tagged runs no restore; with a match exactly one', async (t) => {
  const [h] = await namespaces(t, 1);
  await iptables.restore(h!.ns, portMapperAdd(CHAIN, 'P', [{ host: 1, ip: '10.0.0.1', port: 1 }]));
  const before = { ...iptables.stats };
  t.deepEqual(await iptables.deleteByTag(h!.ns, 4, 'nat', 'container_id: Q'), []);
  t.is(iptables.stats.restores, before.restores);
  t.is(iptables.stats.saves, before.saves + 1);
  t.is((await iptables.deleteByTag(h!.ns, 4, 'nat', 'container_id: P')).length, 1);
  t.is(iptables.stats.restores, before.restores + 1);
});

for (const backend of BACKENDS) {
  rootTest(`${backend}: deleteByTag removes exactly container_id: P, not P.C or lookalikes`, async (t) => {
    const [h] = await namespaces(t, 1);
    await iptables.restore(h!.ns, portMapperAdd(CHAIN, 'P', [{ host: 8080, ip: '10.0.0.2', port: 80 }, { host: 53, ip: '10.0.0.2', port: 53, proto: 'udp' }]), { backend });
    await iptables.restore(h!.ns, portMapperAdd(CHAIN, 'P.C', [{ host: 8081, ip: '10.0.0.3', port: 80 }]), { backend });
    await iptables.restore(h!.ns, portMapperAdd(CHAIN, 'P ', [{ host: 8082, ip: '10.0.0.4', port: 80 }]), { backend });
    await iptables.restore(h!.ns, portMapperAdd(CHAIN, 'xP', [{ host: 8083, ip: '10.0.0.5', port: 80 }]), { backend });
    // The same tag in another chain is deleted too unless chains narrows it.
    await iptables.restore(h!.ns, {
      table: 'nat',
      ops: [{ op: 'append', rule: { chain: 'POSTROUTING', source: '10.0.0.2', comment: 'container_id: P', target: { kind: 'MASQUERADE' } } }],
    }, { backend });
    const only = await iptables.deleteByTag(h!.ns, 4, 'nat', 'container_id: P', { backend, chains: [CHAIN] });
    t.is(only.length, 2);
    let saved = await iptables.save(h!.ns, 4, 'nat', { backend });
    t.deepEqual(saved.rules.filter((r) => r.chain === CHAIN).map((r) => r.comment), ['container_id: P.C', 'container_id: P ', 'container_id: xP']);
    t.is(saved.rules.filter((r) => r.chain === 'POSTROUTING').length, 1);
    await iptables.deleteByTag(h!.ns, 4, 'nat', 'container_id: P', { backend });
    saved = await iptables.save(h!.ns, 4, 'nat', { backend });
    t.is(saved.rules.filter((r) => r.chain === 'POSTROUTING').length, 0);
    t.is(saved.rules.filter((r) => r.chain === 'PREROUTING').length, 1, 'jumps are untagged and stay');
    // Twice is fine: the second finds nothing.
    t.deepEqual(await iptables.deleteByTag(h!.ns, 4, 'nat', 'container_id: P', { backend }), []);
  });

  rootTest(`${backend}: tags written by other tools with quotes and apostrophes are matched and deleted exactly`, async (t) => {
    const [h] = await namespaces(t, 1);
    const bin = backend === 'nft' ? 'iptables-nft-restore' : 'iptables-legacy-restore';
    // Another tool's comments: iptables-save will print these with backslash escapes.
    const payload = '*filter\n:OTHER - [0:0]\n-A OTHER -m comment --comment "id: \\"x\\"" -j ACCEPT\n-A OTHER -m comment --comment "it\'s" -j ACCEPT\n-A OTHER -m comment --comment "it\'s!" -j ACCEPT\nCOMMIT\n';
    await execInNetns(h!.ns, bin, ['--noflush', '-w', '5'], { stdin: payload });
    const saved = await iptables.save(h!.ns, 4, 'filter', { backend });
    t.deepEqual(saved.rules.map((r) => r.comment), ['id: "x"', "it's", "it's!"]);
    t.is((await iptables.deleteByTag(h!.ns, 4, 'filter', "it's", { backend })).length, 1);
    t.deepEqual((await iptables.save(h!.ns, 4, 'filter', { backend })).rules.map((r) => r.comment), ['id: "x"', "it's!"]);
  });

  for (const family of [4, 6] as Family[]) {
    rootTest(`${backend} IPv${family}: every rule shape renders exactly as iptables-save prints it, so check() is exact`, async (t) => {
      const [h] = await namespaces(t, 1);
      const set = family === 4 ? 'overlay' : 'overlay6';
      await execInNetns(h!.ns, 'ipset', ['create', set, 'hash:net', 'family', family === 4 ? 'inet' : 'inet6']);
      const v4 = family === 4;
      const ip = v4 ? '10.0.0.2' : 'fd00::2';
      const shapes: Rule[] = [
        { chain: 'SH', inInterface: { not: 'mesos-cni0' }, protocol: 'tcp', dport: 8080, comment: 'container_id: abc', target: { kind: 'DNAT', ip, port: 80 } },
        { chain: 'SH', source: v4 ? '10.1.2.3' : 'fd00::3', destination: { not: v4 ? '127.0.0.0/8' : '::1' }, protocol: 'udp', sport: [1000, 2000], dport: { not: 53 }, target: { kind: 'RETURN' } },
        { chain: 'SH', addrType: { dst: 'LOCAL' }, target: { kind: 'jump', chain: 'OWN' } },
        { chain: 'SH', addrType: { src: { not: 'LOCAL' }, dst: 'UNICAST' }, target: { kind: 'goto', chain: 'OWN' } },
        { chain: 'SH', source: v4 ? '10.7.0.9/16' : 'fd00:1::9/64', outInterface: 'eth+', matchSet: { name: set, flags: ['dst'] }, target: { kind: 'MASQUERADE' } },
        { chain: 'SH', matchSet: { not: { name: set, flags: ['src', 'dst'] } }, target: { kind: 'MASQUERADE', random: true } },
        { chain: 'SH', mark: { value: 0x2000, mask: 0x2000 }, target: { kind: 'MARK', value: 0x2000, mask: 0x2000 } },
        { chain: 'SH', mark: { not: { value: 1 } }, target: { kind: 'MARK', value: 0x10 } },
        { chain: 'SH', ctState: ['ESTABLISHED', 'RELATED'], target: { kind: 'ACCEPT' } },
        { chain: 'SH', ctState: { not: ['NEW', 'DNAT'] }, protocol: v4 ? 'icmp' : 'icmpv6', target: { kind: 'RETURN' } },
        { chain: 'SH', protocol: 'sctp', dport: [5000, 5010], comment: "it's a test", target: { kind: 'DNAT', ip, port: [80, 90] } },
        { chain: 'SH', protocol: { not: 'tcp' }, target: { kind: 'SNAT', ip } },
        { chain: 'SH', protocol: 'udp', comment: 'simple_tag-1', target: { kind: 'SNAT', ip, port: 1024 } },
        { chain: 'SH', protocol: 'tcp', dport: 1, target: { kind: 'DNAT', ip } },
      ];
      await iptables.restore(h!.ns, { family, table: 'nat', own: ['OWN'], shared: [{ name: 'SH' }], ops: shapes.map((rule) => ({ op: 'append', rule })) }, { backend });
      const saved = (await iptables.save(h!.ns, family, 'nat', { backend })).rules.filter((r) => r.chain === 'SH');
      t.is(saved.length, shapes.length);
      shapes.forEach((rule, i) => t.deepEqual(saved[i]!.args, iptables.renderRule(rule, family, 'nat').args, saved[i]!.text));
      t.deepEqual(await iptables.check(h!.ns, family, 'nat', shapes, { backend }), { ok: true, missing: [] });
      const absent: Rule = { chain: 'SH', protocol: 'tcp', dport: 9, target: { kind: 'DNAT', ip } };
      t.deepEqual(await iptables.check(h!.ns, family, 'nat', [shapes[0]!, absent], { backend }), { ok: false, missing: [absent] });
    });
  }

  // Serial: timings taken while other tests spawn iptables in parallel measure the machine, not us.
  rootTest.serial(`${backend}: measured cost of ADD-like and DEL-by-tag transactions`, async (t) => {
    const [h] = await namespaces(t, 1);
    const n = 20;
    await iptables.restore(h!.ns, portMapperAdd(CHAIN, 'warm', [{ host: 1, ip: '10.0.0.1', port: 1 }]), { backend });
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      await iptables.restore(h!.ns, portMapperAdd(CHAIN, `m${i}`, [{ host: 3000 + i, ip: '10.0.2.1', port: 80 }, { host: 4000 + i, ip: '10.0.2.1', port: 81 }]), { backend });
    }
    const t1 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) t.is((await iptables.deleteByTag(h!.ns, 4, 'nat', `container_id: m${i}`, { backend })).length, 2);
    const t2 = process.hrtime.bigint();
    const add = Number(t1 - t0) / 1e6 / n;
    const del = Number(t2 - t1) / 1e6 / n;
    t.log(`${backend}: ADD (one restore: 2 DNAT rules into an existing shared chain) ${add.toFixed(2)} ms; DEL by tag (save + restore of 2 -D) ${del.toFixed(2)} ms`);
    t.deepEqual((await iptables.save(h!.ns, 4, 'nat', { backend })).rules.filter((r) => r.chain === CHAIN).map((r) => r.comment), ['container_id: warm']);
    t.true(add < 1000 && del < 1000);
    t.is((await saveText(h!.ns, 4, 'nat', backend)).split('\n').filter((l) => l.startsWith('-A PREROUTING')).length, 1);
  });
}
