// A chain's tag index on nf_tables (lib/iptables/tag-index.ts, native/netlink/nft_index.cc): made
// with the chain, written in the same batch as the rules it describes, read instead of a listing
// when the tag is not there; a chain older than its index keeps being listed; iptables-nft reads
// and writes the table as before; legacy iptables never sees it.
import { namespaces, NFT, rootTest, type TestNs } from '../../helpers/fixture.js';
import { execInNetns } from '../../../lib/netns/index.js';
import * as iptables from '../../../lib/iptables/index.js';
import { listTagged } from '../../../lib/iptables/nft.js';
import { indexKey } from '../../../lib/iptables/tag-index.js';
import { portMapperAdd, saveText } from './helpers.js';

const CHAIN = 'MESOS-TEST-IDX';
const tag = (id: string) => `container_id: ${id}`;
const indexed = (id: string): iptables.Transaction => ({
  ...portMapperAdd(CHAIN, id, [{ host: 80, ip: '10.0.0.2', port: 80 }]),
  index: { chain: CHAIN, add: [tag(id)] },
});

/** The index's keys as `nft` prints them (IPv6 addresses), undefined when there is no index. */
async function keys(h: TestNs): Promise<string[] | undefined> {
  const r = await execInNetns(h.ns, NFT, ['-j', 'list', 'set', 'ip', 'nat', iptables.indexSet(CHAIN)], { check: false });
  if (r.status !== 0) return undefined;
  const set = (JSON.parse(r.stdout) as { nftables: { set?: { elem?: string[] } }[] }).nftables.find((o) => o.set)!.set!;
  return (set.elem ?? []).slice().sort();
}
const keyText = (id: string) => {
  const b = indexKey(tag(id));
  const groups = Array.from({ length: 8 }, (_, i) => b.readUInt16BE(2 * i).toString(16));
  return groups.join(':');
};
/** nft prints an IPv6 address compressed: compare by the address, not the text. */
const same = (a: readonly string[] | undefined, ids: readonly string[]) =>
  a !== undefined && a.length === ids.length && ids.every((id) => a.some((k) => expand(k) === keyText(id)));
function expand(v6: string): string {
  const [head, tail] = v6.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail === undefined ? [] : tail ? tail.split(':') : [];
  const mid = tail === undefined ? [] : Array<string>(8 - h.length - t.length).fill('0');
  return [...h, ...mid, ...t].map((g) => g.replace(/^0+(?=.)/, '')).join(':');
}

rootTest.serial('created with its chain, written with the rules: a tag it lacks is found absent without a listing', async (t) => {
  const [h] = await namespaces(t, 1);
  await iptables.restore(h!.ns, indexed('A'), { backend: 'nft' });
  await iptables.restore(h!.ns, indexed('B'), { backend: 'nft' });
  t.true(same(await keys(h!), ['A', 'B']), JSON.stringify(await keys(h!)));
  const before = { ...iptables.stats };
  const absent = await listTagged(h!.ns, 4, 'nat', [CHAIN, 'POSTROUTING'], tag('C'), CHAIN);
  t.deepEqual(absent.rules, []);
  t.true(absent.indexed);
  const listing = await listTagged(h!.ns, 4, 'nat', [CHAIN, 'POSTROUTING'], tag('C'));
  t.deepEqual([...absent.chains], [...listing.chains], 'which chains exist is answered as a listing answers it');
  t.deepEqual([...absent.chains], [CHAIN], '(no rule has made POSTROUTING here)');
  const present = await listTagged(h!.ns, 4, 'nat', [CHAIN, 'POSTROUTING'], tag('A'), CHAIN);
  t.is(present.rules.length, 1);
  t.false(present.indexed);
  t.is(iptables.stats.nftIndexHits - before.nftIndexHits, 1);
  t.is(iptables.stats.nftLists - before.nftLists, 2);
  // iptables-nft sees the rules as ever, and writes beside the set.
  const text = await saveText(h!.ns, 4, 'nat', 'nft');
  t.true(text.includes(`-A ${CHAIN} ! -i mesos-cni0 -p tcp -m tcp --dport 80 -m comment --comment "container_id: A" -j DNAT --to-destination 10.0.0.2:80`), text);
  await execInNetns(h!.ns, 'iptables-nft-restore', ['--noflush'], { stdin: `*nat\n-A ${CHAIN} -p udp --dport 53 -j RETURN\nCOMMIT\n` });
  t.true((await saveText(h!.ns, 4, 'nat', 'nft')).includes(`-A ${CHAIN} -p udp -m udp --dport 53 -j RETURN`));
});

rootTest.serial('a removal takes the tag out in the same transaction; a tag with no rules left is taken out too', async (t) => {
  const [h] = await namespaces(t, 1);
  await iptables.restore(h!.ns, indexed('A'), { backend: 'nft' });
  await iptables.restore(h!.ns, indexed('B'), { backend: 'nft' });
  t.is(await iptables.removeTagged(h!.ns, 4, 'nat', { chains: [CHAIN, 'POSTROUTING'], tag: tag('A'), index: CHAIN }, { backend: 'nft' }), 1);
  t.true(same(await keys(h!), ['B']));
  t.true((await listTagged(h!.ns, 4, 'nat', [CHAIN], tag('A'), CHAIN)).indexed);
  // B's rule flushed by hand: the key is stale (a reader lists), and a removal takes it out.
  await execInNetns(h!.ns, 'iptables-nft', ['-t', 'nat', '-F', CHAIN]);
  t.false((await listTagged(h!.ns, 4, 'nat', [CHAIN], tag('B'), CHAIN)).indexed);
  t.is(await iptables.removeTagged(h!.ns, 4, 'nat', { chains: [CHAIN], tag: tag('B'), index: CHAIN }, { backend: 'nft' }), 0);
  t.deepEqual(await keys(h!), []);
  // Nothing tagged and nothing indexed: nothing changes.
  t.is(await iptables.removeTagged(h!.ns, 4, 'nat', { chains: [CHAIN], tag: tag('Z'), index: CHAIN }, { backend: 'nft' }), 0);
  t.deepEqual(await keys(h!), []);
});

rootTest.serial('a removal lists the chains whatever the index says: rules written without it (another path) are never left behind', async (t) => {
  const [h] = await namespaces(t, 1);
  await iptables.restore(h!.ns, indexed('A'), { backend: 'nft' }); // the chain and its index
  // A rule with a tag written by iptables itself (as a wrapper in some process's PATH would): no key.
  await execInNetns(h!.ns, 'iptables-nft', ['-t', 'nat', '-A', CHAIN, '-p', 'tcp', '--dport', '83', '-m', 'comment', '--comment', tag('X'), '-j', 'RETURN']);
  t.true((await listTagged(h!.ns, 4, 'nat', [CHAIN], tag('X'), CHAIN)).indexed, 'a reader trusting the index misses it');
  t.is(await iptables.removeTagged(h!.ns, 4, 'nat', { chains: [CHAIN], tag: tag('X'), index: CHAIN }, { backend: 'nft' }), 1, 'the removal does not');
  t.false((await saveText(h!.ns, 4, 'nat', 'nft')).includes(tag('X')));
});

rootTest.serial('a chain made before its index gets none: its readers keep listing and find every rule', async (t) => {
  const [h] = await namespaces(t, 1);
  // An older writer: the chain and a rule without any index.
  await iptables.restore(h!.ns, portMapperAdd(CHAIN, 'OLD', [{ host: 81, ip: '10.0.0.3', port: 81 }]), { backend: 'nft' });
  await iptables.restore(h!.ns, indexed('NEW'), { backend: 'nft' });
  t.is(await keys(h!), undefined, 'no set: it could not know the older rules');
  const old = await listTagged(h!.ns, 4, 'nat', [CHAIN], tag('OLD'), CHAIN);
  t.is(old.rules.length, 1);
  t.false(old.indexed);
  t.is(await iptables.removeTagged(h!.ns, 4, 'nat', { chains: [CHAIN], tag: tag('NEW'), index: CHAIN }, { backend: 'nft' }), 1);
});

rootTest.serial('batched writes carry each one its index keys; a failed batch re-run alone keeps them with their own rules', async (t) => {
  const [h] = await namespaces(t, 1);
  await iptables.restore(h!.ns, indexed('A'), { backend: 'nft' }); // the chain and its index
  const bad: iptables.Transaction = { ...indexed('BAD'), ops: [{ op: 'append', rule: { chain: 'NO-SUCH-CHAIN', comment: tag('BAD'), target: { kind: 'RETURN' } } }] };
  const results = await Promise.allSettled([indexed('B'), bad, indexed('C')].map((tx) => iptables.restore(h!.ns, tx, { backend: 'nft' })));
  t.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
  t.true(same(await keys(h!), ['A', 'B', 'C']), 'the refused one left no key');
});

rootTest.serial('legacy iptables: the index is nothing (no sets there), rules are read and removed as ever', async (t) => {
  const [h] = await namespaces(t, 1);
  await iptables.restore(h!.ns, indexed('L'), { backend: 'legacy' });
  t.is((await iptables.readTagged(h!.ns, 4, 'nat', [CHAIN], tag('L'), { backend: 'legacy', index: CHAIN })).length, 1);
  t.is(await iptables.removeTagged(h!.ns, 4, 'nat', { chains: [CHAIN], tag: tag('L'), index: CHAIN }, { backend: 'legacy' }), 1);
  t.is(await keys(h!), undefined);
});

rootTest('a transaction index names a tag as a comment and the chain as a user chain', async (t) => {
  const [h] = await namespaces(t, 1);
  await t.throwsAsync(iptables.restore(h!.ns, { ...indexed('A'), index: { chain: 'PREROUTING', add: ['x'] } }, { backend: 'nft' }), { message: /transaction\.index\.chain/ });
  await t.throwsAsync(iptables.restore(h!.ns, { ...indexed('A'), index: { chain: CHAIN, add: ['a"b'] } }, { backend: 'nft' }), { message: /transaction\.index\.add\[0\]/ });
  t.is(await keys(h!), undefined, 'nothing written');
});
