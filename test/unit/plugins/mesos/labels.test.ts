// The mesos plugin's label rewrite as data: network_info labels + delegate → the delegate's config.
import test from 'ava';
import type { NetConf } from '../../../../lib/cni/config.js';
import { CniError } from '../../../../lib/cni/errors.js';
import { parseConfig } from '../../../../lib/plugins/mesos/config.js';
import { parseCniArgsLabel, rewriteDelegate } from '../../../../lib/plugins/mesos/labels.js';

type Labels = { key: string; value?: string }[];
const mesosArgs = (labels: Labels) => ({ 'org.apache.mesos': { network_info: { name: 'test-delegate', labels: { labels } } } });

/** The README's config (plugins/meta/mesos/README.md), with the labels Mesos would add. */
function readme(labels: Labels, extra: Record<string, unknown> = {}): NetConf {
  return {
    name: 'test-delegate',
    type: 'mesos',
    MyAwesomeFlag: false,
    AnotherAwesomeArg: 'qwerqwer',
    delegate: {
      type: 'macvtap',
      master: 'eth1',
      hostrouteif: 'macvtap0',
      ipam: { type: 'host-local', subnet: '192.168.122.0/24', rangeStart: '192.168.122.171', rangeEnd: '192.168.122.179', routes: [{ dst: '192.168.122.22/32', gw: '0.0.0.0' }] },
      dns: { nameservers: ['192.168.10.10'] },
      args: { test: { rs: ['192.168.10.10'] }, cni: { test: ['192.168.122.172'] } },
    },
    args: mesosArgs(labels),
    ...extra,
  };
}

const rewrite = (conf: NetConf, lenient = false) => rewriteDelegate(parseConfig(conf), { lenient });
const delegateOf = (conf: NetConf) => rewrite(conf).delegate;

test('README: CNI_ARGS=IP=192.168.122.176 becomes args.cni.ips; every other args key survives; name copied', (t) => {
  const conf = readme([{ key: 'CNI_ARGS', value: 'IP=192.168.122.176' }]);
  const d = delegateOf(conf);
  t.deepEqual(d, {
    type: 'macvtap',
    master: 'eth1',
    hostrouteif: 'macvtap0',
    ipam: { type: 'host-local', subnet: '192.168.122.0/24', rangeStart: '192.168.122.171', rangeEnd: '192.168.122.179', routes: [{ dst: '192.168.122.22/32', gw: '0.0.0.0' }] },
    dns: { nameservers: ['192.168.10.10'] },
    // args.cni.test is kept (upstream dropped it, contradicting its own README).
    args: { ...mesosArgs([{ key: 'CNI_ARGS', value: 'IP=192.168.122.176' }]), test: { rs: ['192.168.10.10'] }, cni: { test: ['192.168.122.172'], ips: ['192.168.122.176'] } },
    name: 'test-delegate',
  });
  t.false('cniVersion' in d, 'no cniVersion to copy: the delegate answers in the legacy form Mesos reads');
  t.false('MyAwesomeFlag' in d);
  t.is((conf.delegate as { args: { cni: Record<string, unknown> } }).args.cni.ips, undefined, 'the input is not mutated');
});

test('cniVersion is copied when set; otherwise the delegate keeps its own', (t) => {
  t.is(delegateOf(readme([], { cniVersion: '0.4.0' })).cniVersion, '0.4.0');
  const conf = readme([]);
  (conf.delegate as Record<string, unknown>).cniVersion = '0.3.1';
  t.is(delegateOf(conf).cniVersion, '0.3.1');
});

test('existing args.cni.ips are kept, label IPs appended after them, an address already listed is not repeated', (t) => {
  const conf = readme([{ key: 'CNI_ARGS', value: 'IP=192.168.122.176;IP=192.168.122.172' }]);
  (conf.delegate as { args: { cni: Record<string, unknown> } }).args.cni.ips = ['192.168.122.172', '10.1.0.9'];
  t.deepEqual((delegateOf(conf).args as { cni: { ips: string[] } }).cni.ips, ['192.168.122.172', '10.1.0.9', '192.168.122.176']);
});

test('CNI_ARGS: several IP= elements (IPv4 and IPv6), other keys ignored, spaces and a trailing ";" tolerated', (t) => {
  const r = parseCniArgsLabel(' IP=10.0.0.5 ;FOO=bar;IP=FD00::0005; K8S_POD_NAME=x;');
  t.deepEqual(r, { ips: ['10.0.0.5', 'fd00::5'], subnet: undefined, errors: [] });
  const d = delegateOf(readme([{ key: 'CNI_ARGS', value: 'IP=10.0.0.5;FOO=b;IP=10.0.0.6' }]));
  t.deepEqual((d.args as { cni: { ips: string[] } }).cni.ips, ['10.0.0.5', '10.0.0.6']);
});

test('IP=<cidr> requests the address and sets args.cni.subnet as a CIDR string (the last one wins)', (t) => {
  t.deepEqual(parseCniArgsLabel('IP=10.0.0.5/24'), { ips: ['10.0.0.5'], subnet: '10.0.0.0/24', errors: [] });
  t.deepEqual(parseCniArgsLabel('IP=10.0.0.5/24;IP=fd00:1::7/64'), { ips: ['10.0.0.5', 'fd00:1::7'], subnet: 'fd00:1::/64', errors: [] });
  const d = delegateOf(readme([{ key: 'CNI_ARGS', value: 'IP=192.168.122.176/24' }]));
  t.deepEqual((d.args as { cni: unknown }).cni, { test: ['192.168.122.172'], ips: ['192.168.122.176'], subnet: '192.168.122.0/24' });
});

test('malformed IP= elements are refused with the element named, never turned into an empty address', (t) => {
  const cases: [string, RegExp][] = [
    ['IP=', /^label CNI_ARGS: element "IP=": expected IP=<address> or IP=<address>\/<prefix>, not an empty value$/],
    ['IP', /^label CNI_ARGS: element "IP": expected IP=<address>/],
    ['IP=192.168.122.300', /^label CNI_ARGS: element "IP=192.168.122.300": expected an IPv4 or IPv6 address, optionally with a \/prefix/],
    ['IP=10.0.0.5/33', /element "IP=10.0.0.5\/33"/],
    ['IP=10.0.0.5/', /element "IP=10.0.0.5\/"/],
    ['IP=fe80::1%eth0', /element "IP=fe80::1%eth0"/],
  ];
  for (const [value, re] of cases) {
    const e = t.throws(() => rewrite(readme([{ key: 'CNI_ARGS', value }])), { instanceOf: CniError }, value);
    t.is(e!.code, 7, value);
    t.regex(e!.message, re, value);
  }
});

test('lenient (DEL): malformed elements are skipped and noted, valid ones still applied', (t) => {
  const r = rewrite(readme([{ key: 'CNI_ARGS', value: 'IP=10.0.0.5;IP=;IP=nope' }]), true);
  t.deepEqual((r.delegate.args as { cni: { ips: string[] } }).cni.ips, ['10.0.0.5']);
  t.is(r.notes.filter((n) => n.startsWith('skipped: label CNI_ARGS')).length, 2);
});

test('vendorid/userid/clientid go into delegate.ipam; env and hostname are not applied', (t) => {
  const labels = [
    { key: 'vendorid', value: 'v1' },
    { key: 'userid', value: 'u1' },
    { key: 'clientid', value: 'c1' },
    { key: 'env', value: 'PATH=/evil' },
    { key: 'hostname', value: 'h' },
    { key: 'app', value: 'web' },
  ];
  const before = { ...process.env };
  const r = rewrite(readme(labels));
  t.like(r.delegate.ipam, { type: 'host-local', vendorid: 'v1', userid: 'u1', clientid: 'c1' });
  t.deepEqual({ ...process.env }, before, 'no label reaches the process environment');
  const { args: _passedThrough, ...rest } = r.delegate;
  t.false(JSON.stringify(rest).includes('/evil'), 'the env label is only in the network_info passed through');
  t.deepEqual(r.notes, ['label env: not applied (by design)', 'label hostname: not applied (by design)']);
  const noIpam = readme([{ key: 'vendorid', value: 'v1' }]);
  delete (noIpam.delegate as Record<string, unknown>).ipam;
  const r2 = rewrite(noIpam);
  t.false('ipam' in r2.delegate);
  t.deepEqual(r2.notes, ['label vendorid: not applied: the delegate has no ipam']);
});

test('without labels or Mesos args: nothing invented (no args, no ips: null), prevResult and runtimeConfig passed on', (t) => {
  const d = delegateOf({ name: 'n', type: 'mesos', delegate: { type: 'bridge' } });
  t.deepEqual(d, { type: 'bridge', name: 'n' });
  const prev = { cniVersion: '1.0.0', ips: [{ address: '10.0.0.2/24' }] };
  const d2 = delegateOf({ cniVersion: '1.0.0', name: 'n', type: 'mesos', delegate: { type: 'bridge' }, prevResult: prev, runtimeConfig: { mac: '02:00:00:00:00:01' } });
  t.deepEqual(d2, { type: 'bridge', name: 'n', cniVersion: '1.0.0', prevResult: prev, runtimeConfig: { mac: '02:00:00:00:00:01' } });
  t.not(d2.prevResult, prev, 'a copy, not nested one level too deep as upstream did');
});

test('the network args flow through; the delegate\'s own keys win', (t) => {
  const d = delegateOf({ name: 'n', type: 'mesos', args: { a: 1, cni: { ips: ['10.0.0.9'] } }, delegate: { type: 'x', args: { a: 2 } } });
  t.deepEqual(d.args, { a: 2, cni: { ips: ['10.0.0.9'] } });
});

test('config errors name the field and the expectation', (t) => {
  const cases: [NetConf, string][] = [
    [{ type: 'mesos', delegate: { type: 'x' } }, 'name: expected a network name, got undefined'],
    [{ name: 'n', type: 'mesos' }, 'delegate: expected an object: the config of the plugin to run, got undefined'],
    [{ name: 'n', type: 'mesos', delegate: { master: 'eth1' } }, 'delegate.type: expected a string naming the plugin to run, got undefined'],
    [{ name: 'n', type: 'mesos', delegate: { type: 5 } }, 'delegate.type: expected a string naming the plugin to run, got 5'],
    [{ name: 'n', type: 'mesos', delegate: { type: 'x', name: 'other' } }, 'delegate.name: expected no name: the delegate runs under the network\'s name "n", got "other"'],
    [{ name: 'n', type: 'mesos', delegate: { type: 'x', ipam: 'host-local' } }, 'delegate.ipam: expected an object, got "host-local"'],
    [{ name: 'n', type: 'mesos', delegate: { type: 'x', args: { cni: { ips: '10.0.0.1' } } } }, 'delegate.args.cni.ips: expected an array of IP address strings, got "10.0.0.1"'],
    [{ name: 'n', type: 'mesos', delegate: { type: 'x', args: { cni: [] } } }, 'delegate.args.cni: expected an object, got []'],
    [{ name: 'n', type: 'mesos', delegate: { type: 'x' }, args: { 'org.apache.mesos': { network_info: { labels: { labels: {} } } } } }, 'args.org.apache.mesos.network_info.labels.labels: expected an array of {key, value}, got {}'],
    [{ name: 'n', type: 'mesos', delegate: { type: 'x' }, args: mesosArgs([{ value: 'v' } as never]) }, 'args.org.apache.mesos.network_info.labels.labels[0].key: expected a string, got undefined'],
    [{ name: 'n', type: 'mesos', delegate: { type: 'x' }, args: mesosArgs([{ key: 'k', value: 3 } as never]) }, 'args.org.apache.mesos.network_info.labels.labels[0].value: expected a string, got 3'],
  ];
  for (const [conf, msg] of cases) {
    const e = t.throws(() => parseConfig(conf), { instanceOf: CniError });
    t.is(e!.message, msg);
    t.is(e!.code, 7);
  }
});

test('a label without a value: CNI_ARGS requests nothing; the IPAM labels are noted, not set to ""', (t) => {
  const r = rewrite(readme([{ key: 'CNI_ARGS' }, { key: 'clientid' }]));
  t.is((r.delegate.args as { cni: { ips?: unknown } }).cni.ips, undefined);
  t.false('clientid' in (r.delegate.ipam as object));
  t.deepEqual(r.notes, ['label clientid: not applied: no value']);
});
