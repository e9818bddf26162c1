// Three fake hosts on an underlay bridge, the overlay master (embedded store) on host 1, an agent
// on each, real kernel VXLAN between them. On each host a Mesos container attached through the
// CNI config its agent wrote, exec'd as the Mesos agent runs it (port mapper → bridge →
// host-local); on host 3 a real dockerd whose `dcos` network the agent created through the
// Engine API. Every container reaches every other (ICMP, TCP); a port mapping on host 1 answers
// from host 2; agents killed -9 and restarted under a running ping lose no packet and come back
// with the same AgentInfo; a host deleted at the master disappears from the others' kernels.
import test from 'ava';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { TestNs } from '../../helpers/fixture.js';
import { isRoot } from '../../helpers/fixture.js';
import { fetchTcp } from '../../helpers/traffic.js';
import { Dockerd, dockerMissing } from '../../helpers/overlay/dockerd.js';
import { Hosts, until, type Host } from '../../helpers/overlay/hosts.js';

const MASTER = 5055;
const AGENT = 5056;
const NETWORK = { vtep_subnet: '44.128.0.0/20', vtep_mac_oui: '70:B3:D5:00:00:00', overlays: [{ name: 'dcos', subnet: '9.0.0.0/8', prefix: 24 }] };

interface Fixture {
  hosts: Hosts;
  docker?: Dockerd;
  ctrs: TestNs[];
  /** Container IPs, host i's at i. */
  ips: string[];
  servers: ReturnType<typeof spawn>[];
}
let fx: Fixture | undefined;
const skip = !isRoot ? 'needs root' : dockerMissing();

/** A TCP server answering `reply` inside a namespace (until the fixture goes). */
async function serve(ns: TestNs, port: number, reply: string) {
  const code = `import socket,sys\ns=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('0.0.0.0', ${port})); s.listen(16); print('ready', flush=True)\nwhile True:\n  c,_=s.accept(); c.sendall(sys.argv[1].encode()); c.close()`;
  const p = spawn('ip', ['netns', 'exec', ns.name, 'python3', '-c', code, reply], { stdio: ['ignore', 'pipe', 'ignore'] });
  fx!.servers.push(p);
  await new Promise<void>((resolve, reject) => (p.stdout!.once('data', () => resolve()), p.once('exit', (c) => reject(new Error(`server exited ${c}`)))));
}

const agentInfo = async (hosts: Hosts, h: Host) => {
  const r = await hosts.http(h, AGENT, 'GET', '/overlay-agent/overlay');
  return r.status === 200 ? r.json() : undefined;
};
/** The AgentInfo once REGISTERED (metrics first: the info read after them is the registered one). */
const registered = async (hosts: Hosts, h: Host) => {
  if (!/\noverlay_slave_registering 0\n/.test((await hosts.http(h, AGENT, 'GET', '/metrics')).body)) return undefined;
  const i = await agentInfo(hosts, h);
  return i?.overlays?.length === 1 && i.overlays[0].state?.status === 'STATUS_OK' ? i : undefined;
};

function startAgent(hosts: Hosts, h: Host, docker?: Dockerd) {
  hosts.startAgent(h, {
    master: `${hosts.hosts[0]!.ip}:${MASTER}`,
    listen: `0.0.0.0:${AGENT}`,
    reconcile_interval_ms: 1000,
    network_config: { docker_bridge: docker !== undefined },
    ...(docker && { docker_socket: docker.socket }),
  });
}

test.before(async (t) => {
  if (skip) return;
  t.timeout(180_000);
  const hosts = await Hosts.create('oam', 3);
  fx = { hosts, ctrs: [], ips: [], servers: [] };
  const [h1, , h3] = hosts.hosts as [Host, Host, Host];
  hosts.startMaster(h1, { listen: `0.0.0.0:${MASTER}`, advertise: `${h1.ip}:${MASTER}`, replicated_log_dir: join(h1.dir, 'store'), network: NETWORK });
  fx.docker = await Dockerd.start(h3.path, join(hosts.dir, 'docker'));
  await fx.docker.importBusybox();
  // DC/OS's host set-up (dcos-net.service): dockerd's FORWARD policy is DROP; Mesos containers forward.
  await hosts.exec(h3.name, ['iptables', '-w', '-A', 'FORWARD', '-j', 'ACCEPT']);
  for (const h of hosts.hosts) {
    await hosts.relay(h, h === h1 ? [MASTER, AGENT] : [AGENT]);
    startAgent(hosts, h, h === h3 ? fx.docker : undefined);
  }
  for (const h of hosts.hosts) await until(`agent on ${h.name} registered`, 60_000, () => registered(hosts, h));
  for (const h of hosts.hosts) {
    const ctr = await hosts.containerNs();
    const add = await hosts.mesos(h, 'add', 'dcos', ctr, `c${h.i}`, h === h1 ? ['8080:80'] : []);
    if (add.exitCode !== 0) throw new Error(`mesos-cni exec add on ${h.name}: ${add.stdout}${add.stderr}`);
    fx.ctrs.push(ctr);
    fx.ips.push(JSON.parse(add.stdout).ip4.ip.split('/')[0]);
    await serve(ctr, 80, `hello ${h.i}`);
  }
  // Every host has the other two in its data plane.
  for (const h of hosts.hosts) {
    await until(`peers programmed on ${h.name}`, 30_000, async () => (await hosts.exec(h.name, ['bridge', 'fdb', 'show', 'dev', 'vtep1024'])).split('\n').filter((l) => l.includes(' dst ')).length === 2);
  }
});

test.after.always(async () => {
  if (!fx) return;
  for (const s of fx.servers) s.kill('SIGKILL');
  await fx.docker?.close();
  await fx.hosts.close();
});

const serial = skip ? test.serial.skip : test.serial;
const titled = (s: string) => (skip ? `${s} (skipped: ${skip})` : s);

serial(titled('every Mesos container reaches every other across hosts, by ICMP and TCP'), async (t) => {
  const { hosts, ctrs, ips } = fx!;
  for (const [a, ca] of ctrs.entries()) {
    for (const [b] of ctrs.entries()) {
      if (a === b) continue;
      const ping = await hosts.exec(ca.name, ['ping', '-c', '2', '-i', '0.2', '-W', '2', ips[b]!]).catch((e: Error) => e.message);
      t.regex(ping, / 0% packet loss/, `container ${a} → ${b} (${ips[b]}) ICMP`);
      t.is(await fetchTcp(ca, ips[b]!, 80), `hello ${b}`, `container ${a} → ${b} TCP`);
    }
  }
  // Through the overlay: host 1's route to host 2's containers points at host 2's VTEP.
  t.regex(await hosts.exec(hosts.hosts[0]!.name, ['ip', 'route', 'get', ips[1]!]), /via 44\.128\.0\.\d+ dev vtep1024/);
});

serial(titled("a port mapping on host 1 (port mapper's DNAT) is reachable from host 2 and from host 2's container"), async (t) => {
  const { hosts, ctrs } = fx!;
  const [h1, h2] = hosts.hosts as [Host, Host];
  t.is(await fetchTcp(h2, h1.ip, 8080), 'hello 0', 'host 2 → host 1:8080');
  t.is(await fetchTcp(ctrs[1]!, h1.ip, 8080), 'hello 0', "host 2's container → host 1:8080");
});

serial(titled("a container on the agent's Docker network (d-dcos, created through the Engine API) reaches a Mesos container on another host"), async (t) => {
  const { hosts, docker, ips } = fx!;
  const net = (await docker!.api('GET', '/networks/dcos')).json<{ Options: Record<string, string>; IPAM: { Config: { Subnet: string }[] } }>();
  t.is(net.Options['com.docker.network.bridge.name'], 'd-dcos');
  t.is(net.Options['com.docker.network.bridge.enable_ip_masquerade'], 'false');
  const self = (await agentInfo(hosts, hosts.hosts[2]!)).overlays[0];
  t.deepEqual(net.IPAM.Config.map((c) => c.Subnet), [self.docker_bridge.ip]);
  const r = await docker!.run('d1', 'dcos', ['sh', '-c', `ping -c 2 -W 2 ${ips[0]} && echo PING-OK; timeout 5 nc ${ips[0]} 80`]);
  t.regex(r.out, /PING-OK/, r.out);
  t.regex(r.out, /hello 0/, 'TCP from the Docker container to the Mesos container on host 1');
  t.true(r.ip.startsWith(self.docker_bridge.ip.split('.').slice(0, 3).join('.')), `docker container ${r.ip} in ${self.docker_bridge.ip}`);
});

serial(titled('agents killed -9 and restarted while two containers ping across hosts: no packet lost, the same AgentInfo'), async (t) => {
  const { hosts, ctrs, ips } = fx!;
  const [h1, h2] = hosts.hosts as [Host, Host];
  const before = [await registered(hosts, h1), await registered(hosts, h2)];
  const ping = spawn('ip', ['netns', 'exec', ctrs[0]!.name, 'ping', '-i', '0.05', '-c', '120', '-W', '1', ips[1]!], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  ping.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const done = new Promise<number | null>((r) => ping.once('exit', (c) => r(c)));
  await new Promise((r) => setTimeout(r, 500));
  for (const h of [h1, h2]) {
    t.is(await hosts.kill(`agent${h.i}`, 'SIGKILL'), null);
    startAgent(hosts, h);
  }
  const after = [await until('agent 1 back', 30_000, () => registered(hosts, h1)), await until('agent 2 back', 30_000, () => registered(hosts, h2))];
  t.is(await done, 0);
  const m = /(\d+) packets transmitted, (\d+) received/.exec(out);
  t.truthy(m, out);
  t.is(m![1], m![2], `no loss: ${m![0]}`);
  // AgentInfo is ip and overlays; configuration_attempts counts this process's acknowledgements.
  const strip = (i: { configuration_attempts: number }) => ({ ...i, configuration_attempts: undefined });
  t.deepEqual(after.map(strip), before.map(strip), 'identical AgentInfo after the restart');
  t.deepEqual(after.map((i) => i.configuration_attempts), [1, 1]);
  t.regex(hosts.log(h1), /"resuming from the state file"/);
});

serial(titled("a host deleted at the master (its agent gone) leaves the others' routes, neighbours and FDB entries"), async (t) => {
  const { hosts } = fx!;
  const [h1, h2, h3] = hosts.hosts as [Host, Host, Host];
  const vtep3: string = (await agentInfo(hosts, h3)).overlays[0].backend.vxlan.vtep_ip.split('/')[0];
  t.is(await hosts.kill('agent2', 'SIGTERM'), 0, 'SIGTERM: exit 0');
  const del = await hosts.http(h1, MASTER, 'POST', '/overlay-master/agents/delete', { agents: [h3.ip] });
  t.is(del.status, 200);
  for (const h of [h1, h2]) {
    const view = async () => [await hosts.exec(h.name, ['ip', 'neigh', 'show', 'dev', 'vtep1024']), await hosts.exec(h.name, ['bridge', 'fdb', 'show', 'dev', 'vtep1024']), await hosts.exec(h.name, ['ip', 'route']), await hosts.exec(h.name, ['ip', 'route', 'show', 'table', '42'])].join('\n');
    const v = await until(`host 3 gone from ${h.name}`, 10_000, async () => {
      const text = await view();
      return !text.includes(vtep3) && !text.includes(h3.ip) ? text : undefined;
    });
    t.notRegex(v, new RegExp(h3.ip.replaceAll('.', '\\.')));
  }
  // Host 3's own data plane stays as it was: SIGTERM leaves the kernel alone.
  t.regex(await hosts.exec(h3.name, ['ip', 'route']), /via 44\.128\.0\.\d+ dev vtep1024/);
});
