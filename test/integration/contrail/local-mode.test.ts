// Local mode with real traffic: two fake hosts on an underlay, the overlay master (embedded store)
// on host 1, an overlay agent on each, an "outside" namespace on host 1's public interface eth1.
// Two networks on one host are isolated, and a network policy lets exactly its rules cross; one
// network spans both hosts (VXLAN, one VNI); a floating
// IP answers from outside and the container's egress arrives from it; a security group allows
// exactly its ports and a change applies live; every bad label is refused naming it, leaving nothing;
// DEL twice and without netns; the plugin as the port mapper's delegate.
import test from 'ava';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { callPlugin, ourBinDir, ourPlugin, REFERENCE_DIR } from '../../helpers/cni.js';
import { isRoot, type TestNs } from '../../helpers/fixture.js';
import { Hosts, until, type Host } from '../../helpers/overlay/hosts.js';
import { fetchTcp } from '../../helpers/traffic.js';
import { endpointChains, endpointTag } from '../../../lib/overlay/contrail/rules.js';

const MASTER = 5055;
const PLUGIN = ourPlugin('contrail-cni-plugin');
const POOL = 'default-domain:default:public:pool1';

interface Fx {
  hosts: Hosts;
  outside: TestNs;
  procs: ReturnType<typeof spawn>[];
  seq: number;
}
let fx: Fx | undefined;

const conf = (h: Host, labels: Record<string, string>, extra: Record<string, unknown> = {}) => ({
  cniVersion: '0.4.0',
  name: 'contrail-cni-plugin',
  type: 'contrail-cni-plugin',
  contrail: { master: `10.213.0.1:${MASTER}`, 'config-dir': join(h.dir, 'ports'), 'outbox-dir': join(h.dir, 'outbox') },
  args: { 'org.apache.mesos': { network_info: { name: 'contrail-cni-plugin', labels: { labels: Object.entries(labels).map(([key, value]) => ({ key, value })) } } } },
  ...extra,
});

async function run(command: 'ADD' | 'DEL' | 'CHECK' | 'GC' | 'STATUS', h: Host, c: object, id: string, ctr?: TestNs) {
  return callPlugin(PLUGIN, c, { command, containerId: id, ...(ctr && { netns: ctr.path }), hostNs: h.name, path: `${await ourBinDir()}:${REFERENCE_DIR}` });
}

/** A container on `h` with these labels; returns its namespace and address. */
async function attach(h: Host, labels: Record<string, string>, id = `c${fx!.seq++}`): Promise<{ ctr: TestNs; ip: string; id: string }> {
  const ctr = await fx!.hosts.containerNs();
  const r = await run('ADD', h, conf(h, labels), id, ctr);
  if (r.exitCode !== 0) throw new Error(`ADD ${id}: ${r.stdout}${r.stderr}`);
  return { ctr, ip: JSON.parse(r.stdout).ips[0].address.split('/')[0], id };
}

/** A TCP server in `ns` that answers every connection with the peer's address (or `reply`). */
async function serve(ns: TestNs, port: number, reply?: string): Promise<void> {
  const code = `import socket,sys\ns=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('0.0.0.0', ${port})); s.listen(16); print('ready', flush=True)\nwhile True:\n  c,a=s.accept(); c.sendall((sys.argv[1] if sys.argv[1] else a[0]).encode()); c.close()`;
  const p = spawn('ip', ['netns', 'exec', ns.name, 'python3', '-c', code, reply ?? ''], { stdio: ['ignore', 'pipe', 'ignore'] });
  fx!.procs.push(p);
  await new Promise<void>((resolve, reject) => (p.stdout!.once('data', () => resolve()), p.once('exit', (c) => reject(new Error(`server exited ${c}`)))));
}

/** `mesos-cni contrail …` run in host `h` against the master. */
const cli = (h: Host, args: string[]) => fx!.hosts.exec(h.name, [process.execPath, fileURLToPath(new URL('../../../bin/mesos-cni.js', import.meta.url)), 'contrail', '--master', `${fx!.hosts.hosts[0]!.ip}:${MASTER}`, ...args]);
const ping = async (from: TestNs, ip: string) => (await fx!.hosts.exec(from.name, ['ping', '-c', '1', '-W', '1', ip]).then(() => true, () => false));
const api = (method: string, path: string, body?: unknown) => fx!.hosts.http(fx!.hosts.hosts[0]!, MASTER, method, path, body);
const state = async () => (await api('GET', '/contrail/state')).json();

const skip = !isRoot ? 'needs root' : undefined;

test.before(async (t) => {
  if (skip) return;
  t.timeout(120_000);
  const hosts = await Hosts.create('ctl', 2);
  fx = { hosts, outside: undefined as unknown as TestNs, procs: [], seq: 0 };
  const [h1, h2] = hosts.hosts as [Host, Host];
  // Outside: a client on host 1's public interface (eth1, 198.51.100.1/24), with its own default route there.
  fx.outside = await hosts.containerNs();
  await h1.nl.link.add({ kind: 'veth', name: 'eth1', up: true, peer: { name: 'eth0', netns: fx.outside.ns } });
  await h1.nl.addr.add({ dev: 'eth1', address: '198.51.100.1/24' });
  await fx.outside.nl.request([
    { op: 'link.set', spec: { name: 'lo', up: true } },
    { op: 'addr.add', spec: { dev: 'eth0', address: '198.51.100.200/24' } },
    { op: 'link.set', spec: { name: 'eth0', up: true } },
  ]);
  hosts.startMaster(h1, { listen: `0.0.0.0:${MASTER}`, advertise: `${h1.ip}:${MASTER}`, replicated_log_dir: join(h1.dir, 'store'), network: { vtep_subnet: '44.128.0.0/20', vtep_mac_oui: '70:B3:D5:00:00:00', overlays: [{ name: 'dcos', subnet: '9.0.0.0/8', prefix: 24 }] } });
  await hosts.relay(h1, [MASTER]);
  for (const h of [h1, h2]) hosts.startAgent(h, { master: `${h1.ip}:${MASTER}`, listen: '127.0.0.1:0', reconcile_interval_ms: 500, network_config: { mesos_bridge: false, docker_bridge: false } });
  await until('both agents registered at the master', 30_000, async () => {
    const r = await api('GET', '/overlay-master/state').catch(() => undefined);
    return r?.status === 200 && r.json().agents.length === 2;
  });
  // Host 1 forwards between its public interface and the containers (as any router must).
  // The pool through the command line, as an operator makes it (run in host 1, like the master).
  await cli(h1, ['pool', 'create', POOL, '--subnet', '198.51.100.0/24', '--interface', 'eth1', '--first', '198.51.100.10', '--last', '198.51.100.20']);
  t.is((await api('GET', '/contrail/pools')).json()[0].first, '198.51.100.10');
});

test.after.always(async () => {
  if (!fx) return;
  for (const p of fx.procs) p.kill('SIGKILL');
  await fx.hosts.close();
});

const serial = skip ? test.serial.skip : test.serial;
const titled = (s: string) => (skip ? `${s} (skipped: ${skip})` : s);

serial(titled('two networks on one host: each reaches its own, neither the other'), async (t) => {
  const [h1] = fx!.hosts.hosts as [Host];
  const a1 = await attach(h1, { networks: 'red', 'network-subnets': '10.50.0.0/24' });
  const a2 = await attach(h1, { networks: 'default-domain:default:red' });
  const b1 = await attach(h1, { networks: 'blue', 'project-name': 'default', 'network-subnets': '10.51.0.0/24', 'network-ip': '10.51.0.77' });
  t.is(a1.ip, '10.50.0.2');
  t.is(a2.ip, '10.50.0.3');
  t.is(b1.ip, '10.51.0.77', 'network-ip as an address is that address');
  t.true(await ping(a1.ctr, a2.ip), 'red → red');
  t.false(await ping(a1.ctr, b1.ip), 'red → blue dropped');
  t.false(await ping(b1.ctr, a1.ip), 'blue → red dropped');
  await serve(b1.ctr, 80, 'blue');
  t.is(await fetchTcp(a1.ctr, b1.ip, 80), '', 'no TCP between networks');
  const s = await state();
  t.deepEqual(s.networks.map((n: { fq: string; subnet: string }) => [n.fq, n.subnet]).sort(), [['default-domain:default:blue', '10.51.0.0/24'], ['default-domain:default:red', '10.50.0.0/24']]);
  t.not(s.networks[0].vni, s.networks[1].vni, 'one VNI per network');
});

serial(titled('a network policy attached to both networks lets exactly its rules cross (also across hosts), changed and deleted live'), async (t) => {
  const [h1, h2] = fx!.hosts.hosts as [Host, Host];
  const red = 'default-domain:default:red';
  const blue = 'default-domain:default:blue';
  const r1 = await attach(h1, { networks: 'red' });
  const r2 = await attach(h2, { networks: 'red' });
  const b = await attach(h1, { networks: 'blue' });
  await serve(b.ctr, 80, 'blue 80');
  await serve(b.ctr, 81, 'blue 81');
  t.is(await fetchTcp(r1.ctr, b.ip, 80), '', 'isolated before any policy');
  // Through the command line, as an operator attaches it.
  await cli(h1, ['policy', 'set', 'default-domain:default:red-to-blue', '--network', red, '--network', blue, '--rule', `> tcp ${red} ${blue} 80`]);
  t.is(await until('the policy applied live', 15_000, () => fetchTcp(r1.ctr, b.ip, 80)), 'blue 80', 'red → blue:80 allowed');
  t.is(await until('from host 2 as well', 15_000, () => fetchTcp(r2.ctr, b.ip, 80)), 'blue 80', 'red on host 2 → blue on host 1:80');
  t.is(await fetchTcp(r1.ctr, b.ip, 81), '', 'another port: dropped');
  t.false(await ping(r1.ctr, b.ip), 'icmp not in the policy');
  await serve(r1.ctr, 80, 'red 80');
  t.is(await fetchTcp(b.ctr, r1.ip, 80), '', '">" is one way: blue → red dropped');
  t.is((await api('POST', '/contrail/policies', { fq: 'default-domain:default:red-to-blue', networks: [red, blue], rules: [{ direction: '<>', protocol: 'icmp', src: red, dst: blue }] })).status, 200);
  t.true(await until('icmp both ways', 15_000, () => ping(b.ctr, r1.ip)), 'blue → red icmp (<>)');
  t.true(await ping(r1.ctr, b.ip), 'red → blue icmp');
  t.is(await fetchTcp(r1.ctr, b.ip, 80), '', 'tcp 80 gone with the replaced rules');
  const bad = await api('POST', '/contrail/policies', { fq: 'default-domain:default:x', networks: [red], rules: [{ src: red, dst: blue }] });
  t.is(bad.status, 400);
  t.regex(bad.json().error, /^rules\[0\]\.dst: default-domain:default:blue is not a network this policy is attached to/);
  t.is((await api('DELETE', `/contrail/networks/${blue}`)).status, 409, 'a network with a policy attached stays');
  t.is((await api('DELETE', '/contrail/policies/default-domain:default:red-to-blue')).status, 200);
  t.true(await until('isolated again', 15_000, async () => !(await ping(r1.ctr, b.ip))));
  for (const [h, a] of [[h1, r1], [h2, r2], [h1, b]] as const) t.is((await run('DEL', h, conf(h, {}), a.id, a.ctr)).exitCode, 0);
});

serial(titled('one network across two hosts: connected through its VXLAN device (cvx<VNI>)'), async (t) => {
  const [h1, h2] = fx!.hosts.hosts as [Host, Host];
  const a = await attach(h1, { networks: 'green', 'network-subnets': '10.52.0.0/24' });
  const b = await attach(h2, { networks: 'green' });
  await serve(b.ctr, 8080, 'hello from host 2');
  await until('host 1 routes to the container on host 2', 15_000, async () => /dev cvx/.test(await fx!.hosts.exec(h1.name, ['ip', 'route', 'get', b.ip])));
  t.true(await until('ping across hosts', 10_000, () => ping(a.ctr, b.ip)));
  t.is(await fetchTcp(a.ctr, b.ip, 8080), 'hello from host 2');
  t.true(await ping(b.ctr, a.ip), 'and back');
});

serial(titled('a floating IP: reachable from outside (1:1 NAT in), egress seen outside from it; released on DEL'), async (t) => {
  const [h1] = fx!.hosts.hosts as [Host];
  const f = await attach(h1, { networks: 'red', 'floating-ips': `${POOL}(198.51.100.15)` }, 'fip1');
  const g = await attach(h1, { networks: 'red', 'floating-ips': POOL }, 'fip2');
  await serve(f.ctr, 80, 'from the fip container');
  t.is(await fetchTcp(fx!.outside, '198.51.100.15', 80), 'from the fip container', 'outside → floating IP');
  await serve(fx!.outside, 9000);
  t.is(await fetchTcp(f.ctr, '198.51.100.200', 9000), '198.51.100.15', "the container's egress arrives from its floating IP");
  const s = await state();
  t.deepEqual(s.endpoints.find((e: { container_id: string }) => e.container_id === 'fip2').fips, [{ pool: POOL, ip: '198.51.100.10' }], 'next free address of the pool');
  t.is((await run('DEL', h1, conf(h1, {}), 'fip1', f.ctr)).exitCode, 0);
  t.is(await fetchTcp(fx!.outside, '198.51.100.15', 80), '', 'gone after DEL');
  t.notRegex(await fx!.hosts.exec(h1.name, ['ip', 'addr', 'show', 'eth1']), /198\.51\.100\.15/);
  const again = await attach(h1, { networks: 'red', 'floating-ips': `${POOL}(198.51.100.15)` }, 'fip3');
  t.truthy(again.ip, 'the released address is taken again');
  t.is((await run('DEL', h1, conf(h1, {}), 'fip3', again.ctr)).exitCode, 0);
  t.is((await run('DEL', h1, conf(h1, {}), 'fip2', g.ctr)).exitCode, 0);
});

serial(titled('security groups: exactly the declared ports; a group change applies live to the running interface'), async (t) => {
  const [h1] = fx!.hosts.hosts as [Host];
  t.is((await api('POST', '/contrail/groups', { fq: 'default-domain:default:web', rules: [{ direction: 'ingress', protocol: 'tcp', ports: '80' }, { direction: 'egress', protocol: 'any' }] })).status, 200);
  const s = await attach(h1, { networks: 'red', 'security-groups': 'web' });
  const c = await attach(h1, { networks: 'red' });
  await serve(s.ctr, 80, 'port 80');
  await serve(s.ctr, 81, 'port 81');
  t.is(await fetchTcp(c.ctr, s.ip, 80), 'port 80', 'declared port: allowed');
  t.is(await fetchTcp(c.ctr, s.ip, 81), '', 'other port: dropped');
  t.false(await ping(c.ctr, s.ip), 'ICMP not declared: dropped');
  t.true(await ping(s.ctr, c.ip), 'egress any: the group allows it (and its replies)');
  t.is((await api('POST', '/contrail/groups', { fq: 'default-domain:default:web', rules: [{ direction: 'ingress', protocol: 'tcp', ports: '81' }, { direction: 'ingress', protocol: 'icmp', remote: { cidr: `${c.ip}/32` } }] })).status, 200);
  t.is(await until('port 81 allowed live', 15_000, () => fetchTcp(c.ctr, s.ip, 81)), 'port 81');
  t.is(await fetchTcp(c.ctr, s.ip, 80), '', 'port 80 no longer');
  t.true(await ping(c.ctr, s.ip), 'ICMP from the declared remote');
  t.false(await ping(s.ctr, c.ip), 'no egress rule left: egress dropped');
  t.is((await api('DELETE', '/contrail/groups/default-domain:default:web')).status, 409, 'a group in use cannot be deleted');
});

serial(titled('every bad label is a CNI error naming it, and nothing is left behind (host, container, master, records)'), async (t) => {
  const [h1] = fx!.hosts.hosts as [Host];
  const cases: [Record<string, string>, RegExp][] = [
    [{ networks: 'a:b:c:d' }, /^label networks: expected domain:project:network/],
    [{ networks: 'red', 'floating-ips': 'default-domain:default:public:nopool' }, /^label floating-ips: no floating-IP pool default-domain:default:public:nopool/],
    [{ networks: 'red', 'floating-ips': `${POOL}(198.51.100.99)` }, /^label floating-ips: 198\.51\.100\.99 is outside pool/],
    [{ networks: 'red', 'floating-ips': `${POOL}(198.51.100.11)` }, /^label floating-ips: 198\.51\.100\.11 of pool .* is taken/],
    [{ networks: 'red', 'network-subnets': '10.99.0.0/24' }, /^label network-subnets: network default-domain:default:red has subnet 10\.50\.0\.0\/24, not 10\.99\.0\.0\/24/],
    [{ networks: 'red', 'network-ip': '10.50.0.2' }, /^label network-ip: 10\.50\.0\.2 is taken/],
    [{ networks: 'red', 'security-groups': 'nosuch' }, /^label security-groups: no security group default-domain:default:nosuch/],
    [{ networks: 'nowhere' }, /^label networks: network default-domain:default:nowhere does not exist and no subnet was given/],
  ];
  const holder = await attach(h1, { networks: 'red', 'floating-ips': `${POOL}(198.51.100.11)` }, 'holder');
  const before = JSON.stringify((await state()).endpoints.map((e: { container_id: string }) => e.container_id).sort());
  const hostLinks = async () => (await fx!.hosts.exec(h1.name, ['ip', '-o', 'link'])).split('\n').length;
  const linksBefore = await hostLinks();
  for (const [labels, re] of cases) {
    const ctr = await fx!.hosts.containerNs();
    const id = `bad${fx!.seq++}`;
    const r = await run('ADD', h1, conf(h1, labels), id, ctr);
    t.is(r.exitCode, 1, JSON.stringify(labels));
    t.regex(JSON.parse(r.stdout).msg, re, JSON.stringify(labels));
    t.is(JSON.stringify((await state()).endpoints.map((e: { container_id: string }) => e.container_id).sort()), before, `${JSON.stringify(labels)}: nothing at the master`);
    t.is(await hostLinks(), linksBefore, `${JSON.stringify(labels)}: no link left on the host`);
    t.notRegex(await fx!.hosts.exec(ctr.name, ['ip', '-o', 'link']), /eth0/, 'no interface in the container');
    t.false(existsSync(join(h1.dir, 'ports', id)), 'no record');
  }
  t.is((await run('DEL', h1, conf(h1, {}), 'holder', holder.ctr)).exitCode, 0);
});

serial(titled('a failure after the attach (the pool interface missing on this host) undoes everything; DEL twice and without netns'), async (t) => {
  const [h1] = fx!.hosts.hosts as [Host];
  t.is((await api('POST', '/contrail/pools', { fq: 'default-domain:default:public:nope', subnet: '203.0.113.0/24', interface: 'nope0' })).status, 200);
  const ctr = await fx!.hosts.containerNs();
  const r = await run('ADD', h1, conf(h1, { networks: 'red', 'floating-ips': 'default-domain:default:public:nope' }), 'noif', ctr);
  t.is(r.exitCode, 1);
  t.regex(JSON.parse(r.stdout).msg, /label floating-ips: pool default-domain:default:public:nope's interface nope0 does not exist on this host/);
  t.falsy((await state()).endpoints.find((e: { container_id: string }) => e.container_id === 'noif'), 'detached at the master');
  t.false(existsSync(join(h1.dir, 'ports', 'noif')));
  const ok = await attach(h1, { networks: 'red' }, 'twice');
  const tap = (await fx!.hosts.exec(h1.name, ['ip', '-o', 'link'])).match(/tap[0-9a-f]{12}/g)!;
  t.truthy(tap.length);
  t.is((await run('DEL', h1, conf(h1, {}), 'twice', ok.ctr)).exitCode, 0);
  t.is((await run('DEL', h1, conf(h1, {}), 'twice', ok.ctr)).exitCode, 0, 'DEL twice');
  t.is((await run('DEL', h1, conf(h1, {}), 'twice')).exitCode, 0, 'DEL without netns');
  t.falsy((await state()).endpoints.find((e: { container_id: string }) => e.container_id === 'twice'));
  const saved = await fx!.hosts.exec(h1.name, ['iptables-save', '-t', 'filter']);
  t.false(saved.includes(endpointChains('twice', 'eth0').egress), 'its chains gone');
  t.false(saved.includes(endpointTag('twice', 'eth0')), 'its jumps gone');
});

serial(titled('CHECK finds what ADD made and names what went missing; GC releases exactly the attachments the runtime no longer lists'), async (t) => {
  const [h1] = fx!.hosts.hosts as [Host];
  const ctr = await fx!.hosts.containerNs();
  const add = await run('ADD', h1, conf(h1, { networks: 'red', 'network-subnets': '10.50.0.0/24', 'floating-ips': POOL }), 'chk', ctr);
  t.is(add.exitCode, 0, add.stdout);
  const prev = JSON.parse(add.stdout);
  const checkConf = { ...conf(h1, {}), prevResult: prev };
  const check = async () => {
    const r = await run('CHECK', h1, checkConf, 'chk', ctr);
    return r.exitCode === 0 ? 'ok' : JSON.parse(r.stdout).msg;
  };
  t.is(await check(), 'ok');
  const fip = (await state()).endpoints.find((e: { container_id: string }) => e.container_id === 'chk').fips[0].ip;
  await fx!.hosts.exec(h1.name, ['ip', 'addr', 'del', `${fip}/32`, 'dev', 'eth1']);
  t.is(await check(), `floating IP ${fip}: not on eth1`);
  await fx!.hosts.exec(h1.name, ['ip', 'addr', 'add', `${fip}/32`, 'dev', 'eth1']);
  await fx!.hosts.exec(ctr.name, ['ip', 'route', 'del', 'default']);
  t.is(await check(), `container: route to 0.0.0.0/0 via ${prev.ips[0].gateway} missing`);
  t.regex((JSON.parse((await run('CHECK', h1, checkConf, 'other', ctr)).stdout) as { msg: string }).msg, /^no port record of other\/eth0/);

  const g1 = await attach(h1, { networks: 'red' }, 'gc1');
  const g2 = await attach(h1, { networks: 'red' }, 'gc2');
  const gcConf = (valid?: object[]) => ({ ...conf(h1, {}), cniVersion: '1.1.0', ...(valid && { 'cni.dev/valid-attachments': valid }) });
  const endpoints = async () => (await state()).endpoints.map((e: { container_id: string }) => e.container_id).filter((id: string) => ['chk', 'gc1', 'gc2'].includes(id)).sort();
  t.is((await run('GC', h1, gcConf(), '')).exitCode, 0);
  t.deepEqual(await endpoints(), ['chk', 'gc1', 'gc2'], 'no list: nothing released');
  const keep = [{ containerID: 'chk', ifname: 'eth0' }, { containerID: 'gc1', ifname: 'eth0' }];
  const all = (await state()).endpoints.map((e: { container_id: string; ifname: string }) => ({ containerID: e.container_id, ifname: e.ifname })).filter((a: { containerID: string }) => !['chk', 'gc1', 'gc2'].includes(a.containerID));
  const r = await run('GC', h1, gcConf([...keep, ...all]), '');
  t.is(r.exitCode, 0, r.stdout + r.stderr);
  t.deepEqual(await endpoints(), ['chk', 'gc1'], 'gc2 released at the master');
  t.notRegex(await fx!.hosts.exec(g2.ctr.name, ['ip', '-o', 'link']), /eth0/, "gc2's interface gone with its tap");
  t.false((await fx!.hosts.exec(h1.name, ['iptables-save', '-t', 'filter'])).includes(endpointTag('gc2', 'eth0')), "gc2's rules gone");
  t.regex(await fx!.hosts.exec(g1.ctr.name, ['ip', '-o', 'link']), /eth0/, 'gc1 listed: kept');
  for (const [id, c] of [['chk', ctr], ['gc1', g1.ctr]] as const) t.is((await run('DEL', h1, conf(h1, {}), id, c)).exitCode, 0);
});

serial(titled('STATUS: ready while a master leads; code 50 naming the master when none answers'), async (t) => {
  const [h1] = fx!.hosts.hosts as [Host];
  const c = { ...conf(h1, {}), cniVersion: '1.1.0' };
  const ok = await run('STATUS', h1, c, '');
  t.is(ok.exitCode, 0, ok.stdout + ok.stderr);
  const gone = await run('STATUS', h1, { ...c, contrail: { ...c.contrail, master: '10.213.0.1:5999', 'http-timeout': 2 } }, '');
  t.is(gone.exitCode, 1);
  t.like(JSON.parse(gone.stdout), { code: 50, msg: 'overlay master 10.213.0.1:5999 unreachable' });
});

serial(titled('as the port mapper delegate: a host port reaches the container from outside'), async (t) => {
  const [h1] = fx!.hosts.hosts as [Host];
  const ctr = await fx!.hosts.containerNs();
  const inner = conf(h1, {});
  const pm = {
    cniVersion: '0.4.0',
    name: 'contrail-pm',
    type: 'mesos-cni-port-mapper',
    chain: 'CONTRAIL-PM',
    excludeDevices: [],
    delegate: { type: 'contrail-cni-plugin', contrail: inner.contrail },
    args: { 'org.apache.mesos': { network_info: { name: 'contrail-pm', labels: { labels: [{ key: 'networks', value: 'red' }] }, port_mappings: [{ host_port: 18080, container_port: 80, protocol: 'tcp' }] } } },
  };
  const r = await callPlugin(join(await ourBinDir(), 'mesos-cni-port-mapper'), pm, { command: 'ADD', containerId: 'pm1', netns: ctr.path, hostNs: h1.name, path: `${await ourBinDir()}:${REFERENCE_DIR}` });
  t.is(r.exitCode, 0, r.stdout + r.stderr);
  await serve(ctr, 80, 'mapped');
  t.is(await fetchTcp(fx!.outside, '198.51.100.1', 18080), 'mapped', 'outside → host 1:18080 → the contrail container');
  const d = await callPlugin(join(await ourBinDir(), 'mesos-cni-port-mapper'), pm, { command: 'DEL', containerId: 'pm1', netns: ctr.path, hostNs: h1.name, path: `${await ourBinDir()}:${REFERENCE_DIR}` });
  t.is(d.exitCode, 0, d.stdout);
  t.falsy((await state()).endpoints.find((e: { container_id: string }) => e.container_id === 'pm1'));
});
