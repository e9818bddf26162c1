// One-transaction restores in test namespaces: atomic landing, all-or-nothing failure, the
// --noflush declaration pitfall, IPv6, and the shared-chain creation race.
import type { ExecutionContext } from 'ava';
import { namespaces, rootTest, type TestNs } from '../../helpers/fixture.js';
import { execInNetns } from '../../../lib/netns/index.js';
import { SpecError } from '../../../lib/native/index.js';
import * as iptables from '../../../lib/iptables/index.js';
import { runRestore } from '../../../lib/iptables/restore.js';
import { BACKENDS, portMapperAdd, saveText } from './helpers.js';

const CHAIN = 'MESOS-TEST-PORT-MAPPER';

for (const backend of BACKENDS) {
  rootTest(`${backend}: a new chain, its jumps and DNAT rules land in one transaction`, async (t) => {
    const [h] = await namespaces(t, 1);
    const r = await iptables.restore(h!.ns, portMapperAdd(CHAIN, 'c1', [{ host: 8080, ip: '192.168.0.2', port: 80 }, { host: 8443, ip: '192.168.0.2', port: 443 }]), { backend });
    t.deepEqual(r.created, [CHAIN]);
    t.is(r.attempts, 2, 'an optimistic try without -N, then the creating one');
    const text = await saveText(h!.ns, 4, 'nat', backend);
    t.true(text.includes(`-A PREROUTING -m addrtype --dst-type LOCAL -j ${CHAIN}`));
    t.true(text.includes(`-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j ${CHAIN}`));
    t.true(text.includes(`-A ${CHAIN} ! -i mesos-cni0 -p tcp -m tcp --dport 8080 -m comment --comment "container_id: c1" -j DNAT --to-destination 192.168.0.2:80`));
  });

  rootTest(`${backend}: a second container's rules go into the existing chain in one exec, without -N or a second pair of jumps`, async (t) => {
    const [h] = await namespaces(t, 1);
    await iptables.restore(h!.ns, portMapperAdd(CHAIN, 'c1', [{ host: 8080, ip: '192.168.0.2', port: 80 }, { host: 8443, ip: '192.168.0.2', port: 443 }]), { backend });
    // A second container: the chain exists, so no -N and no second pair of jumps.
    const r2 = await iptables.restore(h!.ns, portMapperAdd(CHAIN, 'c2', [{ host: 9090, ip: '192.168.0.3', port: 80 }]), { backend });
    t.deepEqual(r2.created, []);
    t.is(r2.attempts, 1, 'the chain exists: one exec, no iptables-save');
    t.false(r2.payload.includes('-N '));
    const saved = await iptables.save(h!.ns, 4, 'nat', { backend });
    t.is(saved.rules.filter((x) => x.chain === 'PREROUTING').length, 1);
    t.deepEqual(saved.rules.filter((x) => x.chain === CHAIN).map((x) => x.comment), ['container_id: c1', 'container_id: c1', 'container_id: c2']);
  });

  rootTest(`${backend}: a transaction failing on its last line leaves the table byte-identical`, async (t) => {
    const [h] = await namespaces(t, 1);
    await iptables.restore(h!.ns, portMapperAdd(CHAIN, 'keep', [{ host: 1000, ip: '10.0.0.9', port: 1 }]), { backend });
    await iptables.restore(h!.ns, { table: 'nat', own: ['OWNED'], ops: [{ op: 'append', rule: { chain: 'OWNED', comment: 'owned-rule', target: { kind: 'RETURN' } } }] }, { backend });
    const before = await saveText(h!.ns, 4, 'nat', backend);
    const failing = portMapperAdd('NEW-SHARED', 'c9', [{ host: 7000, ip: '10.0.0.7', port: 70 }]);
    failing.own = ['OWNED']; // its declaration would flush OWNED: must not happen either
    failing.ops.push(
      { op: 'append', rule: { chain: CHAIN, protocol: 'udp', dport: 53, comment: 'container_id: c9', target: { kind: 'DNAT', ip: '10.0.0.7', port: 53 } } },
      { op: 'append', rule: { chain: CHAIN, comment: 'container_id: c9', target: { kind: 'jump', chain: 'NO-SUCH-CHAIN' } } },
    );
    const e = await t.throwsAsync(iptables.restore(h!.ns, failing, { backend }), { instanceOf: iptables.IptablesError });
    // nft: written over netlink, the kernel refuses that rule's message; legacy names the line.
    t.true(e!.message.startsWith(backend === 'nft' ? 'nf_tables (ip nat): ' : 'iptables-legacy-restore (nat): '), e!.message);
    t.regex(e!.message, /NO-SUCH-CHAIN/);
    const err = e as iptables.IptablesError;
    t.true(err.line > 0);
    t.is(err.payload.split('\n')[err.line - 1], '-A MESOS-TEST-PORT-MAPPER -m comment --comment "container_id: c9" -j NO-SUCH-CHAIN');
    t.is(await saveText(h!.ns, 4, 'nat', backend), before);
  });

  /** Port-mapper rules for containers A and B, each in its own transaction into the shared CHAIN. */
  const twoContainers = async (t: ExecutionContext): Promise<TestNs> => {
    const [h] = await namespaces(t, 1);
    await iptables.restore(h!.ns, portMapperAdd(CHAIN, 'A', [{ host: 1001, ip: '10.0.0.1', port: 80 }]), { backend });
    await iptables.restore(h!.ns, portMapperAdd(CHAIN, 'B', [{ host: 1002, ip: '10.0.0.2', port: 80 }]), { backend });
    return h!;
  };

  rootTest(`${backend}: a shared chain keeps its rules across other containers' transactions`, async (t) => {
    const h = await twoContainers(t);
    const saved = await iptables.save(h.ns, 4, 'nat', { backend });
    t.deepEqual(saved.rules.filter((r) => r.chain === CHAIN).map((r) => r.comment), ['container_id: A', 'container_id: B']);
  });

  rootTest(`${backend}: the pitfall: a chain declaration under --noflush flushes the chain`, async (t) => {
    const h = await twoContainers(t);
    // The pitfall itself, shown with a raw payload.
    await runRestore(h.ns, 4, 'nat', `*nat\n:${CHAIN} - [0:0]\nCOMMIT\n`, { backend, waitSeconds: 5, timeoutMs: 30_000 });
    t.deepEqual((await iptables.save(h.ns, 4, 'nat', { backend })).rules.filter((r) => r.chain === CHAIN), []);
  });

  rootTest(`${backend}: the API refuses to declare (own) a chain this process uses as shared`, async (t) => {
    const h = await twoContainers(t);
    // Which is why the API refuses to declare a chain this process uses as shared.
    const e = await t.throwsAsync(iptables.restore(h.ns, { table: 'nat', own: [CHAIN], ops: [] }, { backend }), { instanceOf: SpecError });
    t.is(e!.message, `transaction.own[0]: ${CHAIN} is used as a shared chain in this process; declaring it would flush it (pass it in shared instead)`);
  });

  rootTest(`${backend}: IPv6 transactions go through ip6tables-restore`, async (t) => {
    const [h] = await namespaces(t, 1);
    const r = await iptables.restore(h!.ns, portMapperAdd(CHAIN, 'v6', [{ host: 8080, ip: 'fd00::2', port: 80 }], 6), { backend });
    t.deepEqual(r.created, [CHAIN]);
    const text = await saveText(h!.ns, 6, 'nat', backend);
    t.true(text.includes(`-A OUTPUT ! -d ::1/128 -m addrtype --dst-type LOCAL -j ${CHAIN}`), text);
    t.true(text.includes(`-A ${CHAIN} ! -i mesos-cni0 -p tcp -m tcp --dport 8080 -m comment --comment "container_id: v6" -j DNAT --to-destination [fd00::2]:80`), text);
    // Not in the IPv4 table.
    t.false((await saveText(h!.ns, 4, 'nat', backend)).includes(CHAIN));
  });

  rootTest(`${backend}: removeTagged removes IPv6 rules by tag`, async (t) => {
    const [h] = await namespaces(t, 1);
    await iptables.restore(h!.ns, portMapperAdd(CHAIN, 'v6', [{ host: 8080, ip: 'fd00::2', port: 80 }], 6), { backend });
    t.is(await iptables.removeTagged(h!.ns, 6, 'nat', { chains: [CHAIN], tag: 'container_id: v6' }, { backend }), 1);
    t.false((await saveText(h!.ns, 6, 'nat', backend)).includes('container_id: v6'));
  });

  rootTest(`${backend}: 20 concurrent transactions into one shared chain all land, jumps once`, async (t) => {
    const [h] = await namespaces(t, 1);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => iptables.restore(h!.ns, portMapperAdd(CHAIN, `c${i}`, [{ host: 2000 + i, ip: `10.0.1.${i + 1}`, port: 80 }]), { backend })),
    );
    const saved = await iptables.save(h!.ns, 4, 'nat', { backend });
    const tags = saved.rules.filter((r) => r.chain === CHAIN).map((r) => r.comment).sort();
    t.deepEqual(tags, Array.from({ length: 20 }, (_, i) => `container_id: c${i}`).sort());
    t.is(saved.rules.filter((r) => r.chain === 'PREROUTING').length, 1);
    t.is(saved.rules.filter((r) => r.chain === 'OUTPUT').length, 1);
    t.is(results.filter((r) => r.created.length > 0).length, 1, 'exactly one creator');
    t.is(results.find((r) => r.created.length > 0)!.attempts, 2);
    t.true(results.every((r) => r.attempts >= 1 && r.attempts <= 3));
    const retried = results.filter((r) => r.attempts === 3).length;
    t.log(`${backend}: ${retried} of 20 transactions lost the -N race and were retried`);
  });

  rootTest(`${backend}: concurrent ensureChain calls create the chain once`, async (t) => {
    const [h] = await namespaces(t, 1);
    const made = await Promise.all([1, 2, 3].map(() => iptables.ensureChain(h!.ns, 4, 'filter', 'SHARED-F', { backend })));
    t.is(made.filter(Boolean).length, 1);
  });

  rootTest(`${backend}: ensureChain on an existing chain creates nothing and never flushes it`, async (t) => {
    const [h] = await namespaces(t, 1);
    await iptables.ensureChain(h!.ns, 4, 'filter', 'SHARED-F', { backend });
    await iptables.restore(h!.ns, { table: 'filter', shared: [{ name: 'SHARED-F' }], ops: [{ op: 'append', rule: { chain: 'SHARED-F', comment: 'x', target: { kind: 'ACCEPT' } } }] }, { backend });
    t.false(await iptables.ensureChain(h!.ns, 4, 'filter', 'SHARED-F', { backend }));
    t.is((await iptables.save(h!.ns, 4, 'filter', { backend })).rules.filter((r) => r.chain === 'SHARED-F').length, 1);
  });

  rootTest(`${backend}: restore ensures a shared chain that no op refers to`, async (t) => {
    const [h] = await namespaces(t, 1);
    // An optimistic try could not prove it exists.
    const r = await iptables.restore(h!.ns, { table: 'filter', shared: [{ name: 'UNUSED' }], ops: [{ op: 'append', rule: { chain: 'INPUT', comment: 'y', target: { kind: 'ACCEPT' } } }] }, { backend });
    t.deepEqual(r.created, ['UNUSED']);
    t.true(iptables.hasChain(await iptables.save(h!.ns, 4, 'filter', { backend }), 'UNUSED'));
  });
}

rootTest('the default backend is the distribution alternative', async (t) => {
  const [h] = await namespaces(t, 1);
  await iptables.restore(h!.ns, { table: 'filter', own: ['DEF'], ops: [{ op: 'append', rule: { chain: 'DEF', target: { kind: 'ACCEPT' } } }] });
  const viaDefault = (await execInNetns(h!.ns, 'iptables-save', ['-t', 'filter'])).stdout;
  t.true(viaDefault.includes('-A DEF -j ACCEPT'));
});

rootTest('a restore that fails is a clear error naming the binary, the table and the payload line', async (t) => {
  const [h] = await namespaces(t, 1);
  const e = await t.throwsAsync(iptables.restore(h!.ns, { table: 'raw', ops: [{ op: 'append', rule: { chain: 'NOPE', target: { kind: 'ACCEPT' } } }] }, { backend: 'legacy' }), {
    instanceOf: iptables.IptablesError,
  });
  t.regex(e!.message, /^iptables-legacy-restore \(raw\): .+\[payload line 2: -A NOPE -j ACCEPT\]$/);
});

rootTest('a transaction written over netlink that fails names the table, the op and the payload line', async (t) => {
  const [h] = await namespaces(t, 1);
  const e = await t.throwsAsync(iptables.restore(h!.ns, { table: 'raw', ops: [{ op: 'append', rule: { chain: 'NOPE', target: { kind: 'ACCEPT' } } }] }), {
    instanceOf: iptables.IptablesError,
  });
  t.is(e!.message, 'nf_tables (ip raw): append to chain NOPE: No such file or directory [payload line 2: -A NOPE -j ACCEPT]');
});
