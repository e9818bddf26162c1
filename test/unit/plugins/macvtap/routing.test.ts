// The macvtap plugin's config defaults and routing builders as data (no kernel).
import test from 'ava';
import type { NetConf } from '../../../../lib/cni/config.js';
import { parseConfig } from '../../../../lib/plugins/macvtap/config.js';
import { canonicalDst, containerOps, containerRoute, hasGatewayRoute, hostPrefix, routeTable, sourceRulePriority, sourceRules } from '../../../../lib/plugins/macvtap/routing.js';
import { parseIp } from '../../../../lib/ip.js';
import type { Rule } from '../../../../lib/netlink/rule.js';

const base: NetConf = { name: 'n', type: 'macvtap', master: 'eth1', ipam: { type: 'host-local' } };

test('config defaults: mode bridge ("" too, as upstream), kernel MTU, default dataDir; mac lower-cased', (t) => {
  t.like(parseConfig(base), { master: 'eth1', mode: 'bridge', mtu: undefined, mac: undefined, hostRouteIf: undefined, hostRouteIp: undefined, ipamType: 'host-local', dataDir: '/var/lib/cni/macvtap' });
  t.is(parseConfig({ ...base, mode: '' }).mode, 'bridge');
  t.is(parseConfig({ ...base, mode: 'passthru' }).mode, 'passthru', "the kernel's fourth mode, which upstream's README listed but its code refused");
  t.is(parseConfig({ ...base, mtu: 0 }).mtu, undefined);
  t.is(parseConfig({ ...base, mac: '02:AB:00:00:00:01' }).mac, '02:ab:00:00:00:01');
  t.is(parseConfig({ ...base, hostrouteip: 'FD00::22' }).hostRouteIp?.text, 'fd00::22');
  t.deepEqual(parseConfig({ ...base, dns: { nameservers: ['192.168.10.10'] } }).dns, { nameservers: ['192.168.10.10'] });
  t.is(parseConfig({ ...base, dns: {} }).dns, undefined);
});

test('IPAM routes: the gateway of the family when none is given; 0.0.0.0 and :: mean on-link', (t) => {
  const ips = [{ address: '10.0.0.5/24', gateway: '10.0.0.1' }, { address: 'fd00::5/64' }];
  t.deepEqual(containerRoute({ dst: '0.0.0.0/0' }, ips, 7), { dst: 'default', family: 4, dev: 7, gw: '10.0.0.1' });
  t.deepEqual(containerRoute({ dst: '192.168.10.22/32', gw: '0.0.0.0' }, ips, 7), { dst: '192.168.10.22/32', family: 4, dev: 7 });
  t.deepEqual(containerRoute({ dst: 'fd00:10::/64' }, ips, 7), { dst: 'fd00:10::/64', family: 6, dev: 7 }, 'no IPv6 gateway: on-link');
  t.deepEqual(containerRoute({ dst: 'fd00:10::/64', gw: '::' }, ips, 7), { dst: 'fd00:10::/64', family: 6, dev: 7 });
  t.deepEqual(containerRoute({ dst: '10.1.0.0/16', gw: '10.0.0.254' }, ips, 7), { dst: '10.1.0.0/16', family: 4, dev: 7, gw: '10.0.0.254' });
  t.true(hasGatewayRoute([{ dst: '0.0.0.0/0' }], ips));
  t.false(hasGatewayRoute([{ dst: '192.168.10.22/32', gw: '0.0.0.0' }], ips));
});

test('one container batch: rename, lo, addresses, up, routes, the table route, read back — by index', (t) => {
  const ops = containerOps({
    index: 2,
    ifname: 'eth0',
    ips: [{ address: '10.0.0.5/24', gateway: '10.0.0.1' }],
    routes: [{ dst: '192.168.10.22/32', gw: '0.0.0.0' }],
    hostRouteIp: parseIp('192.168.10.22', 'h'),
  });
  t.deepEqual(ops, [
    { op: 'link.set', spec: { index: 2, newName: 'eth0' } },
    { op: 'link.set', spec: { name: 'lo', up: true } },
    { op: 'addr.add', spec: { dev: 2, address: '10.0.0.5/24' } },
    { op: 'link.set', spec: { index: 2, up: true } },
    { op: 'route.add', spec: { dst: '192.168.10.22/32', family: 4, dev: 2 } },
    { op: 'route.add', spec: { dst: '192.168.10.22/32', dev: 2, table: 2 } },
    { op: 'link.get', spec: { index: 2 } },
  ]);
});

test("source rules: upstream's priority (before the first rule above 5, else 99), one per address of the host's family", (t) => {
  const rule = (priority: number) => ({ priority }) as Rule;
  t.is(sourceRulePriority([rule(0), rule(32766), rule(32767)]), 32765);
  t.is(sourceRulePriority([rule(0), rule(5), rule(32765), rule(32766)]), 32764);
  t.is(sourceRulePriority([rule(0), rule(3)]), 99);
  const ips = [{ address: '10.0.0.5/24' }, { address: 'fd00::5/64' }];
  t.deepEqual(sourceRules(ips, parseIp('192.168.10.22', 'h'), 2, 32765), [{ from: '10.0.0.5/32', table: 2, priority: 32765 }]);
  t.deepEqual(sourceRules(ips, parseIp('fd00:10::22', 'h'), 2, 32765), [{ from: 'fd00::5/128', table: 2, priority: 32765 }]);
});

test('tables: the ifindex, except where it would alias default/main/local', (t) => {
  t.is(routeTable(2), 2);
  t.is(routeTable(252), 252);
  t.is(routeTable(254), 0x10000 + 254);
  t.is(routeTable(256), 256);
});

test('prefixes: host routes and canonical destinations', (t) => {
  t.is(hostPrefix('192.168.122.176/24'), '192.168.122.176/32');
  t.is(hostPrefix('FD00:122:0::176/64'), 'fd00:122::176/128');
  t.is(canonicalDst('0.0.0.0/0'), 'default');
  t.is(canonicalDst('::/0'), 'default');
  t.is(canonicalDst('10.1.2.3/16'), '10.1.0.0/16');
  t.is(canonicalDst('fd00:0:0::/64'), 'fd00::/64');
});
