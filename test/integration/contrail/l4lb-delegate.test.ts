// contrail-cni-plugin (local mode) as the delegate of dcos-l4lb, as DC/OS would wrap it: one fake
// host whose `spartan` link holds dcos-net's DNS addresses, the overlay master (embedded store) and
// an overlay agent on it. Through dcos-l4lb, the Contrail labels in network_info reach the delegate:
// the result is the contrail address; the container has eth0 on the network (default route via its
// gateway) and dcos-l4lb's `spartan` (lease, four DNS routes, host route back) and `minuteman`
// (checkpoint holding its netns); two such containers reach each other over contrail, each reaches
// spartan DNS over `spartan` despite the contrail default route, and a VIP that dcos-net would put
// on `minuteman` reaches the other over contrail; the master lists both endpoints. DEL (twice,
// and without netns) leaves nothing: no tap, chains, spartan veth, route, lease, checkpoint, record
// or endpoint. A label the delegate refuses (locally or at the master) fails the ADD naming it,
// and a failure of dcos-l4lb's own after the contrail attach undoes the attach, master included.
import test, { type ExecutionContext } from 'ava';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { callPlugin, ourBinDir, REFERENCE_DIR } from '../../helpers/cni.js';
import { ipJson, isRoot, type TestNs } from '../../helpers/fixture.js';
import { Hosts, until, type Host } from '../../helpers/overlay/hosts.js';
import { fetchTcp, serveTcp } from '../../helpers/traffic.js';
import { endpointChains, endpointTag, localTapName } from '../../../lib/overlay/contrail/rules.js';
import { leases, spartanHost, spartanHostRoutes } from '../plugins/dcos-l4lb-fixture.js';

const MASTER = 5055;
const NAME = 'contrail-l4lb';
const SUBNET = '10.61.0.0/24';
const VIP = '11.0.0.7';

interface Fx {
  hosts: Hosts;
  h: Host;
  /** dcos-l4lb's spartan lease store and minuteman checkpoint directory (never the machine's). */
  spartanDir: string;
  mmPath: string;
}
let fx: Fx | undefined;

/** dcos-l4lb wrapping contrail-cni-plugin (local mode); the task's Contrail labels in network_info. */
function conf(labels: Record<string, string>): Record<string, unknown> {
  const h = fx!.h;
  return {
    cniVersion: '0.4.0',
    name: NAME,
    type: 'dcos-l4lb',
    spartan: { enable: true, dataDir: fx!.spartanDir },
    minuteman: { enable: true, path: fx!.mmPath },
    delegate: {
      type: 'contrail-cni-plugin',
      contrail: { master: `10.213.0.1:${MASTER}`, 'config-dir': join(h.dir, 'ports'), 'outbox-dir': join(h.dir, 'outbox') },
    },
    args: { 'org.apache.mesos': { network_info: { name: NAME, labels: { labels: Object.entries(labels).map(([key, value]) => ({ key, value })) } } } },
  };
}

async function run(command: 'ADD' | 'DEL', c: object, id: string, ctr?: TestNs) {
  const path = `${await ourBinDir()}:${REFERENCE_DIR}`;
  return callPlugin(join(await ourBinDir(), 'dcos-l4lb'), c, { command, containerId: id, ...(ctr && { netns: ctr.path }), hostNs: fx!.h.name, path });
}

const api = (method: string, path: string, body?: unknown) => fx!.hosts.http(fx!.h, MASTER, method, path, body);
const state = async () => (await api('GET', '/contrail/state')).json();
const endpointIds = async (): Promise<string[]> => (await state()).endpoints.map((e: { container_id: string }) => e.container_id).sort();
const hostExec = (cmd: string[]) => fx!.hosts.exec(fx!.h.name, cmd);
const msgOf = (stdout: string): string => JSON.parse(stdout).msg;
const ping = (from: TestNs, ip: string) => fx!.hosts.exec(from.name, ['ping', '-c', '1', '-W', '1', ip]).then(() => true, () => false);

async function linkNames(ns: TestNs): Promise<string[]> {
  return (await ipJson<{ ifname: string }[]>(ns, ['link', 'show'])).map((l) => l.ifname).sort();
}

async function checkpoint(id: string): Promise<string | undefined> {
  return readFile(join(fx!.mmPath, id), 'utf8').catch(() => undefined);
}

/** dcos-l4lb's GC records of this network (none once every attachment is gone). */
async function records(): Promise<string[]> {
  return (await readdir(join(fx!.spartanDir, '.dcos-l4lb', NAME)).catch(() => [] as string[])).filter((f) => !f.startsWith('.'));
}

/**
 * Nothing of these attachments is left: on the host no veth but its underlay eth0 (no contrail tap,
 * no spartan host end), no route to the spartan subnet, no rule or chain of theirs; no spartan
 * lease, checkpoint, GC record or contrail port record; no endpoint at the master.
 */
async function nothingLeft(t: ExecutionContext, ids: string[], what: string): Promise<void> {
  const h = fx!.h;
  t.deepEqual((await ipJson<{ ifname: string }[]>(h, ['link', 'show', 'type', 'veth'])).map((l) => l.ifname), ['eth0'], `${what}: host veths`);
  t.deepEqual(await spartanHostRoutes(h), [], `${what}: host routes to the spartan subnet`);
  const filter = await hostExec(['iptables-save', '-t', 'filter']);
  for (const id of ids) {
    t.false(filter.includes(endpointChains(id, 'eth0').egress) || filter.includes(endpointChains(id, 'eth0').ingress), `${what}: ${id}'s chains`);
    t.false(filter.includes(endpointTag(id, 'eth0')), `${what}: ${id}'s jumps`);
    t.false(filter.includes(localTapName(id, 'eth0')), `${what}: ${id}'s tap in a rule`);
    t.is(await checkpoint(id), undefined, `${what}: ${id}'s checkpoint`);
    t.deepEqual(await readdir(join(h.dir, 'ports', id)).catch(() => []), [], `${what}: ${id}'s contrail record`);
  }
  t.deepEqual(await leases(fx!.spartanDir, 'spartan-network'), [], `${what}: spartan leases`);
  t.deepEqual(await records(), [], `${what}: dcos-l4lb GC records`);
  const at = await endpointIds();
  t.deepEqual(at.filter((id) => ids.includes(id)), [], `${what}: endpoints at the master`);
}

const skip = !isRoot ? 'needs root' : undefined;

test.before(async (t) => {
  if (skip) return;
  t.timeout(120_000);
  const hosts = await Hosts.create('cl4', 1);
  const h = hosts.hosts[0]!;
  fx = { hosts, h, spartanDir: join(h.dir, 'spartan'), mmPath: join(h.dir, 'l4lb') };
  // What dcos-net.service sets up on every agent: `spartan` holding 198.51.100.1-3/32.
  await spartanHost(h);
  hosts.startMaster(h, { listen: `0.0.0.0:${MASTER}`, advertise: `${h.ip}:${MASTER}`, replicated_log_dir: join(h.dir, 'store'), network: { vtep_subnet: '44.128.0.0/20', vtep_mac_oui: '70:B3:D5:00:00:00', overlays: [{ name: 'dcos', subnet: '9.0.0.0/8', prefix: 24 }] } });
  await hosts.relay(h, [MASTER]);
  hosts.startAgent(h, { master: `${h.ip}:${MASTER}`, listen: '127.0.0.1:0', reconcile_interval_ms: 500, network_config: { mesos_bridge: false, docker_bridge: false } });
  await until('the agent registered at the master', 30_000, async () => {
    const r = await api('GET', '/overlay-master/state').catch(() => undefined);
    return r?.status === 200 && r.json().agents.length === 1;
  });
});

test.after.always(async () => {
  if (fx) await fx.hosts.close();
});

const serial = skip ? test.serial.skip : test.serial;
const titled = (s: string) => (skip ? `${s} (skipped: ${skip})` : s);

serial(titled('ADD through dcos-l4lb: the contrail address, eth0 + spartan + minuteman; contrail, spartan DNS and a minuteman VIP all carry traffic; DEL leaves nothing'), async (t) => {
  const h = fx!.h;
  const a = await fx!.hosts.containerNs();
  const b = await fx!.hosts.containerNs();
  const addA = await run('ADD', conf({ networks: 'l4red', 'network-subnets': SUBNET }), 'l4a', a);
  t.is(addA.exitCode, 0, addA.stdout + addA.stderr);
  const addB = await run('ADD', conf({ networks: 'default-domain:default:l4red' }), 'l4b', b);
  t.is(addB.exitCode, 0, addB.stdout + addB.stderr);

  const net = (await state()).networks.find((n: { fq: string }) => n.fq === 'default-domain:default:l4red');
  t.is(net?.subnet, SUBNET);
  const gw: string = net.gateway;
  t.is(gw, '10.61.0.1');
  // The delegate's result in our version, and only it (the spartan lease is not in it).
  const ra = JSON.parse(addA.stdout);
  t.is(ra.cniVersion, '0.4.0');
  t.deepEqual(ra.ips, [{ version: '4', address: '10.61.0.2/24', gateway: gw, interface: 1 }]);
  t.deepEqual(ra.routes, [{ dst: '0.0.0.0/0', gw }]);
  t.like(ra.interfaces, [{ name: localTapName('l4a', 'eth0') }, { name: 'eth0', sandbox: a.path }]);
  t.notRegex(addA.stdout, /198\.51\.100/);
  const ipA = '10.61.0.2';
  const ipB = JSON.parse(addB.stdout).ips[0].address.split('/')[0];
  t.is(ipB, '10.61.0.3');

  // The container: contrail's eth0 and dcos-l4lb's spartan and minuteman.
  t.deepEqual(await linkNames(a), ['eth0', 'lo', 'minuteman', 'spartan']);
  const addrs = async (ns: TestNs, dev: string) => (await ipJson<{ addr_info: { family: string; local: string; prefixlen: number }[] }[]>(ns, ['addr', 'show', 'dev', dev]))[0]!.addr_info.filter((x) => x.family === 'inet').map((x) => `${x.local}/${x.prefixlen}`);
  t.deepEqual(await addrs(a, 'eth0'), [`${ipA}/24`]);
  t.deepEqual(await addrs(a, 'spartan'), ['198.51.100.10/32']);
  t.deepEqual(await addrs(b, 'spartan'), ['198.51.100.11/32']);
  const routes = await ipJson<{ dst: string; gateway?: string; dev: string; scope?: string; prefsrc?: string }[]>(a, ['route', 'show']);
  t.truthy(routes.find((r) => r.dst === 'default' && r.gateway === gw && r.dev === 'eth0'), `default via ${gw} dev eth0: ${JSON.stringify(routes)}`);
  t.deepEqual(routes.filter((r) => r.dev === 'spartan').map((r) => `${r.dst} ${r.scope} ${r.prefsrc}`), [1, 2, 3, 4].map((i) => `198.51.100.${i} link 198.51.100.10`));
  const mm = (await ipJson<{ flags: string[] }[]>(a, ['link', 'show', 'minuteman']))[0]!;
  t.true(mm.flags.includes('UP'), 'minuteman up');
  t.is(await checkpoint('l4a'), a.path, 'the minuteman checkpoint names the namespace');
  t.is(await checkpoint('l4b'), b.path);
  t.deepEqual((await leases(fx!.spartanDir, 'spartan-network')).sort(), ['198.51.100.10', '198.51.100.11']);
  t.deepEqual((await spartanHostRoutes(h)).sort(), ['198.51.100.10 veth', '198.51.100.11 veth'], 'host routes back to the leases');
  t.regex(await hostExec(['ip', '-o', 'link']), new RegExp(localTapName('l4a', 'eth0')), 'the contrail tap on the host');
  const filter = await hostExec(['iptables-save', '-t', 'filter']);
  t.true(filter.includes(endpointChains('l4a', 'eth0').egress) && filter.includes(endpointTag('l4a', 'eth0')), "the endpoint's chains and jumps on the host");
  t.deepEqual((await records()).sort(), ['l4a@eth0', 'l4b@eth0']);
  const eps = (await state()).endpoints.filter((e: { container_id: string }) => ['l4a', 'l4b'].includes(e.container_id));
  t.deepEqual(eps.map((e: { container_id: string; ip: string; network: string; agent: string }) => [e.container_id, e.ip, e.network, e.agent]).sort(), [
    ['l4a', ipA, 'default-domain:default:l4red', h.ip],
    ['l4b', ipB, 'default-domain:default:l4red', h.ip],
  ]);

  // Traffic over contrail, between the two l4lb-wrapped attachments.
  t.true(await ping(a, ipB), 'a → b over contrail');
  t.true(await ping(b, ipA), 'b → a');
  await serveTcp(t, b, 80, 'b on contrail');
  t.is(await fetchTcp(a, ipB, 80), 'b on contrail');
  // Spartan DNS over `spartan`, not the contrail default route.
  t.regex(await hostExec(['ip', 'netns', 'exec', a.name, 'ip', 'route', 'get', '198.51.100.1']), /dev spartan src 198\.51\.100\.10/);
  await serveTcp(t, h, 53, 'spartan dns', '198.51.100.1');
  t.is(await fetchTcp(a, '198.51.100.1', 53), 'spartan dns', 'a → 198.51.100.1:53 over spartan');
  t.is(await fetchTcp(b, '198.51.100.1', 53), 'spartan dns', 'b → 198.51.100.1:53 over spartan');
  // dcos-net's part, played here: on the checkpoint it enters that namespace and routes the VIP
  // locally on `minuteman` (dcos_l4lb_route_mgr); its IPVS (masquerade), which this kernel may
  // lack, stands in as a DNAT to the backend plus a masquerade on the way out.
  const nsOfA = (await checkpoint('l4a'))!;
  const inA = (cmd: string[]) => fx!.hosts.exec(h.name, ['nsenter', `--net=${nsOfA}`, ...cmd]);
  await inA(['ip', 'route', 'add', 'local', `${VIP}/32`, 'dev', 'minuteman', 'table', 'local']);
  await serveTcp(t, b, 8080, 'b behind the VIP');
  await inA(['iptables', '-t', 'nat', '-A', 'POSTROUTING', '-o', 'eth0', '-m', 'conntrack', '--ctstate', 'DNAT', '-j', 'MASQUERADE']);
  await inA(['iptables', '-t', 'nat', '-A', 'OUTPUT', '-d', `${VIP}/32`, '-p', 'tcp', '--dport', '8080', '-j', 'DNAT', '--to-destination', `${ipB}:8080`]);
  t.is(await fetchTcp(a, VIP, 8080), 'b behind the VIP', 'a → VIP on minuteman → b over contrail');

  // DEL: both, one of them twice and once without its namespace.
  for (const [id, ctr] of [['l4a', a], ['l4b', b]] as const) {
    const d = await run('DEL', conf({}), id, ctr);
    t.is(d.exitCode, 0, `DEL ${id}: ${d.stdout}${d.stderr}`);
  }
  t.is((await run('DEL', conf({}), 'l4a', a)).exitCode, 0, 'DEL twice');
  t.is((await run('DEL', conf({}), 'l4a')).exitCode, 0, 'DEL without netns');
  t.deepEqual(await linkNames(a), ['lo'], 'container a: only lo');
  t.deepEqual(await linkNames(b), ['lo'], 'container b: only lo');
  await nothingLeft(t, ['l4a', 'l4b'], 'after DEL');
});

serial(titled('a label the contrail delegate refuses fails the ADD naming it; dcos-l4lb leaves nothing behind'), async (t) => {
  const before = await endpointIds();
  const cases: [Record<string, string>, RegExp, number][] = [
    // Refused by the master (no such group: code 100, docs/contrail.md): the attach is never made.
    [{ networks: 'l4red', 'security-groups': 'nosuch' }, /^failed to invoke delegate plugin contrail-cni-plugin: label security-groups: no security group default-domain:default:nosuch/, 100],
    // Refused by the plugin itself (a malformed fq-name: code 7), before any call.
    [{ networks: 'a:b:c:d' }, /^failed to invoke delegate plugin contrail-cni-plugin: label networks: expected domain:project:network/, 7],
  ];
  let n = 0;
  for (const [labels, re, code] of cases) {
    const ctr = await fx!.hosts.containerNs();
    const id = `l4bad${n++}`;
    const r = await run('ADD', conf(labels), id, ctr);
    t.is(r.exitCode, 1, JSON.stringify(labels));
    t.regex(msgOf(r.stdout), re);
    t.is(JSON.parse(r.stdout).code, code, 'the delegate\'s code kept');
    t.deepEqual(await linkNames(ctr), ['lo'], `${JSON.stringify(labels)}: nothing in the container`);
    await nothingLeft(t, [id], JSON.stringify(labels));
    t.deepEqual(await endpointIds(), before, 'no endpoint at the master');
    t.is((await run('DEL', conf(labels), id, ctr)).exitCode, 0, 'the runtime\'s DEL after a failed ADD');
  }
});

serial(titled('dcos-l4lb failing after the contrail attach (the container already has `minuteman`) undoes the attach: endpoint detached, tap, chains, spartan gone'), async (t) => {
  const ctr = await fx!.hosts.containerNs();
  await fx!.hosts.exec(ctr.name, ['ip', 'link', 'add', 'minuteman', 'type', 'veth', 'peer', 'name', 'mm1']);
  const r = await run('ADD', conf({ networks: 'l4red' }), 'l4late', ctr);
  t.is(r.exitCode, 1);
  t.is(msgOf(r.stdout), `minuteman: failed to create the minuteman interface in ${ctr.path}: add link minuteman type dummy: File exists`);
  t.deepEqual(await linkNames(ctr), ['lo', 'minuteman', 'mm1'], 'their links kept, ours (eth0, spartan) gone');
  await nothingLeft(t, ['l4late'], 'after the late failure');
  // The address went back to the network: the next container gets the lowest free one again.
  const again = await fx!.hosts.containerNs();
  const ok = await run('ADD', conf({ networks: 'l4red' }), 'l4again', again);
  t.is(ok.exitCode, 0, ok.stdout);
  t.is(JSON.parse(ok.stdout).ips[0].address, '10.61.0.2/24');
  t.is((await run('DEL', conf({}), 'l4again', again)).exitCode, 0);
  await nothingLeft(t, ['l4again'], 'after DEL');
});
