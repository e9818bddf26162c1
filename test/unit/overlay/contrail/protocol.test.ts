// The master's Contrail request bodies for policies (and the CLI's rule syntax that makes them):
// defaults, every bad field a 400 naming it.
import test from 'ava';
import { parseDetachBody, parsePolicyBody, parsePoolBody } from '../../../../lib/overlay/master/contrail/protocol.js';
import { parsePolicyRuleSpec, parseRuleSpec } from '../../../../lib/cli/contrail.js';

test('a policy body: networks and rules as fq-names or any; direction defaults to both ways, protocol to any', (t) => {
  t.deepEqual(parsePolicyBody({ fq: 'd:p:web', networks: ['d:p:red', 'd:p:blue'], rules: [{ src: 'd:p:red', dst: 'any' }, { direction: '>', protocol: 'tcp', src: 'any', dst: 'd:p:blue', ports: 80 }] }), {
    fq: 'd:p:web',
    networks: ['d:p:red', 'd:p:blue'],
    rules: [
      { direction: '<>', protocol: 'any', src: 'd:p:red', dst: 'any' },
      { direction: '>', protocol: 'tcp', src: 'any', dst: 'd:p:blue', ports: '80' },
    ],
  });
});

test('a bad policy body names the field', (t) => {
  const rule = { src: 'd:p:a', dst: 'd:p:b' };
  const cases: [unknown, RegExp][] = [
    [{ fq: 'web' }, /^fq: expected domain:project:policy/],
    [{ fq: 'd:p:w', networks: 'd:p:a' }, /^networks: expected an array/],
    [{ fq: 'd:p:w', networks: ['a'] }, /^networks\[0\]: expected domain:project:network/],
    [{ fq: 'd:p:w', rules: {} }, /^rules: expected an array/],
    [{ fq: 'd:p:w', rules: [{ ...rule, direction: '<' }] }, /^rules\[0\]\.direction: expected ">" \(src to dst\) or "<>"/],
    [{ fq: 'd:p:w', rules: [{ ...rule, src: 'red' }] }, /^rules\[0\]\.src: expected domain:project:network/],
    [{ fq: 'd:p:w', rules: [{ src: 'd:p:a' }] }, /^rules\[0\]\.dst: expected an fq-name string/],
    [{ fq: 'd:p:w', rules: [{ ...rule, protocol: 'sctp' }] }, /^rules\[0\]\.protocol: expected one of any, tcp, udp, icmp/],
    [{ fq: 'd:p:w', rules: [{ ...rule, protocol: 'icmp', ports: '80' }] }, /^rules\[0\]\.ports: only for protocol tcp or udp/],
    [{ fq: 'd:p:w', rules: [{ ...rule, protocol: 'tcp', ports: '90-80' }] }, /^rules\[0\]\.ports: expected a port 1-65535 or a range/],
    [{ fq: 'd:p:w', rules: [{ ...rule, src_ports: '80' }] }, /^rules\[0\]\.src_ports: not supported/],
    [{ fq: 'd:p:w', rules: [{ ...rule, action_list: { simple_action: 'deny' } }] }, /^rules\[0\]\.action_list: not supported/],
  ];
  for (const [body, re] of cases) t.throws(() => parsePolicyBody(body), { message: re }, JSON.stringify(body));
});

test('a host interface or container interface name is one the kernel takes as itself, said as the netlink library says it', (t) => {
  const pool = { fq: 'd:p:n:pool', subnet: '192.0.2.0/24' };
  t.is(parsePoolBody({ ...pool, interface: 'eth0' }).interface, 'eth0');
  t.deepEqual(parseDetachBody({ container_id: 'c1', ifname: 'eth0' }), { container_id: 'c1', ifname: 'eth0' });
  for (const bad of ['eth0/x', 'veth%d', 'a b', '\x07', 'all', '..', 'sixteen-chars-xx']) {
    t.throws(() => parsePoolBody({ ...pool, interface: bad }), { message: `interface: expected an interface name of 1-15 characters without '/', ':', '%', whitespace or control characters (and not all or default), got ${JSON.stringify(bad)}` });
    t.throws(() => parseDetachBody({ container_id: 'c1', ifname: bad }), { message: /^ifname: expected an interface name of 1-15 characters/ });
  }
});

test('the CLI rule syntax', (t) => {
  t.deepEqual(parsePolicyRuleSpec('<> tcp d:p:a d:p:b 8000-8100'), { direction: '<>', protocol: 'tcp', src: 'd:p:a', dst: 'd:p:b', ports: '8000-8100' });
  t.deepEqual(parsePolicyRuleSpec('> any any d:p:b'), { direction: '>', protocol: 'any', src: 'any', dst: 'd:p:b' });
  t.deepEqual(parseRuleSpec('ingress tcp 80 cidr=10.0.0.0/8'), { direction: 'ingress', protocol: 'tcp', ports: '80', remote: { cidr: '10.0.0.0/8' } });
});
