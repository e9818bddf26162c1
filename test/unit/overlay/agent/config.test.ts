// The agent's config: DC/OS's agent.json as is, upstream's defaults and error texts, our fields,
// and every bad input a clear error naming the field.
import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_DOCKER_SOCKET, DEFAULT_LISTEN, DEFAULT_STATE_DIR, loadAgentConfig, parseAgentConfig, parseMaster } from '../../../../lib/overlay/agent/config.js';

const DCOS_AGENT = {
  cni_dir: '/opt/mesosphere/etc/dcos/network/cni',
  cni_data_dir: '/var/run/dcos/cni/networks',
  network_config: { allocate_subnet: true, mesos_bridge: true, docker_bridge: true, overlay_mtu: 1420, enable_ipv6: true },
  max_configuration_attempts: 4,
};

test("DC/OS's agent.json is accepted as is; master from MESOS_MASTER; our fields default", async (t) => {
  const c = await parseAgentConfig({ ...DCOS_AGENT, some_future_key: 1 }, { MESOS_MASTER: '10.0.0.1:5055' });
  t.deepEqual(c.master, { kind: 'static', addrs: ['10.0.0.1:5055'], display: '10.0.0.1:5055' });
  t.is(c.cniDir, '/opt/mesosphere/etc/dcos/network/cni');
  t.is(c.cniDataDir, '/var/run/dcos/cni/networks');
  t.deepEqual(c.network, { allocate_subnet: true, mesos_bridge: true, docker_bridge: true, overlay_mtu: 1420, command_timeout: 15000, enable_ipv6: true });
  t.is(c.maxConfigurationAttempts, 4);
  t.deepEqual(c.listen, { host: DEFAULT_LISTEN.split(':')[0], port: Number(DEFAULT_LISTEN.split(':')[1]) });
  t.is(c.dockerSocket, DEFAULT_DOCKER_SOCKET);
  t.true(c.dataplane);
  t.is(c.stateDir, DEFAULT_STATE_DIR);
  t.is(c.ip, undefined);
});

test('upstream defaults: network_config fields and max_configuration_attempts 4; no cni_data_dir, no dataDir', async (t) => {
  const c = await parseAgentConfig({ master: 'm:5055', cni_dir: 'cni/' }, {});
  t.deepEqual(c.network, { allocate_subnet: true, mesos_bridge: true, docker_bridge: true, overlay_mtu: 1420, command_timeout: 15000, enable_ipv6: true });
  t.is(c.maxConfigurationAttempts, 4);
  t.false('cniDataDir' in c);
});

test('master: a comma list, zk:// (the masters\' election under <path>/overlay-master), file://; MESOS_ZK last', async (t) => {
  t.deepEqual((await parseMaster('a:1, [fd00::1]:5055')), { kind: 'static', addrs: ['a:1', '[fd00::1]:5055'], display: 'a:1,[fd00::1]:5055' });
  const zk = await parseMaster('zk://u:p@10.0.0.1:2181,10.0.0.2:2181/mesos');
  t.is(zk.kind, 'zk');
  if (zk.kind === 'zk') {
    t.is(zk.zk.servers, '10.0.0.1:2181,10.0.0.2:2181');
    t.is(zk.zk.root, '/mesos/overlay-master');
    t.is(zk.zk.auth, 'u:p');
    t.is(zk.display, 'zk://***@10.0.0.1:2181,10.0.0.2:2181/mesos');
  }
  const dir = mkdtempSync(join(tmpdir(), 'oa-cfg-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'master'), 'zk://10.0.0.9:2181/mesos\n');
  t.is((await parseMaster(`file://${join(dir, 'master')}`)).display, 'zk://10.0.0.9:2181/mesos');
  t.deepEqual((await parseAgentConfig({ cni_dir: 'c' }, { MESOS_ZK: 'zk://z:2181/mesos' })).master.display, 'zk://z:2181/mesos');
  t.is((await parseAgentConfig({ cni_dir: 'c' }, { MESOS_MASTER: 'a:1', MESOS_ZK: 'zk://z:2181/mesos' })).master.display, 'a:1');
});

test("upstream's errors: no master, an unreadable file://, an unparsable master", async (t) => {
  await t.throwsAsync(parseAgentConfig({ cni_dir: 'c' }, {}), {
    message: "Master unspecified, hence cannot create a `MasterDetector`. Please specify master either through the JSON config, or 'MESOS_MASTER' environment variable",
  });
  await t.throwsAsync(parseMaster('file:///nonexistent/master'), { message: /^Error reading master configuration file '\/nonexistent\/master': ENOENT/ });
  await t.throwsAsync(parseMaster('master@10.0.0.1'), { message: /^Unable to create master detector: master: expected "host:port", a comma-separated list/ });
  await t.throwsAsync(parseMaster('zk://'), { message: /^Unable to create master detector: Error parsing ZooKeeper URL/ });
});

test('every bad field is refused with its name and what was expected', async (t) => {
  const base = { master: 'm:5055', cni_dir: 'cni' };
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ cni_dir: undefined }, /^cni_dir: required/],
    [{ cni_dir: '' }, /^cni_dir: expected the directory/],
    [{ cni_dir: 3 }, /^cni_dir: expected a string, got 3/],
    [{ cni_data_dir: false }, /^cni_data_dir: expected a string/],
    [{ network_config: [] }, /^network_config: expected an object/],
    [{ network_config: { mesos_bridge: 'yes' } }, /^network_config\.mesos_bridge: expected true or false, got "yes"/],
    [{ network_config: { overlay_mtu: 100 } }, /^network_config\.overlay_mtu: expected an MTU from 552 to 65535, got 100/],
    [{ network_config: { overlay_mtu: -1 } }, /^network_config\.overlay_mtu: expected an integer/],
    [{ network_config: { command_timeout: 0 } }, /^network_config\.command_timeout: expected at least 1/],
    [{ max_configuration_attempts: 1.5 }, /^max_configuration_attempts: expected an integer/],
    [{ listen: '5056' }, /^listen: expected "host:port"/],
    [{ ip: 'fd00::1' }, /^ip: expected the agent's IPv4 address/],
    [{ docker_socket: 'docker.sock' }, /^docker_socket: expected an absolute path/],
    [{ dataplane: 1 }, /^dataplane: expected true or false/],
    [{ state_dir: 'rel' }, /^state_dir: expected an absolute path/],
    [{ reconcile_interval_ms: 10 }, /^reconcile_interval_ms: expected at least 100/],
  ];
  for (const [over, re] of bad) await t.throwsAsync(parseAgentConfig({ ...base, ...over }, {}), { message: re }, JSON.stringify(over));
  await t.throwsAsync(parseAgentConfig([], {}), { message: /^config: expected an object/ });
});

test('ours: listen port 0, ip (else LIBPROCESS_IP), state_dir null keeps no state, dataplane off', async (t) => {
  const c = await parseAgentConfig({ master: 'm:1', cni_dir: 'c', listen: '127.0.0.1:0', state_dir: null, dataplane: false, reconcile_interval_ms: 500 }, { LIBPROCESS_IP: '10.1.2.3' });
  t.deepEqual(c.listen, { host: '127.0.0.1', port: 0 });
  t.is(c.ip, '10.1.2.3');
  t.false('stateDir' in c);
  t.false(c.dataplane);
  t.is(c.reconcileIntervalMs, 500);
  t.is((await parseAgentConfig({ master: 'm:1', cni_dir: 'c', ip: '10.9.9.9' }, { LIBPROCESS_IP: '10.1.2.3' })).ip, '10.9.9.9');
});

test('loadAgentConfig: unreadable and non-JSON files say so', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'oa-cfg-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  await t.throwsAsync(loadAgentConfig(join(dir, 'none.json')), { message: /^Unable to read the Agent configuration: .*none\.json: ENOENT/ });
  writeFileSync(join(dir, 'bad.json'), '{');
  await t.throwsAsync(loadAgentConfig(join(dir, 'bad.json')), { message: /^Unable to parse the Agent JSON configuration: JSON parse failed: / });
});
