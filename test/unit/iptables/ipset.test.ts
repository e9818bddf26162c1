// ipset payload rendering: the exact lines `ipset restore` gets, and every bad token refused.
import test from 'ava';
import { parseIpsetSave, renderIpset, type IpsetOp } from '../../../lib/iptables/ipset.js';

test('renders create/add/del/flush as ipset restore lines, in order, hosts without their /32', (t) => {
  const ops: IpsetOp[] = [
    { op: 'create', set: 'overlay', type: 'hash:net', counters: true },
    { op: 'add', set: 'overlay', entry: '0.0.0.0/1' },
    { op: 'add', set: 'overlay', entry: '9.1.2.3/8', nomatch: true },
    { op: 'add', set: 'overlay', entry: '10.0.0.1/32' },
    { op: 'del', set: 'overlay', entry: '10.0.0.1' },
    { op: 'create', set: 'ov6', type: 'hash:net', family: 6 },
    { op: 'add', set: 'ov6', entry: 'fd01:b::/64', nomatch: true },
    { op: 'flush', set: 'ov6' },
  ];
  t.is(
    renderIpset(ops),
    'create overlay hash:net counters\nadd overlay 0.0.0.0/1\nadd overlay 9.0.0.0/8 nomatch\nadd overlay 10.0.0.1\ndel overlay 10.0.0.1\n' +
      'create ov6 hash:net family inet6\nadd ov6 fd01:b::/64 nomatch\nflush ov6\n',
  );
});

test('refuses names, entries, types and flags that could break the payload, naming the field', (t) => {
  const bad: [unknown, RegExp][] = [
    [[{ op: 'create', set: 'a b', type: 'hash:net' }], /^ops\[0\]\.set: expected an ipset name/],
    [[{ op: 'create', set: 'x'.repeat(32), type: 'hash:net' }], /^ops\[0\]\.set/],
    [[{ op: 'create', set: 'ov', type: 'list:set' }], /^ops\[0\]\.type: expected one of hash:net, hash:ip/],
    [[{ op: 'add', set: 'ov', entry: '9.0.0.0/8\nflush ov' }], /^ops\[0\]\.entry/],
    [[{ op: 'add', set: 'ov', entry: '9.0.0.0/8', nomatch: 'yes' }], /^ops\[0\]\.nomatch: expected true or false/],
    [[{ op: 'create', set: 'ov', type: 'hash:net' }, { op: 'add', set: 'ov', entry: 'fd00::/8' }], /^ops\[1\]\.entry: expected an IPv4/],
    [[{ op: 'swap', set: 'ov' }], /^ops\[0\]\.op: expected create, add, del or flush/],
    [[{ op: 'add', set: 'ov', entry: '1.2.3.4', extra: 1 }], /^ops\[0\]\.extra: unknown field/],
  ];
  for (const [ops, re] of bad) t.throws(() => renderIpset(ops as IpsetOp[]), { message: re }, JSON.stringify(ops));
});

test('parses ipset save output: type, family, counters, entries with nomatch; other sets ignored', (t) => {
  const text = [
    'create other hash:ip family inet hashsize 1024 maxelem 65536',
    'add other 1.2.3.4',
    'create overlay hash:net family inet hashsize 1024 maxelem 65536 counters bucketsize 12 initval 0xc32c2f01',
    'add overlay 128.0.0.0/1 packets 0 bytes 0',
    'add overlay 9.0.0.0/8 nomatch packets 4 bytes 336',
    '',
  ].join('\n');
  t.deepEqual(parseIpsetSave(text, 'overlay'), {
    name: 'overlay',
    type: 'hash:net',
    family: 4,
    counters: true,
    entries: [
      { entry: '128.0.0.0/1', nomatch: false },
      { entry: '9.0.0.0/8', nomatch: true },
    ],
  });
  t.is(parseIpsetSave(text, 'nope'), undefined);
});
