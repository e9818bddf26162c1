// IP parsing and formatting (lib/ip.ts): the bytes netlink carries, RFC 5952 text, and
// errors that name the field for every malformed input.
import test from 'ava';
import { SpecError } from '../../lib/native/index.js';
import { formatIp, isIPv4, isIPv6, networkOf, parseIp, parsePrefix } from '../../lib/ip.js';

test('parseIp: IPv4 to 4 bytes', (t) => {
  const a = parseIp('10.1.2.254', 'f');
  t.is(a.family, 4);
  t.deepEqual(Array.from(a.bytes), [10, 1, 2, 254]);
  t.is(a.text, '10.1.2.254');
});

test('parseIp: IPv6 forms to 16 bytes', (t) => {
  const cases: [string, number[]][] = [
    ['::', Array(16).fill(0)],
    ['::1', [...Array(15).fill(0), 1]],
    ['fd00::2', [0xfd, 0, ...Array(13).fill(0), 2]],
    ['2001:db8:1:2:3:4:5:6', [0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6]],
    ['1::', [0, 1, ...Array(14).fill(0)]],
    ['FE80::ABCD', [0xfe, 0x80, ...Array(12).fill(0), 0xab, 0xcd]],
    ['::ffff:10.1.2.3', [...Array(10).fill(0), 0xff, 0xff, 10, 1, 2, 3]],
  ];
  for (const [text, bytes] of cases) {
    const a = parseIp(text, 'f');
    t.is(a.family, 6, text);
    t.deepEqual(Array.from(a.bytes), bytes, text);
  }
});

test('parseIp: malformed input fails with a SpecError naming the field', (t) => {
  const bad: unknown[] = ['', 'x', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', ' 1.2.3.4', '1.2.3.4/24', '1::2::3', '::g', 'fe80::1%eth0', 42, null, undefined, {}];
  for (const v of bad) {
    const e = t.throws(() => parseIp(v, 'route.gw'), { instanceOf: SpecError }, JSON.stringify(v));
    t.regex(e!.message, /^route\.gw: expected an IPv4 or IPv6 address, got /);
    t.is((e as SpecError).code, 'EINVAL');
  }
});

test('parsePrefix: explicit and implied prefix lengths', (t) => {
  const p = parsePrefix('10.0.0.7/24', 'f');
  t.is(p.prefix, 24);
  t.is(p.text, '10.0.0.7/24');
  t.deepEqual(Array.from(p.bytes), [10, 0, 0, 7]);
  t.is(parsePrefix('10.0.0.7', 'f').prefix, 32);
  t.is(parsePrefix('10.0.0.7', 'f').text, '10.0.0.7/32');
  t.is(parsePrefix('fd00::7', 'f').prefix, 128);
  t.is(parsePrefix('0.0.0.0/0', 'f').prefix, 0);
  t.is(parsePrefix('fd00::/128', 'f').prefix, 128);
});

test('parsePrefix: malformed input fails with a SpecError naming the field', (t) => {
  const bad: unknown[] = ['10.0.0.1/33', 'fd00::/129', '10.0.0.1/-1', '10.0.0.1/', '10.0.0.1/24/1', '/24', '10.0.0.1/2x', '10.0.0.1/024', '10.0.0/24', 'default', 5, null];
  for (const v of bad) {
    const e = t.throws(() => parsePrefix(v, 'addr.address'), { instanceOf: SpecError }, JSON.stringify(v));
    t.regex(e!.message, /^addr\.address: expected an address with an optional \/prefix/);
  }
});

test('networkOf clears host bits', (t) => {
  t.is(networkOf(parsePrefix('10.1.2.3/24', 'f')).text, '10.1.2.0/24');
  t.is(networkOf(parsePrefix('10.1.2.3/20', 'f')).text, '10.1.0.0/20');
  t.is(networkOf(parsePrefix('10.1.2.3/0', 'f')).text, '0.0.0.0/0');
  t.is(networkOf(parsePrefix('10.1.2.3/32', 'f')).text, '10.1.2.3/32');
  t.is(networkOf(parsePrefix('fd00::1:2/112', 'f')).text, 'fd00::1:0/112');
  t.is(networkOf(parsePrefix('fd00:1:2:3:4:5:6:7/63', 'f')).text, 'fd00:1:2:2::/63');
  const p = parsePrefix('10.1.2.3/24', 'f');
  networkOf(p);
  t.deepEqual(Array.from(p.bytes), [10, 1, 2, 3], 'the input is not modified');
});

test('formatIp: RFC 5952 text, as the kernel (inet_ntop) prints it', (t) => {
  const cases: [string, string][] = [
    ['2001:db8:0:0:0:0:2:1', '2001:db8::2:1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group is not compressed
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], // the longest run is
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // the first of equal runs is
    ['2001:DB8::1', '2001:db8::1'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['1:0:0:0:0:0:0:0', '1::'],
    ['::ffff:10.1.2.3', '::ffff:10.1.2.3'],
    ['192.168.0.1', '192.168.0.1'],
  ];
  for (const [input, want] of cases) t.is(formatIp(parseIp(input, 'f').bytes), want, input);
});

test('formatIp and parseIp round-trip', (t) => {
  for (const s of ['10.0.0.1', '255.255.255.255', 'fe80::1', 'fd00:1:2:3:4:5:6:7', '::', '2001:db8::', '::ffff:1.2.3.4']) {
    t.is(formatIp(parseIp(s, 'f').bytes), s);
  }
});

test('isIPv4/isIPv6 agree with node:net on valid and malformed text (ours avoid loading it)', async (t) => {
  const net = await import('node:net');
  const corpus = [
    '0.0.0.0', '255.255.255.255', '10.1.2.3', '256.1.1.1', '1.2.3', '1.2.3.4.5', '01.2.3.4', '1.2.3.04', '1.2.3.-1', ' 1.2.3.4', '1.2.3.4 ', '1..2.3', '',
    '::', '::1', '1::', 'fd00::2', '2001:db8:1:2:3:4:5:6', '2001:db8:1:2:3:4:5:6:7', '2001:db8:1:2:3:4:5', '1:2:3:4:5:6:7::', '::2:3:4:5:6:7:8',
    '1::2::3', ':1::', '1:::2', '::ffff:1.2.3.4', '::ffff:1.2.3.256', '1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:7:1.2.3.4', '1.2.3.4::', '::1.2.3.4:1',
    'fe80::1%eth0', 'g::1', '12345::1', 'FD00::AbCd', ':', ':::', '1:2:3:4:5:6:7:8::', '::1:2:3:4:5:6:7', '::1:2:3:4:5:6:7:8',
  ];
  for (const s of corpus) {
    t.is(isIPv4(s), net.isIPv4(s), `isIPv4(${JSON.stringify(s)})`);
    t.is(isIPv6(s), net.isIPv6(s) && !s.includes('%'), `isIPv6(${JSON.stringify(s)})`);
  }
});
