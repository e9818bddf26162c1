// Field validators: what they accept, and errors that name the field and the expectation.
import test from 'ava';
import { alias, bool, defined, ifname, int, mac, oneOf } from '../../../lib/netlink/validate.js';
import { sysctlPath } from '../../../lib/netns/sysctl.js';
import { netnsPath } from '../../../lib/netns/netns.js';

test('interface names follow the kernel rules', (t) => {
  for (const ok of ['eth0', 'a', 'veth1234567890a', 'x.y', 'br-0_1']) t.is(ifname(ok, 'f'), ok);
  for (const bad of ['', '.', '..', 'a/b', 'a:b', 'a b', 'sixteen-chars-xx', 'a\0', '\x07', 'br\x7f', 7]) {
    t.regex(t.throws(() => ifname(bad, 'link.name'))!.message, /^link\.name: expected an interface name of 1-15 characters/);
  }
});

test("interface names with '%' are refused: the kernel would expand them as a template", (t) => {
  for (const bad of ['eth%d', '%d', 'a%', 'v%%']) {
    t.regex(t.throws(() => ifname(bad, 'link.name'))!.message, /without '\/', ':', '%', whitespace or control characters/);
  }
});

test('aliases: up to 255 bytes, no control characters', (t) => {
  t.is(alias('mesos-cni: MAC pinned', 'a'), 'mesos-cni: MAC pinned');
  t.is(alias('', 'a'), '');
  t.is(alias('x'.repeat(255), 'a').length, 255);
  for (const bad of ['x'.repeat(256), 'a\nb', 'a\0', 3]) t.regex(t.throws(() => alias(bad, 'link.set.alias'))!.message, /^link\.set\.alias: expected text of at most 255 bytes/);
});

test('MACs: six hex bytes in either case', (t) => {
  t.deepEqual([...mac('02:00:0A:ff:00:01', 'm')], [2, 0, 10, 255, 0, 1]);
  t.regex(t.throws(() => mac('02:00:0a:ff:00', 'link.mac'))!.message, /^link\.mac: expected a MAC address/);
});

test('integers: whole numbers within the bounds', (t) => {
  t.is(int(1500, 'mtu', 68, 65535), 1500);
  t.regex(t.throws(() => int(1.5, 'link.mtu', 68, 65535))!.message, /^link\.mtu: expected an integer from 68 to 65535, got 1.5$/);
  t.regex(t.throws(() => int(70000, 'link.mtu', 68, 65535))!.message, /got 70000/);
});

test('booleans: true or false only', (t) => {
  t.is(bool(false, 'b'), false);
  t.regex(t.throws(() => bool('yes', 'link.up'))!.message, /^link\.up: expected true or false, got "yes"$/);
});

test('enumerations: one of the listed values', (t) => {
  t.is(oneOf('vepa', 'mode', ['bridge', 'vepa'] as const), 'vepa');
  t.regex(t.throws(() => oneOf('x', 'link.mode', ['bridge', 'vepa']))!.message, /^link\.mode: expected one of bridge, vepa, got "x"$/);
});

test('defined drops the keys whose value is undefined', (t) => {
  t.deepEqual(defined({ a: 1, b: undefined }), { a: 1 });
});

test('sysctl keys: net.* only, dotted or slashed, no traversal', (t) => {
  t.is(sysctlPath('net.ipv4.ip_forward'), 'net/ipv4/ip_forward');
  t.is(sysctlPath('net/ipv4/conf/eth0.100/forwarding'), 'net/ipv4/conf/eth0.100/forwarding');
  for (const bad of ['kernel.hostname', 'net/../../etc', 'net.ipv4/x', 'net', 'net..x', 'net/ipv4/../x']) {
    t.throws(() => sysctlPath(bad), undefined, bad);
  }
});

test('netns names map under /var/run/netns', (t) => {
  t.is(netnsPath('c1'), '/var/run/netns/c1');
});

test('absolute netns paths pass unchanged', (t) => {
  t.is(netnsPath('/proc/1/ns/net'), '/proc/1/ns/net');
});

test('netns names that are not plain file names are refused', (t) => {
  for (const bad of ['a/b', '..', '.', '', 'x y', 'a"b']) t.throws(() => netnsPath(bad), undefined, bad);
});
