// dcos-l4lb config as data: upstream's per-field defaults (its test table's entries), the bare
// booleans, the delegate rewrite (our name, cniVersion and args win), the spartan IPAM network,
// and every refused field named with what was expected.
import test from 'ava';
import { CniError } from '../../../../lib/cni/errors.js';
import type { NetConf } from '../../../../lib/cni/config.js';
import { DEFAULT_MINUTEMAN_PATH, parseConfig } from '../../../../lib/plugins/dcos-l4lb/config.js';
import { ipamConf, spartanRoutes } from '../../../../lib/plugins/dcos-l4lb/spartan.js';

const DELEGATE = { type: 'bridge', bridge: 'mesos-cni0', ipMasq: true, mtu: 5000, ipam: { type: 'host-local', subnet: '10.1.2.0/24' } };
const base = (extra: Record<string, unknown> = {}): NetConf => ({ cniVersion: '0.2.0', name: 'spartan-net', type: 'dcos-l4lb', delegate: DELEGATE, ...extra });

function refused(c: NetConf): [number, string] {
  try {
    parseConfig(c);
  } catch (e) {
    if (e instanceof CniError) return [e.code, e.msg];
    throw e;
  }
  throw new Error('expected the config to be refused');
}

test('Default values: spartan and minuteman enabled, minuteman path /var/run/dcos/cni/l4lb', (t) => {
  const c = parseConfig(base());
  t.deepEqual(c.spartan, { enable: true, dataDir: undefined });
  t.deepEqual(c.minuteman, { enable: true, path: DEFAULT_MINUTEMAN_PATH });
  t.is(DEFAULT_MINUTEMAN_PATH, '/var/run/dcos/cni/l4lb');
  t.is(c.delegateType, 'bridge');
});

test('Explicit values: a partial object keeps the other defaults (minuteman.enable stays true)', (t) => {
  const c = parseConfig(base({ spartan: { enable: true }, minuteman: { path: '/tmp/minuteman_cni_test' } }));
  t.deepEqual(c.spartan, { enable: true, dataDir: undefined });
  t.deepEqual(c.minuteman, { enable: true, path: '/tmp/minuteman_cni_test' });
});

test('Spartan Disabled: spartan off, minuteman on', (t) => {
  const c = parseConfig(base({ spartan: { enable: false }, minuteman: { enable: true } }));
  t.false(c.spartan.enable);
  t.true(c.minuteman.enable);
});

test('bare booleans (what the upstream README documents) mean enable; null and "" mean the default', (t) => {
  const c = parseConfig(base({ spartan: false, minuteman: true }));
  t.false(c.spartan.enable);
  t.deepEqual(c.minuteman, { enable: true, path: DEFAULT_MINUTEMAN_PATH });
  const d = parseConfig(base({ spartan: null, minuteman: { enable: null, path: '' } }));
  t.true(d.spartan.enable);
  t.deepEqual(d.minuteman, { enable: true, path: DEFAULT_MINUTEMAN_PATH });
  t.false(parseConfig(base({ minuteman: false })).minuteman.enable);
});

test('spartan.dataDir is where host-local keeps the spartan-network lease', (t) => {
  const c = parseConfig(base({ spartan: { dataDir: '/tmp/leases' } }));
  t.deepEqual(ipamConf(c.spartan), {
    name: 'spartan-network',
    type: 'host-local',
    ipam: { type: 'host-local', rangeStart: '198.51.100.10', rangeEnd: '198.51.100.253', subnet: '198.51.100.0/24', dataDir: '/tmp/leases' },
  });
  // No cniVersion, as upstream: every host-local answers the legacy version.
  t.false('cniVersion' in ipamConf(parseConfig(base()).spartan));
  t.false('dataDir' in (ipamConf(parseConfig(base()).spartan).ipam as object));
});

test('the four spartan routes, scope link, with the lease as source', (t) => {
  t.deepEqual(
    spartanRoutes('198.51.100.10').map((r) => `${r.dst} dev ${r.dev} scope ${r.scope} src ${r.src}`),
    [1, 2, 3, 4].map((i) => `198.51.100.${i}/32 dev spartan scope link src 198.51.100.10`),
  );
});

test('the delegate gets our name, cniVersion and args over its own; the rest untouched', (t) => {
  const args = { 'org.apache.mesos': { network_info: { name: 'spartan-net' } } };
  const c = parseConfig(base({ args, delegate: { ...DELEGATE, name: 'theirs', cniVersion: '1.0.0', args: { x: 1 } } }));
  t.deepEqual(c.delegate, { ...DELEGATE, name: 'spartan-net', cniVersion: '0.2.0', args });
  // Ours absent: theirs removed too (upstream sends "" and null, which mean the same).
  const { cniVersion: _v, ...noVersion } = base({ delegate: { ...DELEGATE, cniVersion: '1.0.0', args: { x: 1 } } });
  const d = parseConfig(noVersion as NetConf);
  t.deepEqual(d.delegate, { ...DELEGATE, name: 'spartan-net' });
  t.is(d.cniVersion, undefined);
  // The caller's object is not modified.
  t.deepEqual(DELEGATE, { type: 'bridge', bridge: 'mesos-cni0', ipMasq: true, mtu: 5000, ipam: { type: 'host-local', subnet: '10.1.2.0/24' } });
});

test('mtu is accepted (upstream parses it and never uses it)', (t) => {
  t.notThrows(() => parseConfig(base({ mtu: 1500 })));
  t.notThrows(() => parseConfig(base({ mtu: 0 })));
});

test('refused fields are named with what was expected (code 7)', (t) => {
  const name = 'name: expected a network name of letters, digits, _ . - (the delegate gets it too), got';
  t.deepEqual(refused(base({ name: undefined })), [7, `${name} undefined`]);
  t.deepEqual(refused(base({ name: '' })), [7, `${name} ""`]);
  // It names a directory of records (the reliability fuzzer's NUL made DEL fail on the path): no
  // NUL, no `/`, no `..`, as the spec's network names.
  t.deepEqual(refused(base({ name: 'a\u0000b' })), [7, `${name} "a\\u0000b"`]);
  t.deepEqual(refused(base({ name: '../../etc' })), [7, `${name} "../../etc"`]);
  t.deepEqual(refused(base({ name: '..' })), [7, `${name} ".."`]);
  t.deepEqual(refused(base({ name: 'a/b' })), [7, `${name} "a/b"`]);
  t.deepEqual(refused(base({ delegate: undefined })), [7, 'delegate: expected the delegate network config (an object with "type"), got undefined']);
  t.deepEqual(refused(base({ delegate: [DELEGATE] })), [7, `delegate: expected the delegate network config (an object with "type"), got ${JSON.stringify([DELEGATE])}`]);
  t.deepEqual(refused(base({ delegate: { bridge: 'x' } })), [7, 'delegate.type: expected a string naming the delegate plugin, got undefined']);
  t.deepEqual(refused(base({ delegate: { type: 5 } })), [7, 'delegate.type: expected a string naming the delegate plugin, got 5']);
  t.deepEqual(refused(base({ spartan: 'yes' })), [7, 'spartan: expected true, false or an object like {"enable": true}, got "yes"']);
  t.deepEqual(refused(base({ spartan: { enable: 'true' } })), [7, 'spartan.enable: expected true or false, got "true"']);
  t.deepEqual(refused(base({ spartan: { dataDir: 'leases' } })), [7, 'spartan.dataDir: expected an absolute directory path, got "leases"']);
  t.deepEqual(refused(base({ minuteman: [] })), [7, 'minuteman: expected true, false or an object like {"enable": true}, got []']);
  t.deepEqual(refused(base({ minuteman: { enable: 1 } })), [7, 'minuteman.enable: expected true or false, got 1']);
  t.deepEqual(refused(base({ minuteman: { path: 'relative/dir' } })), [7, 'minuteman.path: expected an absolute directory path, got "relative/dir"']);
  t.deepEqual(refused(base({ minuteman: { path: 42 } })), [7, 'minuteman.path: expected an absolute directory path, got 42']);
  t.deepEqual(refused(base({ mtu: 'big' })), [7, 'mtu: expected a non-negative integer (accepted for compatibility; unused), got "big"']);
  t.deepEqual(refused(base({ mtu: -1 })), [7, 'mtu: expected a non-negative integer (accepted for compatibility; unused), got -1']);
});
