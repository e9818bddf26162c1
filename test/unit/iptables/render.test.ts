// Rule and payload rendering as data: exact payload text, canonical forms, refusals that name the field.
import test from 'ava';
import { checkTransaction, renderPayload, renderRule, type Rule, type Transaction } from '../../../lib/iptables/index.js';
import { SpecError } from '../../../lib/native/index.js';

const CHAIN = 'MESOS-TEST-PORT-MAPPER';

/** The port mapper's ADD for one container whose chain does not exist yet. */
function portMapperAdd(id: string): Transaction {
  const jump = { kind: 'jump', chain: CHAIN } as const;
  return {
    table: 'nat',
    shared: [
      {
        name: CHAIN,
        onCreate: [
          { op: 'append', rule: { chain: 'PREROUTING', addrType: { dst: 'LOCAL' }, target: jump } },
          { op: 'append', rule: { chain: 'OUTPUT', destination: { not: '127.0.0.0/8' }, addrType: { dst: 'LOCAL' }, target: jump } },
        ],
      },
    ],
    ops: [
      {
        op: 'append',
        rule: {
          chain: CHAIN,
          inInterface: { not: 'mesos-cni0' },
          protocol: 'tcp',
          dport: 8080,
          comment: `container_id: ${id}`,
          target: { kind: 'DNAT', ip: '192.168.0.2', port: 80 },
        },
      },
      {
        op: 'append',
        rule: { chain: CHAIN, protocol: 'udp', dport: [5000, 5001], comment: `container_id: ${id}`, target: { kind: 'DNAT', ip: '192.168.0.2', port: [5000, 5001] } },
      },
    ],
  };
}

test('port-mapper ADD renders the exact payload, with -N and jumps only when creating', (t) => {
  const tx = checkTransaction(portMapperAdd('c1'));
  t.is(
    renderPayload(tx, [CHAIN]),
    [
      '*nat',
      `-N ${CHAIN}`,
      `-A PREROUTING -m addrtype --dst-type LOCAL -j ${CHAIN}`,
      `-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j ${CHAIN}`,
      `-A ${CHAIN} ! -i mesos-cni0 -p tcp -m tcp --dport 8080 -m comment --comment "container_id: c1" -j DNAT --to-destination 192.168.0.2:80`,
      `-A ${CHAIN} -p udp -m udp --dport 5000:5001 -m comment --comment "container_id: c1" -j DNAT --to-destination 192.168.0.2:5000-5001`,
      'COMMIT',
      '',
    ].join('\n'),
  );
  const existing = renderPayload(tx, []);
  t.false(existing.includes('-N '));
  t.false(existing.includes('PREROUTING'));
  t.is(existing.split('\n').length, 5);
});

test('owned chains are declared, shared ones never are', (t) => {
  const tx = checkTransaction({
    table: 'nat',
    own: ['CNI-DN-abc'],
    shared: [{ name: 'CNI-HOSTPORT-DNAT' }],
    ops: [
      { op: 'append', rule: { chain: 'CNI-DN-abc', protocol: 'tcp', dport: 80, target: { kind: 'DNAT', ip: '10.0.0.2', port: 8080 } } },
      { op: 'append', rule: { chain: 'CNI-HOSTPORT-DNAT', comment: 'id', target: { kind: 'jump', chain: 'CNI-DN-abc' } } },
      { op: 'insert', rule: { chain: 'POSTROUTING', mark: { value: 0x2000, mask: 0x2000 }, target: { kind: 'MASQUERADE' } } },
      { op: 'insert', position: 3, rule: { chain: 'CNI-HOSTPORT-DNAT', target: { kind: 'RETURN' } } },
      { op: 'flush', chain: 'CNI-DN-old' },
      { op: 'deleteChain', chain: 'CNI-DN-old' },
    ],
  });
  t.is(
    renderPayload(tx),
    [
      '*nat',
      ':CNI-DN-abc - [0:0]',
      '-A CNI-DN-abc -p tcp -m tcp --dport 80 -j DNAT --to-destination 10.0.0.2:8080',
      '-A CNI-HOSTPORT-DNAT -m comment --comment id -j CNI-DN-abc',
      '-I POSTROUTING -m mark --mark 0x2000/0x2000 -j MASQUERADE',
      '-I CNI-HOSTPORT-DNAT 3 -j RETURN',
      '-F CNI-DN-old',
      '-X CNI-DN-old',
      'COMMIT',
      '',
    ].join('\n'),
  );
});

test('rules render in iptables-save canonical form', (t) => {
  const r = (rule: Omit<Rule, 'chain'>, fam: 4 | 6 = 4) => renderRule({ chain: 'X', ...rule }, fam, 'nat').args.join(' ');
  t.is(r({ source: '10.1.2.3', target: { kind: 'RETURN' } }), '-s 10.1.2.3/32 -j RETURN');
  t.is(r({ source: '10.1.2.3/24', target: { kind: 'RETURN' } }), '-s 10.1.2.0/24 -j RETURN', 'host bits cleared as the kernel stores them');
  t.is(r({ destination: { not: 'fd00:0:0::1' }, target: { kind: 'RETURN' } }, 6), '! -d fd00::1/128 -j RETURN');
  t.is(r({ protocol: 'icmpv6', target: { kind: 'RETURN' } }, 6), '-p ipv6-icmp -j RETURN');
  t.is(r({ protocol: 'tcp', dport: [80, 80], target: { kind: 'RETURN' } }), '-p tcp -m tcp --dport 80 -j RETURN');
  t.is(
    r({ protocol: 'tcp', sport: { not: [1, 1024] }, dport: 443, target: { kind: 'DNAT', ip: 'fd00::2', port: 8443 } }, 6),
    '-p tcp -m tcp ! --sport 1:1024 --dport 443 -j DNAT --to-destination [fd00::2]:8443',
  );
  t.is(r({ addrType: { src: { not: 'LOCAL' }, dst: 'UNICAST' }, target: { kind: 'goto', chain: 'Y' } }), '-m addrtype ! --src-type LOCAL --dst-type UNICAST -g Y');
  t.is(r({ matchSet: { not: { name: 'overlay', flags: ['src', 'dst'] } }, target: { kind: 'MASQUERADE', random: true } }), '-m set ! --match-set overlay src,dst -j MASQUERADE --random');
  t.is(r({ mark: { value: 1, mask: 0xffffffff }, target: { kind: 'MARK', value: 0x2000 } }), '-m mark --mark 0x1 -j MARK --set-xmark 0x2000/0xffffffff');
  t.is(r({ ctState: ['ESTABLISHED', 'NEW', 'RELATED'], target: { kind: 'ACCEPT' } }), '-m conntrack --ctstate NEW,RELATED,ESTABLISHED -j ACCEPT');
  t.is(r({ outInterface: 'veth+', protocol: { not: 'udp' }, target: { kind: 'SNAT', ip: '10.0.0.1' } }), '-o veth+ ! -p udp -j SNAT --to-source 10.0.0.1');
});

function refuses(t: import('ava').ExecutionContext, tx: unknown, field: RegExp): void {
  const e = t.throws(() => checkTransaction(tx), { instanceOf: SpecError });
  t.regex(e!.message, field);
}

test('structural mistakes are refused with the field named', (t) => {
  const ok = { chain: 'X', target: { kind: 'RETURN' } };
  const tx = (ops: unknown[], extra: object = {}) => ({ table: 'nat', ops, ...extra });
  refuses(t, tx([{ op: 'append', rule: { ...ok, dPort: 80 } }]), /^transaction\.ops\[0\]\.rule\.dPort: unknown field/);
  refuses(t, tx([{ op: 'append', rule: { ...ok, dport: 80 } }]), /^transaction\.ops\[0\]\.rule\.protocol: expected tcp, udp or sctp/);
  refuses(t, tx([{ op: 'append', rule: { ...ok, protocol: { not: 'tcp' }, dport: 80 } }]), /rule\.protocol: expected tcp, udp or sctp \(not negated\)/);
  refuses(t, tx([{ op: 'append', rule: { chain: 'X', target: { kind: 'DROP' } } }]), /target\.kind: DROP is refused in the nat table/);
  refuses(t, { table: 'filter', ops: [{ op: 'append', rule: { chain: 'X', target: { kind: 'DNAT', ip: '10.0.0.1' } } }] }, /target\.kind: DNAT is only valid in the nat table/);
  refuses(t, tx([{ op: 'append', rule: { chain: 'X', target: { kind: 'DNAT', ip: '10.0.0.1', port: 80 } } }]), /target\.port: a NAT port needs the rule's protocol/);
  refuses(t, tx([{ op: 'append', rule: { chain: 'X', target: { kind: 'DNAT', ip: '10.0.0.0/24' } } }]), /target\.ip: expected an IPv4 address without a prefix/);
  refuses(t, tx([{ op: 'append', rule: { chain: 'X', target: { kind: 'jump', chain: 'PREROUTING' } } }]), /target\.chain: expected a user-defined chain/);
  refuses(t, tx([{ op: 'append', rule: { ...ok, source: 'fd00::1' } }]), /rule\.source: expected an IPv4 address or CIDR/);
  refuses(t, tx([{ op: 'append', rule: { ...ok, source: '10.0.0.1' } }], { family: 6 }), /rule\.source: expected an IPv6 address or CIDR \(ip6tables\)/);
  refuses(t, tx([{ op: 'append', rule: { ...ok, source: 'example.com' } }]), /rule\.source: expected an address/);
  refuses(t, tx([{ op: 'append', rule: { ...ok, protocol: 'tcp', dport: 65536 } }]), /rule\.dport: expected a port from 0 to 65535/);
  refuses(t, tx([{ op: 'append', rule: { ...ok, protocol: 'tcp', dport: [90, 80] } }]), /rule\.dport: expected a range with low <= high/);
  refuses(t, tx([{ op: 'append', rule: { ...ok, protocol: 'gre' } }]), /rule\.protocol: expected one of tcp, udp, sctp, icmp/);
  refuses(t, tx([{ op: 'append', rule: { ...ok, mark: { value: 2 ** 32 } } }]), /rule\.mark\.value: expected an integer from 0 to 0xffffffff/);
  refuses(t, tx([{ op: 'append', rule: { ...ok, ctState: [] } }]), /rule\.ctState: expected a non-empty list/);
  refuses(t, tx([{ op: 'append', rule: { ...ok, addrType: { dst: 'local' } } }]), /rule\.addrType\.dst: expected one of UNSPEC/);
  refuses(t, tx([{ op: 'frobnicate' }]), /^transaction\.ops\[0\]\.op: expected one of append/);
  refuses(t, tx([{ op: 'insert', position: 0, rule: ok }]), /ops\[0\]\.position: expected an integer from 1/);
  refuses(t, tx([], { own: ['PREROUTING'] }), /^transaction\.own\[0\]: expected a user-defined chain, got the built-in nat chain PREROUTING/);
  refuses(t, tx([], { own: ['A'], shared: [{ name: 'A' }] }), /^transaction\.own\[0\]: chain A is listed twice in own\/shared/);
  refuses(t, tx([], { shared: [{ name: 'OUTPUT' }] }), /^transaction\.shared\[0\]\.name: expected a user-defined chain/);
  refuses(t, tx([{ op: 'deleteChain', chain: 'POSTROUTING' }]), /ops\[0\]\.chain: expected a user-defined chain/);
  refuses(t, { table: 'nats', ops: [] }, /^transaction\.table: expected one of filter, nat/);
  refuses(t, { table: 'nat', family: 5, ops: [] }, /^transaction\.family: expected 4 or 6/);
  refuses(t, { table: 'nat', ops: [], extra: 1 }, /^transaction\.extra: unknown field/);
});

test('chain names: 28 characters of [A-Za-z0-9_.-], not a target name, not starting with -', (t) => {
  const rule = (chain: string) => () => renderRule({ chain, target: { kind: 'RETURN' } }, 4, 'nat');
  t.is(rule('A'.repeat(28))().chain, 'A'.repeat(28));
  t.is(rule('CNI-DN_1.x')().chain, 'CNI-DN_1.x');
  for (const bad of ['A'.repeat(29), '', '-X', 'DNAT', 'ACCEPT', 'MASQUERADE', 'COMMIT', 'a b', 'a/b', 'a"b', 'ä', 'a\nb', '!x']) {
    t.throws(rule(bad), { instanceOf: SpecError, message: /^rule\.chain: expected a chain name of 1-28 characters/ }, JSON.stringify(bad));
  }
});
