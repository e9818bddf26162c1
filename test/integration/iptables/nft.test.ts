// Tagged rules over nf_tables netlink (lib/iptables/nft.ts, behind tagged.ts) against rules iptables-nft wrote:
// comments read back exactly, deletes by handle in one transaction, chains dropped with their
// rules, a concurrent deleter retried, and no iptables process on the way.
import type { ExecutionContext } from 'ava';
import { namespaces, NFT, rootTest, type TestNs } from '../../helpers/fixture.js';
import { execInNetns } from '../../../lib/netns/index.js';
import * as iptables from '../../../lib/iptables/index.js';
import type { Family } from '../../../lib/iptables/index.js';
import * as nft from '../../../lib/iptables/nft.js';
import { portMapperAdd, saveText } from './helpers.js';

const CHAIN = 'MESOS-TEST-NFT';

rootTest('the default iptables-restore here is iptables-nft', async (t) => {
  t.true(await iptables.isNftBackend(4, 'default'));
  t.true(await iptables.isNftBackend(6, 'nft'));
});

rootTest('the legacy backend is not iptables-nft', async (t) => {
  t.false(await iptables.isNftBackend(4, 'legacy'));
});

/** A namespace whose nat table has port-mapper rules tagged P, P.C and "P " in CHAIN and a MASQUERADE tagged P in POSTROUTING. */
async function taggedP(t: ExecutionContext): Promise<TestNs> {
  const [h] = await namespaces(t, 1);
  for (const id of ['P', 'P.C', 'P ']) await iptables.restore(h!.ns, portMapperAdd(CHAIN, id, [{ host: 8080, ip: '10.0.0.2', port: 80 }, { host: 53, ip: '10.0.0.2', port: 53, proto: 'udp' }]));
  await iptables.restore(h!.ns, { table: 'nat', ops: [{ op: 'append', rule: { chain: 'POSTROUTING', source: '10.0.0.2', comment: 'container_id: P', target: { kind: 'MASQUERADE' } } }] });
  return h!;
}
const removeP = (h: TestNs) => iptables.removeTagged(h.ns, 4, 'nat', { chains: [CHAIN, 'POSTROUTING'], tag: 'container_id: P' });

// Serial tests run before the concurrent ones, so the process counters see only this test.
rootTest.serial('removeTagged deletes in one nf_tables transaction and runs no iptables process', async (t) => {
  const h = await taggedP(t);
  const before = { ...iptables.stats };
  t.is(await removeP(h), 3);
  t.is(iptables.stats.restores, before.restores);
  t.is(iptables.stats.lists, before.lists);
  t.is(iptables.stats.nftDeletes, before.nftDeletes + 1);
});

rootTest.serial('removeTagged with nothing left commits no transaction', async (t) => {
  const h = await taggedP(t);
  await removeP(h);
  const before = { ...iptables.stats };
  // Nothing left: no transaction at all.
  t.is(await removeP(h), 0);
  t.is(iptables.stats.nftDeletes, before.nftDeletes);
});

rootTest.serial('a deletion that may share waits for the next one on the table and commits with it', async (t) => {
  const h = await taggedP(t);
  const chain = (await nft.listTagged(h.ns, 4, 'nat', [CHAIN], 'container_id: P')).rules;
  const post = (await nft.listTagged(h.ns, 4, 'nat', ['POSTROUTING'], 'container_id: P')).rules;
  const before = { ...iptables.stats };
  const held = nft.deleteNft(h.ns, 4, 'nat', chain, [], { share: true });
  await nft.deleteNft(h.ns, 4, 'nat', post);
  await held;
  t.is(iptables.stats.nftDeletes, before.nftDeletes + 1, 'one transaction for both');
  t.deepEqual((await nft.listTagged(h.ns, 4, 'nat', [CHAIN, 'POSTROUTING'], 'container_id: P')).rules, []);
  t.is((await nft.listTagged(h.ns, 4, 'nat', [CHAIN], 'container_id: P.C')).rules.length, 2, 'other tags untouched');
});

rootTest.serial('a deletion that may share commits alone when no other comes', async (t) => {
  const h = await taggedP(t);
  const before = { ...iptables.stats };
  t.is(await iptables.removeTagged(h.ns, 4, 'nat', { chains: [CHAIN, 'POSTROUTING'], tag: 'container_id: P', share: true }), 3);
  t.is(iptables.stats.nftDeletes, before.nftDeletes + 1);
  t.deepEqual((await nft.listTagged(h.ns, 4, 'nat', [CHAIN, 'POSTROUTING'], 'container_id: P')).rules, []);
});

rootTest.serial('a deletion that may share until a promise settles waits for it, however long, then commits alone', async (t) => {
  const h = await taggedP(t);
  const rules = (await nft.listTagged(h.ns, 4, 'nat', [CHAIN, 'POSTROUTING'], 'container_id: P')).rules;
  let done!: () => void;
  const held = nft.deleteNft(h.ns, 4, 'nat', rules, [], { share: new Promise<void>((r) => (done = r)) });
  await new Promise((r) => setTimeout(r, 30));
  t.is((await nft.listTagged(h.ns, 4, 'nat', [CHAIN, 'POSTROUTING'], 'container_id: P')).rules.length, 3, 'still held');
  done();
  await held;
  t.deepEqual((await nft.listTagged(h.ns, 4, 'nat', [CHAIN, 'POSTROUTING'], 'container_id: P')).rules, []);
});

rootTest.serial('a deletion held until a promise, taken by company: the promise settling later commits nothing more', async (t) => {
  const h = await taggedP(t);
  const chain = (await nft.listTagged(h.ns, 4, 'nat', [CHAIN], 'container_id: P')).rules;
  const post = (await nft.listTagged(h.ns, 4, 'nat', ['POSTROUTING'], 'container_id: P')).rules;
  let done!: () => void;
  const before = { ...iptables.stats };
  const held = nft.deleteNft(h.ns, 4, 'nat', chain, [], { share: new Promise<void>((r) => (done = r)) });
  await nft.deleteNft(h.ns, 4, 'nat', post);
  await held;
  done();
  await new Promise((r) => setTimeout(r, 20));
  t.is(iptables.stats.nftDeletes, before.nftDeletes + 1, 'one transaction, and none after');
});

rootTest.serial('a shared transaction that fails is taken apart: each deletion gets its own outcome', async (t) => {
  const h = await taggedP(t);
  const mine = (await nft.listTagged(h.ns, 4, 'nat', [CHAIN, 'POSTROUTING'], 'container_id: P')).rules;
  const [other] = (await nft.listTagged(h.ns, 4, 'nat', [CHAIN], 'container_id: P.C')).rules;
  const held = nft.deleteNft(h.ns, 4, 'nat', mine, [], { share: true });
  // The company names a rule that is not there: the joint transaction fails whole.
  const e = await t.throwsAsync(nft.deleteNft(h.ns, 4, 'nat', [other!, { chain: CHAIN, handle: 999_999 }]));
  await t.notThrowsAsync(held);
  t.is((e as { code?: string }).code, 'ENOENT');
  t.regex(e!.message, /rule 999999 in MESOS-TEST-NFT/);
  t.deepEqual((await nft.listTagged(h.ns, 4, 'nat', [CHAIN, 'POSTROUTING'], 'container_id: P')).rules, []);
  t.is((await nft.listTagged(h.ns, 4, 'nat', [CHAIN], 'container_id: P.C')).rules.length, 2, 'the failed deletion deleted nothing');
});

rootTest('listTagged sees exact comments: P, not P.C or "P "', async (t) => {
  const h = await taggedP(t);
  const found = await nft.listTagged(h.ns, 4, 'nat', [CHAIN, 'POSTROUTING', 'NO-SUCH'], 'container_id: P');
  t.deepEqual(found.rules.map((r) => r.chain), [CHAIN, CHAIN, 'POSTROUTING']);
  t.is(new Set(found.rules.map((r) => r.handle)).size, 3);
});

rootTest('listTagged reports which of the chains exist', async (t) => {
  const h = await taggedP(t);
  const found = await nft.listTagged(h.ns, 4, 'nat', [CHAIN, 'POSTROUTING', 'NO-SUCH'], 'container_id: P');
  t.deepEqual([...found.chains].sort(), [CHAIN, 'POSTROUTING'].sort());
});

rootTest('removeTagged over nf_tables removes exactly P, leaving P.C and "P "', async (t) => {
  const h = await taggedP(t);
  await removeP(h);
  const text = await saveText(h.ns, 4, 'nat', 'nft');
  t.notRegex(text, /"container_id: P"/);
  t.is(text.match(/container_id: P\.C/g)?.length, 2);
  t.is(text.match(/container_id: P "/g)?.length, 2);
});

/** The bridge's masquerade shape: an owned chain CNI-OWNED and a jump to it from POSTROUTING, the jump tagged or not. */
function owned(h: TestNs, family: Family, jumpTag?: string) {
  const src = family === 4 ? '10.1.0.5/32' : 'fd00::5/128';
  return iptables.restore(h.ns, {
    family,
    table: 'nat',
    own: ['CNI-OWNED'],
    ops: [
      { op: 'append', rule: { chain: 'CNI-OWNED', comment: 'mine', target: { kind: 'MASQUERADE' } } },
      { op: 'append', rule: { chain: 'POSTROUTING', source: src, ...(jumpTag ? { comment: jumpTag } : {}), target: { kind: 'jump', chain: 'CNI-OWNED' } } },
    ],
  });
}

rootTest('removeTagged drops an owned chain with its rules and the tagged jump to it, in both families', async (t) => {
  const [h] = await namespaces(t, 1);
  for (const family of [4, 6] as const) {
    await owned(h!, family, 'mine');
    t.is(await iptables.removeTagged(h!.ns, family, 'nat', { chains: ['POSTROUTING'], tag: 'mine', drop: ['CNI-OWNED'] }), 2);
    t.notRegex(await saveText(h!.ns, family, 'nat', 'nft'), /CNI-OWNED|mine/);
  }
});

rootTest('removeTagged refuses whole to drop a chain still jumped to, in both families', async (t) => {
  const [h] = await namespaces(t, 1);
  for (const family of [4, 6] as const) {
    // An untagged jump keeps the chain referenced: the kernel refuses, and the tagged rule stays too.
    await owned(h!, family);
    const e = await t.throwsAsync(iptables.removeTagged(h!.ns, family, 'nat', { chains: ['POSTROUTING'], tag: 'mine', drop: ['CNI-OWNED'] }));
    t.is((e as iptables.IptablesError).code, 'EBUSY');
    t.regex(e!.message, /delete chain CNI-OWNED/);
    t.regex(await saveText(h!.ns, family, 'nat', 'nft'), /-A CNI-OWNED -m comment --comment mine -j MASQUERADE/);
  }
});

/** Two rules tagged R, listed; then one of them deleted by someone else (iptables -D). */
async function listedThenDeletedElsewhere(t: ExecutionContext) {
  const [h] = await namespaces(t, 1);
  await iptables.restore(h!.ns, portMapperAdd(CHAIN, 'R', [{ host: 1, ip: '10.0.0.1', port: 1 }, { host: 2, ip: '10.0.0.1', port: 2 }]));
  const found = await nft.listTagged(h!.ns, 4, 'nat', [CHAIN], 'container_id: R');
  await execInNetns(h!.ns, 'iptables', ['-w', '-t', 'nat', '-D', CHAIN, '1']);
  return { h: h!, found };
}

rootTest('a rule deleted by someone else between listing and commit: deleteNft fails whole with ENOENT', async (t) => {
  const { h, found } = await listedThenDeletedElsewhere(t);
  t.is(found.rules.length, 2);
  const e = await t.throwsAsync(nft.deleteNft(h.ns, 4, 'nat', found.rules));
  t.is((e as iptables.IptablesError).code, 'ENOENT');
  t.regex(await saveText(h.ns, 4, 'nat', 'nft'), /container_id: R/, 'nothing of a refused transaction is applied');
});

rootTest('a rule deleted by someone else after a listing: removeTagged lists again and finishes', async (t) => {
  const { h } = await listedThenDeletedElsewhere(t);
  t.is(await iptables.removeTagged(h.ns, 4, 'nat', { chains: [CHAIN], tag: 'container_id: R' }), 1);
  t.notRegex(await saveText(h.ns, 4, 'nat', 'nft'), /container_id: R/);
});

rootTest('comments kept in rule userdata (as nft writes them) are read too', async (t) => {
  const [h] = await namespaces(t, 1);
  await execInNetns(h!.ns, 'iptables', ['-w', '-t', 'nat', '-N', 'X']); // the nat table, as iptables-nft makes it
  // (By path: under npm, node_modules/.bin has an unrelated `nft`.)
  await execInNetns(h!.ns, NFT, ['add chain ip nat c; add rule ip nat c counter comment "from-nft"; add rule ip nat c counter comment "other"']);
  t.is(await iptables.removeTagged(h!.ns, 4, 'nat', { chains: ['c'], tag: 'from-nft' }), 1);
  const left = (await execInNetns(h!.ns, NFT, ['list chain ip nat c'])).stdout;
  t.notRegex(left, /from-nft/);
  t.regex(left, /comment "other"/);
});

rootTest('bad names are refused before anything reaches the kernel, naming the field', async (t) => {
  const [h] = await namespaces(t, 1);
  await t.throwsAsync(nft.listTagged(h!.ns, 4, 'nat', ['bad chain'], 'x'), { message: /chains\[0\]/ });
  await t.throwsAsync(iptables.removeTagged(h!.ns, 4, 'nat', { chains: ['POSTROUTING'], tag: 'x', drop: ['-X'] }), { message: /drop\[0\]/ });
  await t.throwsAsync(nft.listTagged(h!.ns, 5 as never, 'nat', ['POSTROUTING'], 'x'), { message: /family/ });
  await t.throwsAsync(nft.listTagged(h!.ns, 4, 'nope' as never, ['POSTROUTING'], 'x'), { message: /table/ });
});
