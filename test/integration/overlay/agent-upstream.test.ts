// Upstream's OverlayTest agent-side cases (reference §11) on one fake host: the master (embedded
// store) and a real dockerd inside it, the agent started as the daemon with the fixture's config
// and restarted between cases. checkMasterAgentComm, ROOT_checkMesosNetwork,
// ROOT_checkDockerNetwork, ROOT_checkDockerIsolation, ROOT_checkEnableDisableIPv6Configuration,
// ROOT_checkAgentRecovery, ROOT_checkAgentNetworkConfigChange, checkAgentResetConfigurationAttempts,
// checkMTUConfiguration; plus a failed overlay reported with its error and a refused config.
import test from 'ava';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { isRoot } from '../../helpers/fixture.js';
import { fixtureNetwork } from '../../helpers/overlay/master.js';
import { Dockerd, dockerMissing } from '../../helpers/overlay/dockerd.js';
import { Hosts, until, type Host } from '../../helpers/overlay/hosts.js';

const execFileP = promisify(execFile);
const MASTER = 5055;
const AGENT = 5056;
const MASQ = ['POSTROUTING', '-s', '192.168.0.0/16', '-m', 'set', '--match-set', 'overlay', 'dst', '-j', 'MASQUERADE'];

let hosts: Hosts | undefined;
let docker: Dockerd | undefined;
let h: Host;
const skip = !isRoot ? 'needs root' : dockerMissing();

function startMaster(network: Record<string, unknown> = fixtureNetwork()) {
  hosts!.startMaster(h, { listen: `0.0.0.0:${MASTER}`, replicated_log_dir: join(h.dir, 'store'), network }, 'master');
}

/** The fixture's agent (bridges off), with `over` on top; waits until it has configured its overlays. */
async function startAgent(over: Record<string, unknown> = {}, net: Record<string, unknown> = {}): Promise<any> {
  await hosts!.kill('agent', 'SIGTERM');
  hosts!.startAgent(h, { master: `${h.ip}:${MASTER}`, listen: `0.0.0.0:${AGENT}`, cni_dir: join(h.dir, 'cni/'), cni_data_dir: join(h.dir, 'cni_data/'), docker_socket: docker!.socket, network_config: { mesos_bridge: false, docker_bridge: false, ...net }, ...over }, 'agent');
  return until('agent registered', 30_000, async () => {
    // Metrics first: once they say REGISTERED, the AgentInfo read next is the registered one.
    const m = await hosts!.http(h, AGENT, 'GET', '/metrics');
    if (!/\noverlay_slave_registering 0\n/.test(m.body)) return undefined;
    const r = await hosts!.http(h, AGENT, 'GET', '/overlay-agent/overlay');
    const info = r.status === 200 ? r.json() : undefined;
    return info?.overlays.length > 0 ? info : undefined;
  });
}

const sh = (cmd: string[]) => hosts!.exec(h.name, cmd);
const ok = (cmd: string[]) => sh(cmd).then(() => true, () => false);
const masterState = async () => (await hosts!.http(h, MASTER, 'GET', '/overlay-master/state')).json();
const forget = async () => (await hosts!.http(h, MASTER, 'POST', '/overlay-master/agents/delete', { agents: [h.ip] })).status;
const dockerCli = async (args: string[]) => (await execFileP('docker', ['-H', `unix://${docker!.socket}`, ...args])).stdout;

test.before(async (t) => {
  if (skip) return;
  t.timeout(120_000);
  hosts = await Hosts.create('oau', 1);
  h = hosts.hosts[0]!;
  docker = await Dockerd.start(h.path, join(hosts.dir, 'docker'));
  startMaster();
  await hosts.relay(h, [MASTER, AGENT]);
});

test.after.always(async () => {
  await hosts?.kill('agent', 'SIGTERM');
  await docker?.close();
  await hosts?.close();
});

const serial = skip ? test.serial.skip : test.serial;
const titled = (s: string) => (skip ? `${s} (skipped: ${skip})` : s);

serial(titled('a bad agent.json: the daemon says which field and exits 1, changing nothing'), async (t) => {
  hosts!.startAgent(h, { master: `${h.ip}:${MASTER}`, network_config: { overlay_mtu: 100 } }, 'bad');
  await until('the daemon exits', 15_000, () => existsSync(join(hosts!.dir, 'bad.exit')));
  t.regex(readFileSync(join(hosts!.dir, 'bad.exit'), 'utf8'), /^1 null mesos-overlay-agent: network_config\.overlay_mtu: expected an MTU from 552 to 65535, got 100/);
  t.regex(hosts!.log(h), /"msg":"not starting"/);
  t.false(await ok(['ipset', 'list', 'overlay']), 'no ipset made');
  rmSync(join(h.dir, 'agent.log'), { force: true });
});

serial(titled('checkMasterAgentComm: the agent shows its overlay (IPv4 and IPv6 subnets) and the master holds the same AgentInfo'), async (t) => {
  const info = await startAgent();
  t.is(info.ip, h.ip);
  t.is(info.overlays.length, 1);
  t.is(info.overlays[0].subnet, '192.168.0.0/24');
  t.is(info.overlays[0].subnet6, 'fd02::/80');
  t.deepEqual(info.overlays[0].state, { status: 'STATUS_OK' });
  t.is(info.overlays[0].backend.vxlan.vtep_ip6, 'fd03::1/64');
  const st = await masterState();
  t.is(st.agents.length, 1);
  const { configuration_attempts: _a, ...agentInfo } = info;
  t.deepEqual(st.agents[0], agentInfo);
  // Bridges off: no ipset, no rule, no CNI config.
  t.false(await ok(['ipset', 'list', 'overlay']));
  t.false(existsSync(join(h.dir, 'cni', 'mz-overlay.conf')));
  // The data plane: vtep1024 with both VTEP addresses.
  t.regex(await sh(['ip', 'addr', 'show', 'dev', 'vtep1024']), /inet 44\.128\.0\.1\/16[\s\S]*inet6 fd03::1\/64/);
});

serial(titled('ROOT_checkMesosNetwork: ipset, the MASQUERADE rule and the CNI config of the Mesos network'), async (t) => {
  t.is(await forget(), 200);
  await startAgent({}, { mesos_bridge: true });
  t.regex(await sh(['ipset', 'list', 'overlay']), /Type: hash:net[\s\S]*192\.168\.0\.0\/16 nomatch/);
  t.true(await ok(['iptables', '-w', '-t', 'nat', '-C', ...MASQ]));
  const conf = JSON.parse(readFileSync(join(h.dir, 'cni', 'mz-overlay.conf'), 'utf8'));
  t.is(conf.name, 'mz-overlay');
  t.false(conf.delegate.ipMasq);
  t.is(conf.delegate.mtu, 1420);
  t.is(conf.delegate.ipam.subnet, '192.168.0.0/25');
});

serial(titled('ROOT_checkDockerNetwork: the Docker network made through the Engine API (docker network inspect answers)'), async (t) => {
  t.is(await forget(), 200);
  await startAgent({}, { docker_bridge: true });
  t.true(await ok(['ipset', 'list', 'overlay']));
  t.true(await ok(['iptables', '-w', '-t', 'nat', '-C', ...MASQ]));
  const inspect = JSON.parse(await dockerCli(['network', 'inspect', 'mz-overlay']));
  t.true(Array.isArray(inspect));
  t.is(inspect[0].Options['com.docker.network.bridge.name'], 'd-mz-overlay');
  t.is(inspect[0].Options['com.docker.network.driver.mtu'], '1420');
  const bridge = (await hosts!.http(h, AGENT, 'GET', '/overlay-agent/overlay')).json().overlays[0].docker_bridge;
  t.deepEqual(bridge, { name: 'd-mz-overlay', ip: '192.168.0.128/25', ip6: 'fd02::8000:0:0/81' });
  t.deepEqual(inspect[0].IPAM.Config.map((c: { Subnet: string }) => c.Subnet), [bridge.ip, bridge.ip6]);
  t.true(inspect[0].EnableIPv6);
});

serial(titled('ROOT_checkDockerIsolation: with another Docker network there, the RETURN is rule 1 of DOCKER-ISOLATION-STAGE-2, once'), async (t) => {
  await dockerCli(['network', 'rm', 'mz-overlay']);
  await dockerCli(['network', 'create', '--subnet', '172.31.250.0/24', 'other']);
  t.teardown(() => dockerCli(['network', 'rm', 'other']).then(() => undefined, () => undefined));
  for (let round = 0; round < 2; round++) {
    await startAgent({}, { docker_bridge: true });
    t.true(await ok(['iptables', '-w', '-C', 'DOCKER-ISOLATION-STAGE-2', '-j', 'RETURN']));
    const rules = (await sh(['iptables', '-w', '-S', 'DOCKER-ISOLATION-STAGE-2'])).split('\n').filter((l) => l.startsWith('-A'));
    t.is(rules[0], '-A DOCKER-ISOLATION-STAGE-2 -j RETURN', `round ${round}: ${rules.join(' | ')}`);
    t.is(rules.filter((l) => l.endsWith('-j RETURN')).length, 1);
    t.true(rules.some((l) => l.includes('-o d-mz-overlay -j DROP')), "Docker's own rules stay");
  }
});

serial(titled('ROOT_checkEnableDisableIPv6Configuration: EnableIPv6 follows enable_ipv6 when the network is made again'), async (t) => {
  t.true(JSON.parse(await dockerCli(['network', 'inspect', 'mz-overlay']))[0].EnableIPv6);
  await dockerCli(['network', 'rm', 'mz-overlay']);
  await startAgent({}, { docker_bridge: true, enable_ipv6: false });
  const inspect = JSON.parse(await dockerCli(['network', 'inspect', 'mz-overlay']))[0];
  t.false(inspect.EnableIPv6);
  t.deepEqual(inspect.IPAM.Config.map((c: { Subnet: string }) => c.Subnet), ['192.168.0.128/25']);
});

serial(titled('ROOT_checkAgentRecovery: a restarted agent shows the identical AgentInfo'), async (t) => {
  const before = await startAgent({}, { docker_bridge: true });
  const after = await startAgent({}, { docker_bridge: true });
  t.deepEqual(after, before);
});

serial(titled('ROOT_checkAgentNetworkConfigChange: restarted with bridges off, no MASQUERADE rule is installed, the allocated bridges still show'), async (t) => {
  t.is(await forget(), 200);
  await startAgent({}, { mesos_bridge: true, docker_bridge: true });
  await sh(['iptables', '-w', '-t', 'nat', '-D', ...MASQ]);
  rmSync(join(h.dir, 'cni', 'mz-overlay.conf'));
  const info = await startAgent({}, { mesos_bridge: false, docker_bridge: false });
  t.false(await ok(['iptables', '-w', '-t', 'nat', '-C', ...MASQ]));
  t.false(existsSync(join(h.dir, 'cni', 'mz-overlay.conf')));
  t.is(info.overlays[0].mesos_bridge.name, 'm-mz-overlay');
  t.is(info.overlays[0].docker_bridge.name, 'd-mz-overlay');
  t.deepEqual(info.overlays[0].state, { status: 'STATUS_OK' });
});

serial(titled('checkAgentResetConfigurationAttempts: a new master term resets the attempts (max 1): the agent registers again, attempts 1'), async (t) => {
  const first = await startAgent({ max_configuration_attempts: 1 });
  t.is(first.configuration_attempts, 1);
  await hosts!.kill('master', 'SIGKILL');
  startMaster();
  await until('registered with the restarted master', 30_000, async () => (hosts!.log(h).match(/Detected new overlay master/g) ?? []).length >= 2 && /\noverlay_slave_registering 0\n/.test((await hosts!.http(h, AGENT, 'GET', '/metrics')).body));
  const info = (await hosts!.http(h, AGENT, 'GET', '/overlay-agent/overlay')).json();
  t.is(info.configuration_attempts, 1);
  t.deepEqual((await masterState()).agents[0].overlays[0].state, { status: 'STATUS_OK' }, 'reported to the new master');
});

serial(titled('checkMTUConfiguration: vtep_mtu 9000 reaches the agent, and its VTEP is recreated with it'), async (t) => {
  t.is(await forget(), 200);
  await hosts!.kill('master', 'SIGKILL');
  startMaster(fixtureNetwork({ vtep_mtu: 9000 }));
  const info = await until('the agent has vtep_mtu 9000', 30_000, async () => {
    const i = (await hosts!.http(h, AGENT, 'GET', '/overlay-agent/overlay')).json();
    return i.overlays[0]?.backend.vxlan.vtep_mtu === 9000 ? i : undefined;
  });
  t.is(info.overlays[0].backend.vxlan.vtep_mtu, 9000);
  await until('vtep1024 at MTU 9000', 10_000, async () => /mtu 9000/.test(await sh(['ip', 'link', 'show', 'vtep1024'])));
  // Recreated from the old VTEP, or made anew when the agent had already seen itself deleted at the
  // master and cleared its plane (which comes first is a race); the recreation itself is tested in
  // agent-dataplane.test.ts.
  t.regex(hosts!.log(h), /VTEP recreated \(was mtu 1500\)|VTEP created/);
});

serial(titled('a failed overlay is reported with its error (here: no Docker Engine); after max_configuration_attempts the agent is REGISTERED anyway'), async (t) => {
  t.is(await forget(), 200);
  const info = await startAgent({ max_configuration_attempts: 0, docker_socket: join(h.dir, 'no-docker.sock') }, { docker_bridge: true });
  t.is(info.overlays[0].state.status, 'STATUS_FAILED');
  t.regex(info.overlays[0].state.error, /^Unable to configure docker network: GET .*no-docker\.sock\/networks\/mz-overlay: connect ENOENT /);
  t.deepEqual((await masterState()).agents[0].overlays[0].state, info.overlays[0].state, 'the master has the error too');
  const metrics = (await hosts!.http(h, AGENT, 'GET', '/metrics')).body;
  t.regex(metrics, /\noverlay_slave_overlay_config_failed 1\n/);
  t.regex(metrics, /\noverlay_slave_docker_cmd_failures [1-9]/);
});

serial(titled('dataplane false: the agent registers and configures, and leaves vtep1024 to dcos-net'), async (t) => {
  await sh(['ip', 'link', 'del', 'vtep1024']);
  const info = await startAgent({ dataplane: false, reconcile_interval_ms: 200 });
  t.deepEqual(info.overlays[0].state, { status: 'STATUS_OK' });
  await new Promise((r) => setTimeout(r, 600));
  t.false(await ok(['ip', 'link', 'show', 'vtep1024']), 'no VTEP made');
  t.regex((await hosts!.http(h, AGENT, 'GET', '/metrics')).body, /\noverlay_agent_dataplane_entries 0\n/);
});
