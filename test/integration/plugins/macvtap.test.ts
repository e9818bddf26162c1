// The macvtap plugin on real kernel objects inside a fake host: the macvtap born in the container
// on a veth master of the fake host, host-local as IPAM, hostrouteif / hostrouteip routing,
// traffic between containers and from the host, CHECK, DEL in every form, a failure at every ADD step.
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { ipJson, nsExec, rootTest, type TestNs } from '../../helpers/fixture.js';
import { AGENT_IP, AGENT_IP6, fakeHost, hostRoutesVia, leases, linkNames, macvtapConf, nothingLeft, ping, records, runIn, type FakeHost } from '../../helpers/macvtap.js';
import { SUPPORTED_VERSIONS } from '../../../lib/cni/version.js';
import * as sysctl from '../../../lib/netns/sysctl.js';

const add = (f: FakeHost, ctr: TestNs, conf: object, containerId: string, extra: { ifname?: string; args?: string } = {}) =>
  runIn(f.host, 'macvtap', conf, { command: 'ADD', containerId, netns: ctr.path, ...extra });
const del = (f: FakeHost, ctr: TestNs | undefined, conf: object, containerId: string, ifname?: string) =>
  runIn(f.host, 'macvtap', conf, { command: 'DEL', containerId, ...(ctr ? { netns: ctr.path } : {}), ...(ifname ? { ifname } : {}) });

function ok(t: ExecutionContext, r: { exitCode: number; stdout: string; stderr: string }, what: string) {
  t.is(r.exitCode, 0, `${what}: ${r.stdout}${r.stderr}`);
  return r.stdout ? JSON.parse(r.stdout) : undefined;
}

/** The error a plugin printed; `text` is msg and details as one line ("context: cause"). */
function failed(t: ExecutionContext, r: { exitCode: number; stdout: string }): { code: number; msg: string; details?: string; text: string } {
  t.is(r.exitCode, 1, r.stdout);
  const e = JSON.parse(r.stdout);
  return { ...e, text: e.details ? `${e.msg}: ${e.details}` : e.msg };
}

/** Poll an observable the kernel updates from softirq context (tests may wait; the plugin never does). */
async function eventually<T>(read: () => Promise<T>, good: (v: T) => boolean, ms = 2000): Promise<T> {
  const end = Date.now() + ms;
  let v = await read();
  while (!good(v) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 20));
    v = await read();
  }
  return v;
}

rootTest('every spec version: born in the container on p0, addressed, answered in the config version; DEL twice and without netns', async (t) => {
  for (const version of SUPPORTED_VERSIONS) {
    const f = await fakeHost(t, 1, 'mv');
    const ctr = f.ctrs[0]!;
    const conf = { cniVersion: version, ...macvtapConf(f.dir) };
    const r = ok(t, await add(f, ctr, conf, 'v1'), version);
    t.is(r.cniVersion, version);
    if (version === '0.1.0' || version === '0.2.0') {
      t.deepEqual(r.ip4, { ip: '192.168.122.171/24', gateway: '192.168.122.1', routes: [{ dst: `${AGENT_IP}/32`, gw: '0.0.0.0' }] }, version);
    } else {
      const link = await ctr.nl.link.get('eth0');
      t.deepEqual(r.interfaces, [{ name: 'eth0', mac: link.mac, sandbox: ctr.path }], version);
      t.like(r.ips[0], { address: '192.168.122.171/24', gateway: '192.168.122.1', interface: 0 });
    }
    const link = await ctr.nl.link.get('eth0');
    t.like(link, { kind: 'macvtap', mode: 'bridge', up: true, link: (await f.host.nl.link.get('p0')).index });
    t.true((await ctr.nl.link.get('lo')).up);
    t.deepEqual((await linkNames(f.host)), ['lo', 'mvhost', 'p0', 'p1'], 'nothing new in the host');
    t.is(await sysctl.get(ctr.ns, 'net.ipv4.conf.eth0.proxy_arp'), '1');
    t.is(await sysctl.get(ctr.ns, 'net.ipv4.conf.eth0.arp_notify'), '1');
    const routes = await ipJson<{ dst: string; dev: string; gateway?: string }[]>(ctr, ['route', 'show']);
    t.deepEqual(routes.map((x) => `${x.dst} ${x.gateway ?? '-'} ${x.dev}`).sort(), [`${AGENT_IP} - eth0`, '192.168.122.0/24 - eth0']);
    for (let i = 0; i < 2; i++) ok(t, await del(f, ctr, conf, 'v1'), `${version} DEL ${i}`);
    ok(t, await del(f, undefined, conf, 'v1'), `${version} DEL without netns`);
    await nothingLeft(t, f, ctr, version);
  }
});

rootTest('two containers on the same master reach each other (bridge mode); private mode keeps them apart', async (t) => {
  for (const mode of ['bridge', 'private'] as const) {
    const f = await fakeHost(t, 2, 'mb');
    const [c1, c2] = f.ctrs as [TestNs, TestNs];
    const conf = macvtapConf(f.dir, { mode });
    const a = ok(t, await add(f, c1, { cniVersion: '1.0.0', ...conf }, 'b1'), `${mode} c1`);
    const b = ok(t, await add(f, c2, { cniVersion: '1.0.0', ...conf }, 'b2'), `${mode} c2`);
    const ipB = b.ips[0].address.split('/')[0];
    t.not(a.ips[0].address, b.ips[0].address);
    // Both macvtaps have ifindex 2 in their namespaces: only one gets /dev/tap2; traffic does not care.
    t.is((await c1.nl.link.get('eth0')).index, (await c2.nl.link.get('eth0')).index);
    if (mode === 'bridge') {
      t.regex(await ping(c1, ipB, 2), / 0% packet loss/);
      t.regex(await ping(c2, a.ips[0].address.split('/')[0]), / 0% packet loss/);
    } else {
      await t.throwsAsync(ping(c1, ipB), { instanceOf: Error }, 'private macvtaps on one master cannot talk');
    }
    ok(t, await del(f, c1, conf, 'b1'), 'DEL c1');
    ok(t, await del(f, c2, conf, 'b2'), 'DEL c2');
    t.deepEqual(await leases(f.dir), []);
  }
});

rootTest('hostrouteif: the host reaches the container through its spare macvtap; the gratuitous ARP refreshes its neighbour entry; DEL removes the route', async (t) => {
  const f = await fakeHost(t, 1, 'mh');
  const ctr = f.ctrs[0]!;
  const conf = { cniVersion: '0.4.0', ...macvtapConf(f.dir, { hostrouteif: 'mvhost', args: { cni: { ips: ['192.168.122.176'] } } }) };
  // A stale entry for the address the container is about to get, with someone else's MAC.
  await nsExec(f.host, ['ip', 'neigh', 'add', '192.168.122.176', 'lladdr', '02:00:00:00:00:99', 'dev', 'mvhost', 'nud', 'stale']);
  const r = ok(t, await add(f, ctr, conf, 'h1'), 'ADD');
  t.is(r.ips[0].address, '192.168.122.176/24', 'args.cni.ips reached host-local through our whole stdin');
  const mac = (await ctr.nl.link.get('eth0')).mac;
  const neigh = await eventually(
    () => ipJson<{ lladdr?: string }[]>(f.host, ['neigh', 'show', '192.168.122.176', 'dev', 'mvhost']),
    (n) => n[0]?.lladdr === mac,
  );
  t.is(neigh[0]?.lladdr, mac, 'gratuitous ARP from the container updated the host');
  t.true((await f.host.nl.link.get('mvhost')).up, 'hostrouteif is brought up');
  t.deepEqual(await hostRoutesVia(f.host), ['192.168.122.176']);
  t.deepEqual(await records(f.dir), ['h1@eth0']);
  t.regex(await ping(f.host, '192.168.122.176', 2), / 0% packet loss/, 'host → container through mvhost');
  t.regex(await ping(ctr, AGENT_IP), / 0% packet loss/, 'container → agent address');
  ok(t, await runIn(f.host, 'macvtap', { ...conf, prevResult: r }, { command: 'CHECK', containerId: 'h1', netns: ctr.path }), 'CHECK');
  ok(t, await del(f, ctr, conf, 'h1'), 'DEL');
  await nothingLeft(t, f, ctr);
  await t.throwsAsync(ping(f.host, '192.168.122.176'));
});

rootTest('DEL without netns removes the host route from the record; also after the namespace is destroyed', async (t) => {
  const f = await fakeHost(t, 2, 'mn');
  const [c1, c2] = f.ctrs as [TestNs, TestNs];
  const conf = macvtapConf(f.dir, { hostrouteif: 'mvhost' });
  ok(t, await add(f, c1, conf, 'n1'), 'ADD 1');
  ok(t, await add(f, c2, conf, 'n2'), 'ADD 2');
  t.deepEqual((await hostRoutesVia(f.host)).sort(), ['192.168.122.171', '192.168.122.172']);
  // No CNI_NETNS at all (Mesos after a reboot): only this attachment's route goes.
  ok(t, await del(f, undefined, conf, 'n1'), 'DEL n1 without netns');
  t.deepEqual(await hostRoutesVia(f.host), ['192.168.122.172']);
  // CNI_NETNS naming a namespace that no longer exists.
  await c2.nl.link.del('eth0'); // what destroying the namespace does to it
  ok(t, await runIn(f.host, 'macvtap', conf, { command: 'DEL', containerId: 'n2', netns: '/var/run/netns/mcni-gone-ns' }), 'DEL n2, netns gone');
  t.deepEqual(await hostRoutesVia(f.host), []);
  t.deepEqual(await leases(f.dir), []);
  t.deepEqual(await records(f.dir), []);
  ok(t, await del(f, undefined, conf, 'n1'), 'DEL again');
});

rootTest('DEL of an attachment without a record (made by upstream) falls back to the link addresses', async (t) => {
  const f = await fakeHost(t, 1, 'mr');
  const ctr = f.ctrs[0]!;
  const conf = macvtapConf(f.dir, { hostrouteif: 'mvhost' });
  ok(t, await add(f, ctr, conf, 'r1'), 'ADD');
  await rm(join(f.dir, 'state', 'mvnet', 'r1@eth0'));
  ok(t, await del(f, ctr, conf, 'r1'), 'DEL');
  await nothingLeft(t, f, ctr);
});

rootTest('hostrouteip: per-interface table and source rule; replies leave by the interface they belong to; DEL removes only its rules', async (t) => {
  const f = await fakeHost(t, 1, 'mi');
  const ctr = f.ctrs[0]!;
  // A second master for a second network, as a two-network task has.
  await f.host.nl.link.add({ kind: 'veth', name: 'q0', up: true, peer: { name: 'q1' } });
  await f.host.nl.link.set({ name: 'q1', up: true });
  const netA = { cniVersion: '1.0.0', ...macvtapConf(f.dir, { hostrouteip: AGENT_IP }, { routes: [{ dst: '0.0.0.0/0' }] }) };
  const netB = {
    cniVersion: '1.0.0',
    ...macvtapConf(f.dir, { name: 'mvnetb', master: 'q0', hostrouteip: AGENT_IP }, { subnet: '192.168.123.0/24', rangeStart: '192.168.123.10', rangeEnd: '192.168.123.20', routes: [] }),
  };
  const a = ok(t, await add(f, ctr, netA, 'i1', { ifname: 'eth0' }), 'ADD eth0');
  const b = ok(t, await add(f, ctr, netB, 'i1', { ifname: 'eth1' }), 'ADD eth1');
  const [ipA, ipB] = [a.ips[0].address.split('/')[0], b.ips[0].address.split('/')[0]];
  const [idxA, idxB] = [(await ctr.nl.link.get('eth0')).index, (await ctr.nl.link.get('eth1')).index];
  const rules = await ipJson<{ priority: number; src?: string; table: string }[]>(ctr, ['rule', 'show']);
  t.deepEqual(
    rules.filter((r) => r.src && r.src !== 'all').map((r) => `${r.priority} ${r.src} ${r.table}`),
    [`32764 ${ipB} ${idxB}`, `32765 ${ipA} ${idxA}`],
    "upstream's priorities: each new rule just before the first rule above 5",
  );
  t.deepEqual((await ipJson<{ dst: string; dev: string }[]>(ctr, ['route', 'show', 'table', String(idxB)])).map((r) => `${r.dst} ${r.dev}`), [`${AGENT_IP} eth1`]);
  const via = async (from: string) => (await ipJson<{ dev: string }[]>(ctr, ['route', 'get', AGENT_IP, 'from', from]))[0]!.dev;
  t.is(await via(ipA), 'eth0');
  t.is(await via(ipB), 'eth1', 'a reply from eth1 to the agent leaves by eth1, not by the default route on eth0');
  const main = await ipJson<{ dst: string; dev: string }[]>(ctr, ['route', 'show', AGENT_IP]);
  t.deepEqual(main.map((r) => r.dev), ['eth0'], 'unsourced traffic to the agent: the interface with the gateway owns the main route');
  ok(t, await runIn(f.host, 'macvtap', { ...netB, prevResult: b }, { command: 'CHECK', containerId: 'i1', netns: ctr.path, ifname: 'eth1' }), 'CHECK eth1');
  ok(t, await del(f, ctr, netB, 'i1', 'eth1'), 'DEL eth1');
  const left = await ipJson<{ src?: string }[]>(ctr, ['rule', 'show']);
  t.deepEqual(left.filter((r) => r.src && r.src !== 'all').map((r) => r.src), [ipA]);
  ok(t, await del(f, ctr, netA, 'i1', 'eth0'), 'DEL eth0');
  t.deepEqual((await ipJson<{ src?: string }[]>(ctr, ['rule', 'show'])).filter((r) => r.src && r.src !== 'all'), []);
  t.deepEqual(await linkNames(ctr), ['lo']);
});

rootTest('IPv6: the requested address exactly, no DAD wait, unsolicited NA, /128 host route; dual stack between two containers', async (t) => {
  const f = await fakeHost(t, 2, 'm6');
  const [c1, c2] = f.ctrs as [TestNs, TestNs];
  const ipam = { subnet: undefined, rangeStart: undefined, rangeEnd: undefined, routes: [{ dst: `${AGENT_IP6}/128`, gw: '::' }], ranges: [[{ subnet: '192.168.122.0/24' }], [{ subnet: 'fd00:122::/64' }]] };
  const conf = { cniVersion: '1.0.0', ...macvtapConf(f.dir, { hostrouteif: 'mvhost', args: { cni: { ips: ['fd00:122::176'] } } }, ipam) };
  await nsExec(f.host, ['ip', 'neigh', 'add', 'fd00:122::176', 'lladdr', '02:00:00:00:00:99', 'dev', 'mvhost', 'nud', 'stale']);
  const r = ok(t, await add(f, c1, conf, 's1'), 'ADD c1');
  t.deepEqual(r.ips.map((i: { address: string }) => i.address), ['192.168.122.2/24', 'fd00:122::176/64']);
  const addrs = await c1.nl.addr.list({ dev: 'eth0', family: 6 });
  t.like(addrs.find((x) => x.address === 'fd00:122::176/64'), { noDad: true, tentative: false });
  t.is(await sysctl.get(c1.ns, 'net.ipv6.conf.eth0.ndisc_notify'), '1');
  const mac = (await c1.nl.link.get('eth0')).mac;
  const neigh = await eventually(() => ipJson<{ lladdr?: string }[]>(f.host, ['neigh', 'show', 'fd00:122::176', 'dev', 'mvhost']), (n) => n[0]?.lladdr === mac);
  t.is(neigh[0]?.lladdr, mac, 'unsolicited neighbour advertisement reached the host');
  t.deepEqual((await hostRoutesVia(f.host)).sort(), ['192.168.122.2', 'fd00:122::176']);
  const conf2 = { ...conf, args: {} };
  const r2 = ok(t, await add(f, c2, conf2, 's2'), 'ADD c2');
  const v6b = r2.ips[1].address.split('/')[0];
  t.regex(await ping(c1, v6b), / 0% packet loss/);
  t.regex(await ping(f.host, 'fd00:122::176'), / 0% packet loss/, 'host → container over IPv6 through mvhost');
  t.regex(await ping(c1, AGENT_IP6), / 0% packet loss/);
  ok(t, await del(f, c1, conf, 's1'), 'DEL c1');
  ok(t, await del(f, c2, conf2, 's2'), 'DEL c2');
  t.deepEqual(await hostRoutesVia(f.host), []);
  t.deepEqual(await leases(f.dir), []);
});

rootTest('CHECK passes after ADD and fails, naming what, when the state drifts', async (t) => {
  const f = await fakeHost(t, 1, 'mk');
  const ctr = f.ctrs[0]!;
  const conf = { cniVersion: '1.0.0', ...macvtapConf(f.dir, { hostrouteif: 'mvhost', hostrouteip: AGENT_IP }) };
  const r = ok(t, await add(f, ctr, conf, 'k1'), 'ADD');
  const check = (c: object) => runIn(f.host, 'macvtap', c, { command: 'CHECK', containerId: 'k1', netns: ctr.path });
  ok(t, await check({ ...conf, prevResult: r }), 'CHECK');
  t.like(failed(t, await check(conf)), { code: 7, msg: 'prevResult: required for CHECK' });
  t.regex(failed(t, await check({ ...conf, mode: 'vepa', prevResult: r })).msg, /^container interface eth0: mode bridge, expected vepa$/);
  const otherNs = { ...r, interfaces: [{ ...r.interfaces[0], sandbox: '/var/run/netns/elsewhere' }] };
  t.regex(failed(t, await check({ ...conf, prevResult: otherNs })).msg, /^prevResult: no interface eth0 with sandbox /);
  await nsExec(f.host, ['ip', 'route', 'del', '192.168.122.171/32', 'dev', 'mvhost']);
  t.is(failed(t, await check({ ...conf, prevResult: r })).msg, 'hostrouteif mvhost: host route to 192.168.122.171/32 missing');
  await nsExec(f.host, ['ip', 'route', 'add', '192.168.122.171/32', 'dev', 'mvhost']);
  await nsExec(ctr, ['ip', 'rule', 'del', 'from', '192.168.122.171']);
  t.regex(failed(t, await check({ ...conf, prevResult: r })).msg, /^hostrouteip: rule from 192\.168\.122\.171\/32 lookup \d+ missing$/);
  await nsExec(ctr, ['ip', 'addr', 'flush', 'dev', 'eth0']);
  t.is(failed(t, await check({ ...conf, prevResult: r })).msg, 'container interface eth0: address 192.168.122.171/24 missing');
  await nsExec(ctr, ['ip', 'link', 'del', 'eth0']);
  t.regex(failed(t, await check({ ...conf, prevResult: r })).msg, /^container interface eth0: not found in /);
  ok(t, await del(f, ctr, conf, 'k1'), 'DEL');
  await nothingLeft(t, f, ctr);
});

rootTest('config errors name the field and come before any side effect', async (t) => {
  const f = await fakeHost(t, 1, 'mc');
  const ctr = f.ctrs[0]!;
  const base = macvtapConf(f.dir, { hostrouteif: 'mvhost' });
  const cases: [Record<string, unknown>, number, string][] = [
    [{ master: undefined }, 7, '"master" field is required. It specifies the host interface name to virtualize'],
    [{ master: 'eth0/x' }, 7, `master: expected an interface name of 1-15 characters without '/', ':', '%', whitespace or control characters (and not all or default), got "eth0/x"`],
    [{ mode: 'source' }, 7, 'mode: expected one of bridge, private, vepa, passthru, got "source"'],
    [{ mtu: 20 }, 7, "mtu: expected an integer from 68 to 65535 (or 0: the master's MTU), got 20"],
    [{ mac: '01:00:5e:00:00:01' }, 7, 'mac: expected a unicast MAC address like 02:00:00:00:00:01, got "01:00:5e:00:00:01"'],
    [{ hostrouteip: '192.168.10.22/32' }, 7, `hostrouteip: expected an IPv4 or IPv6 address (the host's, without a prefix), got "192.168.10.22/32"`],
    [{ ipam: undefined }, 7, 'ipam.type: expected the IPAM plugin to use (e.g. "host-local"), got undefined'],
    [{ dataDir: 'relative' }, 7, 'dataDir: expected an absolute path, got "relative"'],
    [{ master: 'eth9' }, 7, 'master: no interface "eth9" in the host namespace'],
    [{ hostrouteif: 'nosuch0' }, 7, 'hostrouteif: no interface "nosuch0" in the host namespace'],
  ];
  for (const [extra, code, msg] of cases) {
    const e = failed(t, await add(f, ctr, { ...base, ...extra }, 'c1'));
    t.is(e.msg, msg);
    t.is(e.code, code, msg);
  }
  await nothingLeft(t, f, ctr);
});

rootTest('a failure at each ADD step leaves nothing behind: no link, rule, host route, record or lease', async (t) => {
  const f = await fakeHost(t, 2, 'mf');
  const [ctr, other] = f.ctrs as [TestNs, TestNs];
  const conf = (extra: Record<string, unknown> = {}, ipam: Record<string, unknown> = {}) =>
    ({ cniVersion: '1.0.0', ...macvtapConf(f.dir, { hostrouteif: 'mvhost', hostrouteip: AGENT_IP, ...extra }, ipam) });

  // IPAM: a requested address outside the range, then one another container holds.
  t.regex(failed(t, await add(f, ctr, conf({ args: { cni: { ips: ['10.9.9.9'] } } }), 'f1')).msg, /failed to allocate all requested IPs: 10\.9\.9\.9/);
  await nothingLeft(t, f, ctr, 'IPAM range');
  ok(t, await add(f, other, conf({ args: { cni: { ips: ['192.168.122.176'] } } }), 'holder'), 'holder');
  t.regex(
    failed(t, await add(f, ctr, conf({ args: { cni: { ips: ['192.168.122.176'] } } }), 'f1')).msg,
    /requested IP address 192\.168\.122\.176 is not available/,
  );
  t.deepEqual(await linkNames(ctr), ['lo']);
  t.deepEqual(await leases(f.dir), ['192.168.122.176'], 'only the holder keeps its lease');
  ok(t, await del(f, other, conf(), 'holder'), 'holder DEL');

  // The host-route record cannot be written (dataDir below a regular file).
  await writeFile(join(f.dir, 'afile'), '');
  const rec = failed(t, await add(f, ctr, conf({ dataDir: join(f.dir, 'afile', 'sub') }), 'f2'));
  t.like(rec, { code: 5 });
  t.regex(rec.msg, /^record host routes in /);
  await nothingLeft(t, f, ctr, 'record');

  // Creating the macvtap: an MTU above the master's.
  t.regex(failed(t, await add(f, ctr, conf({ mtu: 9000 }), 'f3')).text, /^create macvtap on master "p0": .*Invalid argument/);
  await nothingLeft(t, f, ctr, 'create');

  // Renaming: CNI_IFNAME is taken in the container.
  await nsExec(ctr, ['ip', 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'x0']);
  t.is(failed(t, await add(f, ctr, conf(), 'f4')).msg, `container interface eth0 already exists in ${ctr.path}`);
  t.deepEqual(await linkNames(ctr), ['eth0', 'lo', 'x0'], 'the temporary macvtap is gone, theirs untouched');
  await nsExec(ctr, ['ip', 'link', 'del', 'eth0']);
  await nothingLeft(t, f, ctr, 'rename');

  // The container batch, at the link-up step: another macvtap on p0 already uses the MAC.
  await f.host.nl.link.add({ kind: 'macvtap', name: 'mvmac', link: 'p0', mac: '02:00:00:00:00:42', netns: other.ns });
  await other.nl.link.set({ name: 'mvmac', up: true });
  t.regex(failed(t, await add(f, ctr, conf({ mac: '02:00:00:00:00:42' }), 'f5')).text, /^configure eth0 in .*: set link index \d+: Address already in use/);
  await nothingLeft(t, f, ctr, 'link up');

  // The container batch, at a route: the container already routes the agent address elsewhere.
  await nsExec(ctr, ['ip', 'link', 'add', 'd0', 'type', 'veth', 'peer', 'name', 'd1']);
  await nsExec(ctr, ['ip', 'link', 'set', 'd0', 'up']);
  await nsExec(ctr, ['ip', 'route', 'add', `${AGENT_IP}/32`, 'dev', 'd0']);
  t.regex(failed(t, await add(f, ctr, conf(), 'f6')).text, /^configure eth0 in .*: add route 192\.168\.10\.22\/32 dev \d+: File exists/);
  t.deepEqual(await linkNames(ctr), ['d0', 'd1', 'lo']);
  t.deepEqual(await leases(f.dir), []);
  t.deepEqual(await records(f.dir), []);
  await nsExec(ctr, ['ip', 'link', 'del', 'd0']);

  // The host route, after the source rules: IPv6 is disabled on hostrouteif.
  await sysctl.set(f.host.ns, 'net.ipv6.conf.mvhost.disable_ipv6', 1);
  const v6 = conf({ hostrouteip: AGENT_IP6 }, { subnet: undefined, rangeStart: undefined, rangeEnd: undefined, routes: [], ranges: [[{ subnet: 'fd00:122::/64' }]] });
  t.regex(failed(t, await add(f, ctr, v6, 'f7')).text, /^hostrouteif mvhost: route to the container: .*IPv6 is disabled/);
  t.deepEqual((await ipJson<{ src?: string }[]>(ctr, ['-6', 'rule', 'show'])).filter((r) => r.src && r.src !== 'all'), [], 'source rule undone');
  await nothingLeft(t, f, ctr, 'host route');
});

rootTest("passthru (refused by upstream's code though its README lists it): the master's one macvtap, with the master's MAC", async (t) => {
  const f = await fakeHost(t, 1, 'mp');
  const ctr = f.ctrs[0]!;
  await f.host.nl.link.add({ kind: 'veth', name: 'q0', up: true, peer: { name: 'q1' } });
  await f.host.nl.link.set({ name: 'q1', up: true });
  const conf = { cniVersion: '1.0.0', ...macvtapConf(f.dir, { master: 'q0', mode: 'passthru' }) };
  const r = ok(t, await add(f, ctr, conf, 'p1'), 'ADD');
  t.like(await ctr.nl.link.get('eth0'), { kind: 'macvtap', mode: 'passthru', mac: (await f.host.nl.link.get('q0')).mac });
  ok(t, await runIn(f.host, 'macvtap', { ...conf, prevResult: r }, { command: 'CHECK', containerId: 'p1', netns: ctr.path }), 'CHECK');
  ok(t, await del(f, ctr, conf, 'p1'), 'DEL');
  await nothingLeft(t, f, ctr);
});
