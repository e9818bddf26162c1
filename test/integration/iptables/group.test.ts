// Group commit (lib/iptables/group.ts): concurrent transactions for one namespace share
// iptables-restore processes; a bad one among them fails alone and the others still land. On
// iptables-nft, transactions submitted together share one netlink batch (lib/iptables/nft.ts).
import test from 'ava';
import { namespaces, rootTest } from '../../helpers/fixture.js';
import * as iptables from '../../../lib/iptables/index.js';
import { mergePayloads } from '../../../lib/iptables/group.js';
import { listTagged } from '../../../lib/iptables/nft.js';
import { saveText } from './helpers.js';

const own = (i: number): iptables.Transaction => ({
  table: 'nat',
  own: [`GRP-${i}`],
  ops: [{ op: 'append', rule: { chain: `GRP-${i}`, comment: `grp ${i}`, target: { kind: 'RETURN' } } }],
});

test('mergePayloads: one header, every declaration first, lines in order, one COMMIT', (t) => {
  const a = '*nat\n:A - [0:0]\n-A A -j RETURN\nCOMMIT\n';
  const b = '*nat\n:B - [0:0]\n-A B -j RETURN\n-D POSTROUTING -j B\nCOMMIT\n';
  t.is(mergePayloads([a, b]), '*nat\n:A - [0:0]\n:B - [0:0]\n-A A -j RETURN\n-A B -j RETURN\n-D POSTROUTING -j B\nCOMMIT\n');
});

for (const backend of ['legacy'] as const) {
  // Serial: the counts are process-wide, and other tests of this file would add to them.
  rootTest.serial(`${backend}: 12 concurrent transactions land in fewer restores than 12`, async (t) => {
    const [h] = await namespaces(t, 1);
    const before = { ...iptables.stats };
    await Promise.all(Array.from({ length: 12 }, (_, i) => iptables.restore(h!.ns, own(i), { backend })));
    const ran = iptables.stats.restores - before.restores;
    t.true(ran < 12, `${ran} restores`);
    t.true(iptables.stats.grouped - before.grouped >= 2);
    const text = await saveText(h!.ns, 4, 'nat', backend);
    for (let i = 0; i < 12; i++) t.true(text.includes(`-A GRP-${i} -m comment --comment "grp ${i}" -j RETURN`), `GRP-${i}`);
  });

  rootTest.serial(`${backend}: a failing transaction in a batch fails alone while the rest of the batch lands`, async (t) => {
    const [h] = await namespaces(t, 1);
    const before = { ...iptables.stats };
    const bad: iptables.Transaction = { table: 'nat', ops: [{ op: 'append', rule: { chain: 'NO-SUCH-CHAIN', target: { kind: 'RETURN' } } }] };
    const txs = Array.from({ length: 8 }, (_, i) => (i === 5 ? bad : own(i)));
    const results = await Promise.allSettled(txs.map((tx) => iptables.restore(h!.ns, tx, { backend })));
    t.deepEqual(results.map((r) => r.status), txs.map((_, i) => (i === 5 ? 'rejected' : 'fulfilled')));
    t.true(iptables.stats.rerunAlone - before.rerunAlone >= 2, 'its batch was re-run member by member');
    const text = await saveText(h!.ns, 4, 'nat', backend);
    for (let i = 0; i < 8; i++) if (i !== 5) t.true(text.includes(`-A GRP-${i} -m comment --comment "grp ${i}" -j RETURN`), `GRP-${i}`);
    t.false(text.includes('NO-SUCH-CHAIN'));
  });
}

rootTest.serial('nft: transactions submitted together are one netlink batch, no process', async (t) => {
  const [h] = await namespaces(t, 1);
  const before = { ...iptables.stats };
  await Promise.all(Array.from({ length: 12 }, (_, i) => iptables.restore(h!.ns, own(i), { backend: 'nft' })));
  t.is(iptables.stats.restores, before.restores);
  t.is(iptables.stats.nftWrites - before.nftWrites, 1);
  t.is(iptables.stats.grouped - before.grouped, 12);
  const text = await saveText(h!.ns, 4, 'nat', 'nft');
  for (let i = 0; i < 12; i++) t.true(text.includes(`-A GRP-${i} -m comment --comment "grp ${i}" -j RETURN`), `GRP-${i}`);
});

rootTest.serial('nft: a bad transaction in a batch fails alone, the rest land', async (t) => {
  const [h] = await namespaces(t, 1);
  const before = { ...iptables.stats };
  const bad: iptables.Transaction = { table: 'nat', ops: [{ op: 'append', rule: { chain: 'NO-SUCH-CHAIN', target: { kind: 'RETURN' } } }] };
  const txs = Array.from({ length: 12 }, (_, i) => (i === 5 ? bad : own(i)));
  const results = await Promise.allSettled(txs.map((tx) => iptables.restore(h!.ns, tx, { backend: 'nft' })));
  t.deepEqual(results.map((r) => r.status), txs.map((_, i) => (i === 5 ? 'rejected' : 'fulfilled')));
  t.regex(String((results[5] as PromiseRejectedResult).reason), /NO-SUCH-CHAIN/);
  t.is(iptables.stats.rerunAlone - before.rerunAlone, 12, 'its batch was written again member by member');
  const text = await saveText(h!.ns, 4, 'nat', 'nft');
  for (let i = 0; i < 12; i++) if (i !== 5) t.true(text.includes(`-A GRP-${i} -m comment --comment "grp ${i}" -j RETURN`), `GRP-${i}`);
  t.false(text.includes('NO-SUCH-CHAIN'));
});

rootTest.serial('nft: batches keep the submission order where a declaration (a flush) is involved', async (t) => {
  const [h] = await namespaces(t, 1);
  const before = { ...iptables.stats };
  const rule = (comment: string) => ({ op: 'append', rule: { chain: 'GRP-SAME', comment, target: { kind: 'RETURN' } } }) as const;
  // One after the other: A declares the chain, B appends, C declares it again (flushing A's and
  // B's rules), D appends: 'second' and 'third' are left. D must not go before C.
  await Promise.all([
    iptables.restore(h!.ns, { table: 'nat', own: ['GRP-SAME'], ops: [rule('first')] }, { backend: 'nft' }),
    iptables.restore(h!.ns, { table: 'nat', ops: [rule('b')] }, { backend: 'nft' }),
    iptables.restore(h!.ns, { table: 'nat', own: ['GRP-SAME'], ops: [rule('second')] }, { backend: 'nft' }),
    iptables.restore(h!.ns, { table: 'nat', ops: [rule('third')] }, { backend: 'nft' }),
    iptables.restore(h!.ns, own(1), { backend: 'nft' }),
  ]);
  t.is(iptables.stats.nftWrites - before.nftWrites, 2, 'A with B; C with D and the unrelated one');
  const text = await saveText(h!.ns, 4, 'nat', 'nft');
  const inChain = text.split('\n').filter((l) => l.startsWith('-A GRP-SAME'));
  t.deepEqual(inChain, ['-A GRP-SAME -m comment --comment second -j RETURN', '-A GRP-SAME -m comment --comment third -j RETURN']);
  t.true(text.includes('-A GRP-1 -m comment --comment "grp 1" -j RETURN'));
});

rootTest.serial('nft: a write does not wait behind a listing on the same namespace (a socket each, reused after)', async (t) => {
  const [h] = await namespaces(t, 1);
  await iptables.restore(h!.ns, own(0), { backend: 'nft' });
  const before = { ...iptables.stats };
  const listing = listTagged(h!.ns, 4, 'nat', ['GRP-0'], 'grp 0');
  const write = iptables.restore(h!.ns, own(1), { backend: 'nft' });
  await Promise.all([listing, write]);
  t.is(iptables.stats.nftSockets - before.nftSockets, 1, 'the write opened a second socket while the first listed');
  await iptables.restore(h!.ns, own(2), { backend: 'nft' });
  t.is(iptables.stats.nftSockets - before.nftSockets, 1, 'an idle socket is reused');
});
