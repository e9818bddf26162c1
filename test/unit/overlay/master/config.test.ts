// Master config: every upstream validation error with its exact text (reference §3), our own
// field errors, defaults, unknown keys, the store choice and the ZooKeeper URL.
import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadMasterConfig, parseDuration, parseMasterConfig, parseNetwork, parseZkUrl } from '../../../../lib/overlay/master/config.js';
import { fixtureNetwork } from '../../../helpers/overlay/master.js';

const bad = (over: Record<string, unknown>) => () => parseNetwork(fixtureNetwork(over));
const overlay = (o: Record<string, unknown>) => ({ name: 'o1', subnet: '10.0.0.0/8', prefix: 24, ...o });

test('upstream: VTEP subnet errors', (t) => {
  t.throws(bad({ vtep_subnet: 'nope' }), { message: 'Unable to parse the VTEP Subnet: expected an IPv4 network "address/prefix", got "nope"' });
  t.throws(bad({ vtep_subnet: 'fd00::/64' }), { message: /^Unable to parse the VTEP Subnet: expected an IPv4 network/ });
  t.throws(bad({ vtep_subnet: '44.0.0.0/7' }), {
    message: 'VTEP MAC are derived from last 24 bits of VTEP IP.  Hence, in order to guarantee unique VTEP MAC we need the VTEP IP subnet to be equal to or greater than /8',
  });
  t.notThrows(bad({ vtep_subnet: '44.0.0.0/8' }));
  t.throws(bad({ vtep_subnet6: '44.0.0.0/8' }), { message: /^Unable to parse the VTEP IPv6 Subnet: expected an IPv6 network/ });
});

test('upstream: OUI errors', (t) => {
  t.throws(bad({ vtep_mac_oui: '70:B3:D5:00:00' }), { message: 'Unable to parse VTEP MAC OUI: Invalid MAC address. Mac address 70:B3:D5:00:00 needs to be in the format xx:xx:xx:00:00:00' });
  t.throws(bad({ vtep_mac_oui: '70:B3:D5:00:zz:00' }), { message: /^Unable to parse VTEP MAC OUI: Invalid MAC address\. Mac address 70:B3:D5:00:zz:00/ });
  t.throws(bad({ vtep_mac_oui: '70:B3:D5:00:00:01' }), { message: 'Unable to parse VTEP MAC OUI: Invalid OUI MAC address: 70:B3:D5:00:00:01. Least significant three bytes should not be set for the OUI' });
});

test('upstream (checkReservedNetworks): host, bridge, default, none are refused', (t) => {
  for (const name of ['host', 'bridge', 'default', 'none']) {
    t.throws(bad({ overlays: [overlay({ name })] }), { message: `Overlay network name: ${name} is a reserved network name` });
  }
});

test('upstream: overlay name length (13), duplicates, none configured', (t) => {
  t.notThrows(bad({ overlays: [overlay({ name: 'a'.repeat(13) })] }));
  // Upstream's text ends in stray source ("  characters    IntervalSet<uint8_t> "): fixed, documented.
  t.throws(bad({ overlays: [overlay({ name: 'a'.repeat(14) })] }), { message: `Overlay name: ${'a'.repeat(14)} too long cannot, exceed 13 characters` });
  t.throws(bad({ overlays: [overlay({}), overlay({ subnet: '11.0.0.0/8' })] }), { message: 'Duplicate overlay configuration detected for overlay: o1' });
  t.throws(bad({ overlays: [] }), { message: 'Could not find any overlay configuration. Specify at least one overlay' });
  t.throws(bad({ overlays: undefined }), { message: 'Could not find any overlay configuration. Specify at least one overlay' });
});

test('upstream: subnet parse errors and overlapping address spaces', (t) => {
  t.throws(bad({ overlays: [overlay({ subnet: '10.0.0.0' })] }), { message: /^Unable to determine subnet for network: / });
  t.throws(bad({ overlays: [overlay({ subnet6: '10.0.0.0/8', prefix6: 80 })] }), { message: /^Unable to determine IPv6 subnet for network: / });
  t.throws(bad({ overlays: [overlay({}), overlay({ name: 'o2', subnet: '10.1.0.0/16' })] }), { message: "Incorrect address space for the overlay network 'o2': Found overlapping address spaces" });
  t.throws(bad({ overlays: [overlay({ subnet6: 'fd00::/64', prefix6: 80 }), overlay({ name: 'o2', subnet: '11.0.0.0/8', subnet6: 'fd00::/48', prefix6: 80 })] }), {
    message: "Incorrect IPv6 address space for the overlay network 'o2': Found overlapping address spaces",
  });
  // Adjacent is fine; IPv4 and IPv6 never overlap each other.
  t.notThrows(bad({ overlays: [overlay({}), overlay({ name: 'o2', subnet: '11.0.0.0/8', subnet6: 'fd00::/64', prefix6: 80 })] }));
});

test('ours: prefix, prefix6, MTU, name characters and field types name the field', (t) => {
  t.throws(bad({ overlays: [overlay({ prefix: undefined })] }), { message: /^network\.overlays\[0\]\.prefix: expected the agents' block length, from 8 \(the subnet's\) to 31, got undefined/ });
  t.throws(bad({ overlays: [overlay({ prefix: 4 })] }), { message: /^network\.overlays\[0\]\.prefix: .* got 4$/ });
  t.throws(bad({ overlays: [overlay({ prefix: 32 })] }), { message: /prefix: .* to 31, got 32$/ });
  t.throws(bad({ overlays: [overlay({ subnet6: 'fd00::/64', prefix6: 128 })] }), { message: /prefix6: .* to 127, got 128$/ });
  t.throws(bad({ vtep_mtu: 100 }), { message: 'network.vtep_mtu: expected an MTU from 552 to 65535, got 100' });
  t.throws(bad({ vtep_mtu: 'x' }), { message: 'network.vtep_mtu: expected an integer from 0 to 4294967295, got "x"' });
  t.throws(bad({ overlays: [overlay({ name: 'a b' })] }), { message: /^network\.overlays\[0\]\.name: expected letters/ });
  t.throws(bad({ overlays: [overlay({ enabled: 'yes' })] }), { message: 'network.overlays[0].enabled: expected true or false, got "yes"' });
  t.throws(bad({ overlays: [overlay({ name: undefined })] }), { message: 'network.overlays[0].name: required (a string)' });
  t.throws(bad({ vtep_subnet: '44.128.0.0/31' }), { message: /^network\.vtep_subnet: expected a prefix from 8 to 30/ });
});

test('defaults, proto JSON form and unknown keys ignored', (t) => {
  const n = parseNetwork({ ...fixtureNetwork({ vtep_mtu: 9000 }), foo: 1, overlays: [{ name: 'dcos', subnet: '9.0.0.0/8', prefix: 24, bar: true }] });
  t.deepEqual(n.json, { vtep_subnet: '44.128.0.0/16', vtep_mac_oui: '70:B3:D5:00:00:00', overlays: [{ name: 'dcos', subnet: '9.0.0.0/8', prefix: 24, enabled: true }], vtep_subnet6: 'fd03::/64', vtep_mtu: 9000 });
  t.deepEqual(n.oui, [0x70, 0xb3, 0xd5]);
});

test('store choice: memory without a directory, embedded with replicated_log_dir, zookeeper with zk.url', async (t) => {
  const network = fixtureNetwork();
  t.is((await parseMasterConfig({ network })).store.kind, 'memory');
  t.deepEqual((await parseMasterConfig({ network, replicated_log_dir: '/var/lib/dcos/mesos/master/' })).store, { kind: 'embedded', dir: '/var/lib/dcos/mesos/master/' });
  const zk = await parseMasterConfig({ network, replicated_log_dir: '/x', zk: { url: 'zk://a:2181,b:2182/mesos', quorum: 2, session_timeout: 3 } });
  t.like(zk.store, { kind: 'zookeeper', zk: { servers: 'a:2181,b:2182', root: '/mesos/overlay-master', sessionTimeoutMs: 3000 } });
  t.like((await parseMasterConfig({ network, store: 'zookeeper' }, { MESOS_ZK: 'zk://h:1/m' })).store, { kind: 'zookeeper', zk: { servers: 'h:1', root: '/m/overlay-master', sessionTimeoutMs: 10_000 } });
  await t.throwsAsync(parseMasterConfig({ network, store: 'zookeeper' }, {}), { message: /^zk\.url: required for the zookeeper store/ });
  await t.throwsAsync(parseMasterConfig({ network, store: 'embedded' }), { message: /^replicated_log_dir: required for the embedded store/ });
  await t.throwsAsync(parseMasterConfig({ network, store: 'etcd' }), { message: 'store: expected "embedded", "zookeeper" or "memory", got "etcd"' });
  await t.throwsAsync(parseMasterConfig({}), { message: 'network: required (the NetworkConfig object)' });
  await t.throwsAsync(parseMasterConfig({ network, listen: 'localhost' }), { message: /^listen: expected "host:port"/ });
  await t.throwsAsync(parseMasterConfig({ network, replicated_log_timeout: '5 minutes' }), { message: /^Error parsing replicatedLogTimeout: / });
  const c = await parseMasterConfig({ network, listen: '127.0.0.1:7000' });
  t.is(c.advertise, '127.0.0.1:7000');
  t.is(c.storeTimeoutMs, 300_000);
});

test('zk URL: zk:// with credentials and path, file:// read from a file, errors', async (t) => {
  t.deepEqual(parseZkUrl('zk://u:p@h1:2181,[::1]:2181/a/b/', 5000), { servers: 'h1:2181,[::1]:2181', root: '/a/b/overlay-master', auth: 'u:p', sessionTimeoutMs: 5000, display: 'zk://***@h1:2181,[::1]:2181/a/b' });
  t.is(parseZkUrl('zk://h:2181', 1).root, '/overlay-master');
  t.throws(() => parseZkUrl('http://h:2181/x', 1), { message: /^Error parsing ZooKeeper URL: expected zk:\/\// });
  t.throws(() => parseZkUrl('zk://h/x', 1), { message: /^Error parsing ZooKeeper URL/ });
  const dir = mkdtempSync(join(tmpdir(), 'om-cfg-'));
  writeFileSync(join(dir, 'zk'), 'zk://10.0.0.1:2181/mesos\n');
  const c = await parseMasterConfig({ network: fixtureNetwork(), zk: { url: `file://${join(dir, 'zk')}` } });
  t.like(c.store, { kind: 'zookeeper', zk: { servers: '10.0.0.1:2181', root: '/mesos/overlay-master' } });
  await t.throwsAsync(parseMasterConfig({ network: fixtureNetwork(), zk: { url: `file://${join(dir, 'missing')}` } }), { message: new RegExp(`^Error reading zookeeper configuration file '${join(dir, 'missing')}': ENOENT`) });
  writeFileSync(join(dir, 'bad.json'), '{');
  await t.throwsAsync(loadMasterConfig(join(dir, 'bad.json')), { message: new RegExp(`^config ${join(dir, 'bad.json')}: not valid JSON`) });
});

test('durations as Mesos writes them', (t) => {
  t.is(parseDuration('5mins'), 300_000);
  t.is(parseDuration('1.5secs'), 1500);
  t.is(parseDuration('250ms'), 250);
  t.throws(() => parseDuration('5m'));
});
