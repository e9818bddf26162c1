// host-local ranges and config as data: defaults, validation errors, the round-robin order.
import test from 'ava';
import { bigToIp } from '../../../../lib/ip.js';
import { canonicalize, candidates, type Range } from '../../../../lib/plugins/host-local/range.js';
import { parseConfig } from '../../../../lib/plugins/host-local/config.js';
import { parseEnv } from '../../../../lib/cni/env.js';
import { parseResolvConf } from '../../../../lib/plugins/host-local/dns.js';

const show = (r: Range) => ({ start: bigToIp(r.start, r.family), end: bigToIp(r.end, r.family), gw: bigToIp(r.gateway, r.family) });

test('defaults: gateway and start .1, end before broadcast (IPv4) or the last address (IPv6)', (t) => {
  t.deepEqual(show(canonicalize({ subnet: '10.1.2.0/24' }, 'ipam')), { start: '10.1.2.1', end: '10.1.2.254', gw: '10.1.2.1' });
  t.deepEqual(show(canonicalize({ subnet: 'fd00::/120' }, 'ipam')), { start: 'fd00::1', end: 'fd00::ff', gw: 'fd00::1' });
  t.deepEqual(show(canonicalize({ subnet: '10.1.2.0/24', rangeStart: '10.1.2.10', rangeEnd: '10.1.2.20', gateway: '10.1.2.254' }, 'ipam')), {
    start: '10.1.2.10',
    end: '10.1.2.20',
    gw: '10.1.2.254',
  });
  // As the reference: a gateway outside the subnet is taken as written (an on-link router elsewhere).
  t.is(show(canonicalize({ subnet: '10.1.2.0/24', gateway: '10.9.9.1' }, 'ipam')).gw, '10.9.9.1');
});

test('validation errors name the field', (t) => {
  t.regex(t.throws(() => canonicalize({ subnet: '10.0.0.0/31' }, 'ipam'))!.message, /^ipam.subnet: expected a network with room/);
  t.regex(t.throws(() => canonicalize({ subnet: '10.0.0.0/24', rangeEnd: '10.0.1.1' }, 'ipam'))!.message, /^ipam.rangeEnd: expected an address in 10.0.0.0\/24/);
  // The reference's refusal of a subnet with host bits, in its words.
  t.is(
    t.throws(() => canonicalize({ subnet: '10.1.2.7/24' }, 'ipam'))!.message,
    'ipam.subnet: expected a network address: network has host bits set. For a subnet mask of length 24 the network address is 10.1.2.0, got "10.1.2.7/24"',
  );
  t.regex(t.throws(() => canonicalize({ subnet: '10.0.0.0/24', rangeStart: 'fd00::1' }, 'ipam'))!.message, /^ipam.rangeStart: expected an IPv4 address/);
  t.regex(t.throws(() => canonicalize({ subnet: 'nope' }, 'ipam'))!.message, /^ipam.subnet: expected an address/);
  t.regex(t.throws(() => canonicalize({ subnet: '10.0.0.0/24', rangeStart: '10.0.0.9', rangeEnd: '10.0.0.5' }, 'ipam'))!.message, /rangeStart: expected an address not after rangeEnd/);
});

test('candidates: after the last reserved address, wrapping, skipping the gateway, each once', (t) => {
  const r = canonicalize({ subnet: '10.0.0.0/29' }, 'ipam'); // .1 (gw) .. .6
  const walk = (last?: bigint) => [...candidates([r], last)].map((c) => bigToIp(c.ip, 4));
  t.deepEqual(walk(), ['10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6']);
  t.deepEqual(walk(r.start + 3n), ['10.0.0.5', '10.0.0.6', '10.0.0.2', '10.0.0.3', '10.0.0.4']);
  t.deepEqual(walk(r.end), ['10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6']);
  const r2 = canonicalize({ subnet: '10.0.1.0/30' }, 'ipam'); // .1 (gw) .. .2
  t.deepEqual([...candidates([r, r2], r.end)].map((c) => bigToIp(c.ip, 4)), ['10.0.1.2', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6']);
});

const env = (args?: string) => parseEnv({ CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c', CNI_NETNS: '/x', CNI_IFNAME: 'eth0', CNI_PATH: '/p', CNI_ARGS: args });

test('config: subnet and ranges combine; requested IPs from CNI_ARGS, args.cni.ips and runtimeConfig.ips', (t) => {
  const c = parseConfig(
    {
      cniVersion: '1.0.0',
      name: 'n',
      type: 'x',
      ipam: { subnet: '10.0.0.0/24', ranges: [[{ subnet: 'fd00::/64' }]] },
      args: { cni: { ips: ['10.0.0.7'] } },
      runtimeConfig: { ips: ['fd00::7/64'] },
    },
    env('IP=10.0.0.5'),
  );
  t.is(c.rangeSets.length, 2);
  t.deepEqual(c.requested.map((r) => r.text.split('/')[0]), ['10.0.0.5', '10.0.0.7', 'fd00::7']);
  t.is(c.dataDir, '/var/lib/cni/networks');
});

test('config errors: missing ipam, no ranges, overlaps, unknown CNI_ARGS, two v4 sets on 0.2.0', (t) => {
  const base = { cniVersion: '1.0.0', name: 'n', type: 'x' };
  t.regex(t.throws(() => parseConfig(base, env()))!.message, /^ipam: expected an object/);
  t.regex(t.throws(() => parseConfig({ ...base, ipam: {} }, env()))!.message, /no IP ranges specified/);
  t.regex(t.throws(() => parseConfig({ ...base, ipam: { subnet: '10.0.0.0/24', ranges: [[{ subnet: '10.0.0.0/25' }]] } }, env()))!.message, /overlaps/);
  t.regex(t.throws(() => parseConfig({ ...base, ipam: { subnet: '10.0.0.0/24' } }, env('FOO=1')))!.message, /unknown key "FOO"/);
  t.notThrows(() => parseConfig({ ...base, ipam: { subnet: '10.0.0.0/24' } }, env('IgnoreUnknown=1;FOO=1')));
  t.regex(
    t.throws(() => parseConfig({ ...base, cniVersion: '0.2.0', ipam: { subnet: '10.0.0.0/24', ranges: [[{ subnet: '10.1.0.0/24' }]] } }, env()))!.message,
    /does not support more than 1 address per family/,
  );
  t.regex(t.throws(() => parseConfig({ ...base, ipam: { subnet: '10.0.0.0/24' }, args: { cni: { ips: ['x'] } } }, env()))!.message, /^args.cni.ips\[0\]: expected an IPv4 or IPv6 address/);
});

test('resolv.conf parsing', (t) => {
  t.deepEqual(parseResolvConf('# c\nnameserver 10.0.0.1\nnameserver 10.0.0.2\ndomain a.b\nsearch a.b c.d\noptions ndots:2 edns0\n'), {
    nameservers: ['10.0.0.1', '10.0.0.2'],
    domain: 'a.b',
    search: ['a.b', 'c.d'],
    options: ['ndots:2', 'edns0'],
  });
});
