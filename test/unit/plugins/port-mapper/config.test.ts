// mesos-cni-port-mapper config, port mappings and preflight as data: upstream's defaults, check
// order, exact error texts and codes; our additions (names validated, runtimeConfig, snat).
import test from 'ava';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CniError } from '../../../../lib/cni/errors.js';
import { parseConfig } from '../../../../lib/plugins/port-mapper/config.js';
import { fromNetworkInfo, fromRuntimeConfig } from '../../../../lib/plugins/port-mapper/mappings.js';
import { preflight, whichSync } from '../../../../lib/plugins/port-mapper/preflight.js';

const base = (extra: Record<string, unknown> = {}) => ({
  name: 'port-mapper-test',
  type: 'mesos-cni-port-mapper',
  chain: 'MESOS-TEST-PORT-MAPPER',
  excludeDevices: ['mesos-cni0'],
  delegate: { type: 'bridge', bridge: 'mesos-cni0', ipam: { type: 'host-local', subnet: '192.168.0.0/16' } },
  ...extra,
});
const withInfo = (info: unknown, extra: Record<string, unknown> = {}) => base({ args: { 'org.apache.mesos': { network_info: info } }, ...extra });

/** The error a config gets: [code, msg]. */
function refused(c: Record<string, unknown>): [number, string] {
  const e = t0(() => parseConfig(c));
  return [e.code, e.msg];
}
function t0(fn: () => unknown): CniError {
  try {
    fn();
  } catch (e) {
    if (e instanceof CniError) return e;
    throw e;
  }
  throw new Error('expected a CniError');
}

test('defaults: no args → a synthesized empty network_info, sent to the delegate with name; cniVersion not forwarded', (t) => {
  const c = parseConfig({ ...base(), cniVersion: '0.3.1' });
  t.is(c.chain, 'MESOS-TEST-PORT-MAPPER');
  t.deepEqual(c.excludeDevices, ['mesos-cni0']);
  t.false(c.snat);
  t.deepEqual(c.mappings, []);
  t.is(c.cniVersion, '0.3.1');
  t.is(c.delegateType, 'bridge');
  t.deepEqual(c.delegate, {
    type: 'bridge',
    bridge: 'mesos-cni0',
    ipam: { type: 'host-local', subnet: '192.168.0.0/16' },
    name: 'port-mapper-test',
    args: { 'org.apache.mesos': { network_info: {} } },
  });
  t.false('cniVersion' in c.delegate);
  const inner = parseConfig(base({ delegate: { type: 'bridge', cniVersion: '0.2.0', name: 'other', args: { x: 1 } } }));
  t.is(inner.delegate.cniVersion, '0.2.0', 'a cniVersion inside delegate stays');
  t.is(inner.delegate.name, 'port-mapper-test', 'name is overwritten');
  t.deepEqual(inner.delegate.args, { 'org.apache.mesos': { network_info: {} } }, 'args are overwritten');
  t.deepEqual(parseConfig({ ...base(), excludeDevices: undefined }).excludeDevices, []);
});

test('Mesos port_mappings: protocol lower-cased, default tcp; other args keys reach the delegate', (t) => {
  const args = { 'org.apache.mesos': { network_info: { name: 'n', port_mappings: [{ host_port: 8080, container_port: 80 }, { host_port: 53, container_port: 5353, protocol: 'UDP' }] } }, other: 'kept' };
  const c = parseConfig(base({ args }));
  t.deepEqual(c.mappings, [
    { hostPort: 8080, containerPort: 80, protocol: 'tcp' },
    { hostPort: 53, containerPort: 5353, protocol: 'udp' },
  ]);
  t.deepEqual(c.delegate.args, args);
});

test('upstream config error texts, in upstream order, all code 101', (t) => {
  const { name: _n, ...noName } = base();
  t.deepEqual(refused(noName), [101, "Failed to get the required field 'name': Not found"]);
  t.deepEqual(refused(base({ name: 7 })), [101, "Failed to get the required field 'name': Found JSON value of wrong type"]);
  t.deepEqual(refused(base({ name: null, chain: null })), [101, "Failed to get the required field 'name': Not found"], 'null is absent to stout');
  t.deepEqual(refused(base({ chain: undefined })), [101, "Failed to get the required field 'chain': Not found"]);
  t.deepEqual(refused(base({ chain: ['X'] })), [101, "Failed to get the required field 'chain': Found JSON value of wrong type"]);
  t.deepEqual(refused(base({ excludeDevices: 'eth0' })), [101, "Failed to parse field 'excludeDevices': Found JSON value of wrong type"]);
  t.deepEqual(refused(base({ excludeDevices: ['eth0', 3] })), [101, "Failed to parse 'excludeDevices' list. The excluded device needs to be a string"]);
  t.deepEqual(refused(base({ args: 'x' })), [101, "Failed to get the field 'args': Found JSON value of wrong type"]);
  t.deepEqual(refused(base({ args: {} })), [101, "Failed to get the field 'args{org.apache.mesos}': Not found"]);
  t.deepEqual(refused(base({ args: { 'org.apache.mesos': null } })), [101, "Failed to get the field 'args{org.apache.mesos}': Found JSON value of wrong type"]);
  t.deepEqual(refused(base({ args: { 'org.apache.mesos': {} } })), [101, "Failed to get the field 'args{org.apache.mesos}{network_info}': Not found"]);
  t.deepEqual(refused(base({ args: { 'org.apache.mesos': { network_info: [] } } })), [101, "Failed to get the field 'args{org.apache.mesos}{network_info}': Found JSON value of wrong type"]);
  t.deepEqual(refused(base({ delegate: undefined })), [101, "Failed to get the required field 'delegate'Not found"]);
  t.deepEqual(refused(base({ delegate: 'bridge' })), [101, "Failed to get the required field 'delegate'Found JSON value of wrong type"]);
  t.deepEqual(refused(base({ delegate: {} })), [101, "Failed to get the delegate plugin 'type'Not found"]);
  t.deepEqual(refused(base({ delegate: { type: 1 } })), [101, "Failed to get the delegate plugin 'type'Found JSON value of wrong type"]);
  // Order: name before chain before delegate.
  t.deepEqual(refused({ type: 'x' }), [101, "Failed to get the required field 'name': Not found"]);
  t.deepEqual(refused({ name: 'n' }), [101, "Failed to get the required field 'chain': Not found"]);
});

test('NetworkInfo parse errors read like stout\'s protobuf parser', (t) => {
  const msg = (info: unknown) => refused(withInfo(info))[1];
  t.is(msg({ port_mappings: [{ container_port: 80 }] }), 'Unable to parse `NetworkInfo`: Missing required fields: port_mappings[0].host_port');
  t.is(
    msg({ port_mappings: [{ host_port: 1, container_port: 2 }, {}] }),
    'Unable to parse `NetworkInfo`: Missing required fields: port_mappings[1].host_port, port_mappings[1].container_port',
  );
  t.is(msg({ port_mappings: [{ host_port: '80', container_port: 80 }] }), "Unable to parse `NetworkInfo`: Not expecting a JSON string for field 'host_port'");
  t.is(msg({ port_mappings: [{ host_port: 80, container_port: 80, protocol: 6 }] }), "Unable to parse `NetworkInfo`: Not expecting a JSON number for field 'protocol'");
  t.is(msg({ port_mappings: 5 }), "Unable to parse `NetworkInfo`: Not expecting a JSON number for field 'port_mappings'");
  t.is(msg({ port_mappings: [true] }), "Unable to parse `NetworkInfo`: Not expecting a JSON boolean for field 'port_mappings'");
  // Ours, where upstream would have failed later at iptables (code 103):
  t.is(msg({ port_mappings: [{ host_port: 70000, container_port: 80 }] }), 'Unable to parse `NetworkInfo`: port_mappings[0].host_port: expected a port from 1 to 65535, got 70000');
  t.is(msg({ port_mappings: [{ host_port: 80, container_port: 80, protocol: 'icmp' }] }), 'Unable to parse `NetworkInfo`: port_mappings[0].protocol: expected tcp, udp or sctp, got "icmp"');
  // stout quirks kept: nulls are unset, a bare object is one entry, unknown keys are ignored.
  t.deepEqual(fromNetworkInfo({ port_mappings: [null, { host_port: 1, container_port: 2, protocol: null, x: 1 }] }), [{ hostPort: 1, containerPort: 2, protocol: 'tcp' }]);
  t.deepEqual(fromNetworkInfo({ port_mappings: { host_port: 1, container_port: 2, protocol: 'SCTP' } }), [{ hostPort: 1, containerPort: 2, protocol: 'sctp' }]);
  t.deepEqual(fromNetworkInfo({ port_mappings: null, labels: 'ignored' }), []);
});

test('runtimeConfig.portMappings (the CNI capability) join the Mesos ones; exact duplicates once', (t) => {
  const c = parseConfig(withInfo({ port_mappings: [{ host_port: 8080, container_port: 80 }] }, { runtimeConfig: { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }, { hostPort: 9090, containerPort: 90, protocol: 'udp', hostIP: '::1' }, { hostPort: 1, containerPort: 2, hostIP: '' }] } }));
  t.deepEqual(c.mappings, [
    { hostPort: 8080, containerPort: 80, protocol: 'tcp' },
    { hostPort: 9090, containerPort: 90, protocol: 'udp', hostIP: '::1' },
    { hostPort: 1, containerPort: 2, protocol: 'tcp' },
  ]);
  const e = (v: unknown) => t0(() => fromRuntimeConfig(v));
  t.is(e({}).msg, "Failed to parse field 'runtimeConfig.portMappings': expected an array of {hostPort, containerPort, protocol, hostIP}, got {}");
  t.is(e([{ hostPort: 0, containerPort: 1 }]).msg, "Failed to parse field 'runtimeConfig.portMappings': [0].hostPort: expected a port from 1 to 65535, got 0");
  t.is(e([{ hostPort: 1, containerPort: '1' }]).msg, 'Failed to parse field \'runtimeConfig.portMappings\': [0].containerPort: expected a port from 1 to 65535, got "1"');
  t.is(e([{ hostPort: 1, containerPort: 1, hostIP: '10.0.0.0/8' }]).msg, 'Failed to parse field \'runtimeConfig.portMappings\': [0].hostIP: expected an IP address, got "10.0.0.0/8"');
  t.is(e([{ hostPort: 1, containerPort: 1, hostIP: 'x' }]).code, 101);
  t.deepEqual(refused(base({ runtimeConfig: 3 })), [101, "Failed to parse field 'runtimeConfig': expected an object, got 3"]);
});

test('snat: a boolean, default false', (t) => {
  t.true(parseConfig(base({ snat: true })).snat);
  t.deepEqual(refused(base({ snat: 'yes' })), [101, 'Failed to parse field \'snat\': expected true or false, got "yes"']);
});

test('injection through chain or device names is refused before any rule is built', (t) => {
  for (const chain of ['M-DCOS\n-A INPUT -j ACCEPT', 'a b', '"x"', '-j', 'PREROUTING', 'POSTROUTING', 'DNAT', 'X'.repeat(29), '']) {
    const [code, msg] = refused(base({ chain }));
    t.is(code, 101, JSON.stringify(chain));
    t.true(msg.startsWith("Failed to parse field 'chain': expected"), msg);
  }
  for (const dev of ['eth0 -j ACCEPT', 'eth0"', 'a\nb', 'x'.repeat(16), '', '..', 'eth0\\']) {
    const [code, msg] = refused(base({ excludeDevices: [dev] }));
    t.is(code, 101, JSON.stringify(dev));
    t.true(msg.startsWith("Failed to parse 'excludeDevices' list. excludeDevices[0]: expected an interface name"), msg);
  }
  t.deepEqual(parseConfig(base({ excludeDevices: ['cali+', 'ucr-br0', 'cali+'] })).excludeDevices, ['cali+', 'ucr-br0'], 'wildcards pass, repeats once');
});

test('preflight: upstream env texts in order (101), JSON text, delegate lookup, unsupported command (104)', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mcni-pm-unit-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'bridge'), '#!/bin/sh\n');
  chmodSync(join(dir, 'bridge'), 0o755);
  writeFileSync(join(dir, 'noexec'), '');
  const stdin = Buffer.from(JSON.stringify(base()));
  const full = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', CNI_NETNS: '/run/netns/x', CNI_IFNAME: 'eth0', CNI_PATH: `/nonexistent:${dir}` };
  const err = (env: Record<string, string | undefined>, body: Buffer = stdin) => {
    const e = t0(() => preflight(env, body));
    return [e.code, e.msg];
  };
  t.notThrows(() => preflight(full, stdin));
  t.deepEqual(err({}), [101, "Unable to find environment variable 'CNI_COMMAND'"]);
  t.deepEqual(err({ CNI_COMMAND: 'ADD' }), [101, "Unable to find environment variable 'CNI_CONTAINERID'"]);
  t.deepEqual(err({ CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c' }), [101, "Unable to find environment variable 'CNI_NETNS' for non-'DEL' command"]);
  t.deepEqual(err({ CNI_COMMAND: 'DEL', CNI_CONTAINERID: 'c' }), [101, "Unable to find environment variable 'CNI_IFNAME'"], 'DEL needs no CNI_NETNS');
  t.deepEqual(err({ ...full, CNI_PATH: undefined }), [101, "Unable to find environment variable 'CNI_PATH'"]);
  t.deepEqual(err({ ...full, CNI_CONTAINERID: 'x'.repeat(242) }), [101, "Invalid environment variable 'CNI_CONTAINERID': longer than 241 characters (the rule tag must fit an iptables comment)"]);
  const [code, msg] = err(full, Buffer.from('{"name":'));
  t.is(code, 101);
  t.regex(msg as string, /JSON/);
  t.deepEqual(err(full, Buffer.from('[1]')), [101, 'Unexpected JSON type parsed']);
  t.deepEqual(err(full, Buffer.from(JSON.stringify(base({ chain: undefined })))), [101, "Failed to get the required field 'chain': Not found"]);
  t.deepEqual(err({ ...full, CNI_PATH: '/nonexistent' }), [101, "Could not find the delegate plugin 'bridge' in '/nonexistent'"]);
  const traversal = Buffer.from(JSON.stringify(base({ delegate: { type: '../bin/sh' } })));
  t.deepEqual(err(full, traversal), [101, `Could not find the delegate plugin '../bin/sh' in '/nonexistent:${dir}'`]);
  t.deepEqual(err({ ...full, CNI_COMMAND: 'UPDATE' }), [104, 'Unsupported command: UPDATE']);
  // STATUS and GC (1.1.0) concern the network: no container, interface or namespace is asked for.
  t.notThrows(() => preflight({ CNI_COMMAND: 'STATUS' }, stdin));
  t.deepEqual(err({ CNI_COMMAND: 'GC' }), [101, "Unable to find environment variable 'CNI_PATH'"]);
  t.notThrows(() => preflight({ CNI_COMMAND: 'GC', CNI_PATH: '/nonexistent' }, stdin));
  t.is(whichSync('noexec', dir), undefined, 'not executable');
  t.is(whichSync('bridge', `/nonexistent::${dir}`), join(dir, 'bridge'));
});
