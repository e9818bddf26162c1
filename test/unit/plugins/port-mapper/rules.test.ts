// mesos-cni-port-mapper rules as data: upstream's exact DNAT shape and tag, jumps, every excluded
// device honoured, IPv6, hostIP, snat; and the payload one ADD commits.
import test from 'ava';
import { checkTransaction, renderPayload, renderRule, type Rule } from '../../../../lib/iptables/index.js';
import { parsePrefix } from '../../../../lib/ip.js';
import { containerRules, jumps, tag } from '../../../../lib/plugins/port-mapper/rules.js';
import type { Mapping } from '../../../../lib/plugins/port-mapper/mappings.js';

const CHAIN = 'MESOS-TEST-PORT-MAPPER';
const show = (rules: Rule[], family: 4 | 6 = 4) => rules.map((r) => {
  const { chain, args } = renderRule(r, family, 'nat');
  return ['-A', chain, ...args.map((a) => (a.includes(' ') ? `"${a}"` : a))].join(' ');
});
const cfg = (mappings: Mapping[], excludeDevices: string[] = [], snat = false) => ({ chain: CHAIN, excludeDevices, snat, mappings });
const web: Mapping = { hostPort: 8080, containerPort: 80, protocol: 'tcp' };

test('one excluded device: exactly the line upstream\'s rule shows in iptables -S', (t) => {
  const r = containerRules(cfg([web], ['mesos-cni0']), 'cid-1', parsePrefix('192.168.0.2/16', 'ip'));
  t.deepEqual(show(r.chain), [
    '-A MESOS-TEST-PORT-MAPPER ! -i mesos-cni0 -p tcp -m tcp --dport 8080 -m comment --comment "container_id: cid-1" -j DNAT --to-destination 192.168.0.2:80',
  ]);
  t.deepEqual(r.postrouting, []);
  t.is(tag('P.C'), 'container_id: P.C');
});

test('no excluded device: no -i; udp/sctp matches use their own module', (t) => {
  const r = containerRules(cfg([{ hostPort: 53, containerPort: 5353, protocol: 'udp' }, { hostPort: 9, containerPort: 9, protocol: 'sctp' }]), 'c', parsePrefix('10.0.0.5/24', 'ip'));
  t.deepEqual(show(r.chain), [
    '-A MESOS-TEST-PORT-MAPPER -p udp -m udp --dport 53 -m comment --comment "container_id: c" -j DNAT --to-destination 10.0.0.5:5353',
    '-A MESOS-TEST-PORT-MAPPER -p sctp -m sctp --dport 9 -m comment --comment "container_id: c" -j DNAT --to-destination 10.0.0.5:9',
  ]);
});

test('several excluded devices: a RETURN per extra device ahead of the DNAT, same container and port (upstream kept only the last)', (t) => {
  const r = containerRules(cfg([web], ['a0', 'cali+', 'b0']), 'c', parsePrefix('10.0.0.5/24', 'ip'));
  t.deepEqual(show(r.chain), [
    '-A MESOS-TEST-PORT-MAPPER -i a0 -p tcp -m tcp --dport 8080 -m comment --comment "container_id: c" -j RETURN',
    '-A MESOS-TEST-PORT-MAPPER -i cali+ -p tcp -m tcp --dport 8080 -m comment --comment "container_id: c" -j RETURN',
    '-A MESOS-TEST-PORT-MAPPER ! -i b0 -p tcp -m tcp --dport 8080 -m comment --comment "container_id: c" -j DNAT --to-destination 10.0.0.5:80',
  ]);
});

test('IPv6: bracketed DNAT target; hostIP mappings only in their own family', (t) => {
  const maps: Mapping[] = [web, { hostPort: 9090, containerPort: 90, protocol: 'tcp', hostIP: 'fd00::1' }, { hostPort: 7070, containerPort: 70, protocol: 'tcp', hostIP: '10.1.1.1' }];
  const v6 = containerRules(cfg(maps, ['br0']), 'c', parsePrefix('fd00:1::5/64', 'ip'));
  t.is(v6.family, 6);
  t.deepEqual(show(v6.chain, 6), [
    '-A MESOS-TEST-PORT-MAPPER ! -i br0 -p tcp -m tcp --dport 8080 -m comment --comment "container_id: c" -j DNAT --to-destination [fd00:1::5]:80',
    '-A MESOS-TEST-PORT-MAPPER -d fd00::1/128 ! -i br0 -p tcp -m tcp --dport 9090 -m comment --comment "container_id: c" -j DNAT --to-destination [fd00:1::5]:90',
  ]);
  const v4 = containerRules(cfg(maps), 'c', parsePrefix('10.0.0.5/24', 'ip'));
  t.deepEqual(show(v4.chain).map((l) => l.split(' --dport ')[1]!.split(' ')[0]), ['8080', '7070']);
  t.true(show(v4.chain)[1]!.includes('-d 10.1.1.1/32'));
});

test('jumps: upstream\'s PREROUTING and OUTPUT shapes (::1 for IPv6)', (t) => {
  t.deepEqual(show(jumps(CHAIN, 4)), [
    '-A PREROUTING -m addrtype --dst-type LOCAL -j MESOS-TEST-PORT-MAPPER',
    '-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j MESOS-TEST-PORT-MAPPER',
  ]);
  t.is(show(jumps(CHAIN, 6), 6)[1], '-A OUTPUT ! -d ::1/128 -m addrtype --dst-type LOCAL -j MESOS-TEST-PORT-MAPPER');
});

test('snat: one MASQUERADE per container port for traffic from the container subnet that was DNATed', (t) => {
  const r = containerRules(cfg([web, { hostPort: 8081, containerPort: 80, protocol: 'tcp' }], [], true), 'c', parsePrefix('10.0.0.5/24', 'ip'));
  t.is(r.chain.length, 2);
  t.deepEqual(show(r.postrouting), [
    '-A POSTROUTING -s 10.0.0.0/24 -d 10.0.0.5/32 -p tcp -m tcp --dport 80 -m conntrack --ctstate DNAT -m comment --comment "container_id: c" -j MASQUERADE',
  ]);
});

test('the ADD payload: -N and jumps only when creating, DNAT appends, snat inserts at the head', (t) => {
  const r = containerRules(cfg([web], ['mesos-cni0'], true), 'cid', parsePrefix('192.168.0.2/16', 'ip'));
  const tx = checkTransaction({
    table: 'nat',
    shared: [{ name: CHAIN, onCreate: jumps(CHAIN, 4).map((rule) => ({ op: 'append', rule })) }],
    ops: [...r.chain.map((rule) => ({ op: 'append', rule })), ...r.postrouting.map((rule) => ({ op: 'insert', rule, position: 1 }))],
  });
  t.is(
    renderPayload(tx, [CHAIN]),
    [
      '*nat',
      '-N MESOS-TEST-PORT-MAPPER',
      '-A PREROUTING -m addrtype --dst-type LOCAL -j MESOS-TEST-PORT-MAPPER',
      '-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j MESOS-TEST-PORT-MAPPER',
      '-A MESOS-TEST-PORT-MAPPER ! -i mesos-cni0 -p tcp -m tcp --dport 8080 -m comment --comment "container_id: cid" -j DNAT --to-destination 192.168.0.2:80',
      '-I POSTROUTING 1 -s 192.168.0.0/16 -d 192.168.0.2/32 -p tcp -m tcp --dport 80 -m conntrack --ctstate DNAT -m comment --comment "container_id: cid" -j MASQUERADE',
      'COMMIT',
      '',
    ].join('\n'),
  );
  t.false(renderPayload(tx).includes('-N '), 'the chain exists: no -N, no jumps');
});
