// Masquerade tags and comments as data: each says which network and attachment a rule belongs to.
import test from 'ava';
import { chainName, tag } from '../../../../lib/plugins/shared/masq.js';
import { instanceHash, nftComment, parseNftComment } from '../../../../lib/plugins/shared/masq-nft.js';

test('iptables tag: readable with network and ID; a hashed form with the chain and a network hash when a comment cannot hold it', (t) => {
  t.is(tag({ network: 'net', containerId: 'c1' }), 'mesos-cni bridge: net id: c1');
  const odd = { network: 'we"ird', containerId: 'c1' };
  t.regex(tag(odd), /^mesos-cni bridge: CNI-[0-9a-f]{24} net: [0-9a-f]{16}$/);
  t.true(tag(odd).includes(chainName(odd)));
  const netHash = (network: string) => tag({ network, containerId: 'c1' }).split(' net: ')[1];
  t.not(netHash('we"ird'), netHash('we"irder'), 'another network, another hash');
  const long = { network: 'n'.repeat(240), containerId: 'c1' };
  t.true(tag(long).length <= 255);
});

test('nftables comment: the attachment hash first, then network, interface and ID; parsed back exactly', (t) => {
  const a = { network: 'net', containerId: 'c1', ifname: 'eth0' };
  const c = nftComment(a);
  t.is(c, `${instanceHash(a)}, net: net, if: eth0, id: c1`);
  t.deepEqual(parseNftComment(c), { hash: instanceHash(a), ...a });
  t.is(parseNftComment('a comment of someone else'), undefined);
  // A name nft cannot quote stands as "?": the hash (over the real name) still identifies it.
  const q = { network: 'a"b', containerId: 'c1', ifname: 'eth0' };
  t.is(parseNftComment(nftComment(q))!.network, '?');
  t.is(parseNftComment(nftComment(q))!.hash, instanceHash(q));
  t.true(Buffer.byteLength(nftComment({ network: 'x'.repeat(300), containerId: 'c', ifname: 'eth0' })) <= 128);
});
