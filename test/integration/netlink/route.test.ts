// Routes on real kernel objects, IPv4 and IPv6, checked against `ip -j route`; the headline: a
// container wired in ONE batch (lo up, address, link up, default route) pings the host both ways.
import type { ExecutionContext } from 'ava';
import { ipJson, namespaces, nsExec, rootTest, type TestNs } from '../../helpers/fixture.js';
import { NetlinkError, SpecError, undoErrorsOf } from '../../../lib/native/index.js';
import type { Route } from '../../../lib/netlink/index.js';

interface IpRoute {
  dst: string;
  gateway?: string;
  dev?: string;
  type?: string;
  metric?: number;
  table?: string;
  protocol?: string;
}

const key = (r: Route) => `${r.type === 'unicast' ? '' : `${r.type} `}${r.dst}${r.gw ? ` via ${r.gw}` : ''}${r.metric ? ` metric ${r.metric}` : ''}`;
const ipKey = (r: IpRoute) => `${r.type ? `${r.type} ` : ''}${r.dst}${r.gateway ? ` via ${r.gateway}` : ''}${r.metric ? ` metric ${r.metric}` : ''}`;
// iproute2 prints host routes without /32 and /128; the kernel reports kernel-made IPv6 routes with metric 256.
// fe80::/64 appears whenever IPv6 link-local configuration gets to it after link up: not compared.
const notLinkLocal = (s: string) => !s.startsWith('fe80::/64');
const norm = (s: string) => s.replace(/\/(32|128)\b/, '').replace(/ metric 256$/, '');

async function oracle(ns: TestNs, args: string[] = []): Promise<string[]> {
  const v4 = await ipJson<IpRoute[]>(ns, ['-4', 'route', 'show', ...args]);
  const v6 = await ipJson<IpRoute[]>(ns, ['-6', 'route', 'show', ...args]);
  return [...v4, ...v6].map(ipKey).map(norm).filter(notLinkLocal).sort();
}
const ours = (rs: Route[]) => rs.map(key).map(norm).filter(notLinkLocal).sort();

/** A namespace with veth va (10.0.0.1/24, fd00::1/64, up) whose peer vb is up too. */
async function wired(t: ExecutionContext): Promise<TestNs> {
  const [ns] = await namespaces(t, 1);
  await ns!.nl.link.add({ kind: 'veth', name: 'va', peer: { name: 'vb' } });
  await ns!.nl.request([
    { op: 'addr.add', spec: { dev: 'va', address: '10.0.0.1/24' } },
    { op: 'addr.add', spec: { dev: 'va', address: 'fd00::1/64' } },
    { op: 'link.set', spec: { name: 'va', up: true } },
    { op: 'link.set', spec: { name: 'vb', up: true } },
  ]);
  return ns!;
}

rootTest('a container wired in one batch pings its host both ways, IPv4 and IPv6', async (t) => {
  const [host, ctr] = await namespaces(t, 2);
  await host!.nl.link.add({ kind: 'veth', name: 'vh0', up: true, peer: { name: 'eth0', netns: ctr!.ns } });
  await host!.nl.request([
    { op: 'addr.add', spec: { dev: 'vh0', address: '10.1.0.1/24' } },
    { op: 'addr.add', spec: { dev: 'vh0', address: 'fd01::1/64' } },
  ]);
  const eth0 = (await ctr!.nl.link.get('eth0')).index;
  // The container side: one sendmsg, every ACK collected.
  await ctr!.nl.request(
    [
      { op: 'link.set', spec: { name: 'lo', up: true } },
      { op: 'addr.add', spec: { dev: eth0, address: '10.1.0.2/24' } },
      { op: 'addr.add', spec: { dev: eth0, address: 'fd01::2/64' } },
      { op: 'link.set', spec: { index: eth0, up: true } },
      { op: 'route.add', spec: { dst: 'default', gw: '10.1.0.1' } },
      { op: 'route.add', spec: { dst: 'default', gw: 'fd01::1' } },
    ],
    { rollback: true },
  );
  const routes = await ctr!.nl.route.list();
  t.deepEqual(ours(routes), ['10.1.0.0/24', 'default via 10.1.0.1', 'default via fd01::1 metric 1024', 'fd01::/64'].sort());
  t.deepEqual(ours(routes), await oracle(ctr!));
  for (const [from, to] of [
    [ctr!, '10.1.0.1'],
    [ctr!, 'fd01::1'],
    [host!, '10.1.0.2'],
    [host!, 'fd01::2'],
  ] as const) {
    const out = await nsExec(from, ['ping', '-c1', '-W1', to]);
    t.regex(out, /1 received/, `ping ${to}`);
  }
  // 127.0.0.1 answers only because lo came up in the batch.
  t.regex(await nsExec(ctr!, ['ping', '-c1', '-W1', '127.0.0.1']), /1 received/);
});

/** wired, plus routes in table 1000 (both families, metric 7, mtu 1400, one with src and proto static), 10.9/16 dev va and 10.10/16 dev vb proto 42. */
async function withRoutes(t: ExecutionContext): Promise<TestNs> {
  const ns = await wired(t);
  await ns.nl.request([
    { op: 'route.add', spec: { dst: '10.8.0.0/16', gw: '10.0.0.2', table: 1000, metric: 7, mtu: 1400, src: '10.0.0.1', proto: 'static' } },
    { op: 'route.add', spec: { dst: 'fd08::/48', gw: 'fd00::2', table: 1000, metric: 7, mtu: 1400 } },
    { op: 'route.add', spec: { dst: '10.9.0.0/16', dev: 'va' } },
    { op: 'route.add', spec: { dst: '10.10.0.0/16', dev: 'vb', proto: 42 } },
  ]);
  return ns;
}

rootTest('add with table, metric, mtu, src and proto: the route lists back with them, as ip route shows it', async (t) => {
  const ns = await withRoutes(t);
  const t1000 = await ns.nl.route.list({ table: 1000 });
  t.deepEqual(ours(t1000), ['10.8.0.0/16 via 10.0.0.2 metric 7', 'fd08::/48 via fd00::2 metric 7']);
  t.deepEqual(ours(t1000), await oracle(ns, ['table', '1000']));
  const [r4] = await ns.nl.route.list({ table: 1000, family: 4 });
  t.like(r4, { dst: '10.8.0.0/16', table: 1000, mtu: 1400, src: '10.0.0.1', proto: 'static', scope: 'universe', type: 'unicast' });
});

rootTest('advmss, alone and beside mtu: set, listed back, as ip route shows it; above 65495 the kernel lowers it; 0 is refused', async (t) => {
  const ns = await wired(t);
  await ns.nl.request([
    { op: 'route.add', spec: { dst: '10.11.0.0/16', gw: '10.0.0.2', advmss: 1360 } },
    { op: 'route.add', spec: { dst: '10.12.0.0/16', gw: '10.0.0.2', mtu: 1400, advmss: 1300 } },
    { op: 'route.add', spec: { dst: 'fd11::/48', gw: 'fd00::2', advmss: 1340 } },
    { op: 'route.add', spec: { dst: '10.13.0.0/16', gw: '10.0.0.2', advmss: 70000 } },
  ]);
  const got = Object.fromEntries((await ns.nl.route.list()).map((r) => [r.dst, [r.mtu, r.advmss]]));
  t.deepEqual(got['10.11.0.0/16'], [undefined, 1360]);
  t.deepEqual(got['10.12.0.0/16'], [1400, 1300]);
  t.deepEqual(got['fd11::/48'], [undefined, 1340]);
  t.deepEqual(got['10.13.0.0/16'], [undefined, 65495]);
  t.regex(await nsExec(ns, ['ip', 'route', 'show', '10.12.0.0/16']), /mtu 1400 advmss 1300/);
  await t.throwsAsync(ns.nl.route.add({ dst: '10.14.0.0/16', gw: '10.0.0.2', advmss: 0 }), { message: /^route\.advmss: expected an integer from 1 to 4294967295, got 0/ });
});

rootTest('a gateway-less route is scope link, proto boot, table main', async (t) => {
  const ns = await withRoutes(t);
  const [r9] = await ns.nl.route.list({ dev: 'va', family: 4 }).then((l) => l.filter((r) => r.dst === '10.9.0.0/16'));
  t.like(r9, { scope: 'link', proto: 'boot', table: 254 }, 'a gateway-less route is scope link, proto boot, table main');
});

rootTest('route.list filters by device and by proto', async (t) => {
  const ns = await withRoutes(t);
  t.deepEqual((await ns.nl.route.list({ dev: 'vb' })).map((r) => r.dst).filter((d) => !d.startsWith('fe80')), ['10.10.0.0/16']);
  t.deepEqual((await ns.nl.route.list({ proto: 42 })).map((r) => r.dst), ['10.10.0.0/16']);
});

rootTest('route.list reads the main table only by default, as ip route does', async (t) => {
  const ns = await withRoutes(t);
  t.deepEqual(ours(await ns.nl.route.list()), await oracle(ns), 'main table only by default');
});

rootTest("route.list of table 'all' includes the local table and the others", async (t) => {
  const ns = await withRoutes(t);
  const all = await ns.nl.route.list({ table: 'all', family: 4 });
  t.true(all.some((r) => r.table === 255 && r.type === 'local' && r.dst === '10.0.0.1/32'));
  t.true(all.some((r) => r.table === 1000));
});

rootTest('route.list of a table that does not exist is empty', async (t) => {
  const ns = await withRoutes(t);
  t.deepEqual(await ns.nl.route.list({ table: 4242 }), [], 'a table that does not exist is empty');
});

const dupCases = [
  ['10.8.0.0/16', '10.0.0.2', '10.0.0.3'],
  ['fd08::/48', 'fd00::2', 'fd00::3'],
] as const;

rootTest('a duplicate route add is EEXIST, IPv4 and IPv6', async (t) => {
  const ns = await wired(t);
  for (const [dst, gw] of dupCases) {
    await ns.nl.route.add({ dst, gw });
    const e = await t.throwsAsync(ns.nl.route.add({ dst, gw }), { instanceOf: NetlinkError });
    t.is(e!.code, 'EEXIST');
    t.is(e!.message, `add route ${dst} via ${gw}: File exists`);
  }
});

rootTest('route.ensure tolerates an existing route, IPv4 and IPv6', async (t) => {
  const ns = await wired(t);
  for (const [dst, gw] of dupCases) {
    await ns.nl.route.add({ dst, gw });
    await t.notThrowsAsync(ns.nl.route.ensure({ dst, gw }));
  }
});

/** wired, with 10.8/16 via 10.0.0.2 and fd08::/48 via fd00::2 each replaced by the gateway .3/::3. */
async function withReplacedRoutes(t: ExecutionContext): Promise<TestNs> {
  const ns = await wired(t);
  for (const [dst, gw, gw2] of dupCases) {
    await ns.nl.route.add({ dst, gw });
    await ns.nl.route.replace({ dst, gw: gw2 });
  }
  return ns;
}

rootTest('route.replace overwrites the route, IPv4 and IPv6', async (t) => {
  const ns = await withReplacedRoutes(t);
  for (const [dst, , gw2] of dupCases) {
    t.deepEqual((await ns.nl.route.list({ family: dst.includes(':') ? 6 : 4 })).filter((r) => r.dst === dst).map((r) => r.gw), [gw2]);
  }
});

rootTest('route.append adds a second route to the same destination, as ip route shows it', async (t) => {
  const ns = await withReplacedRoutes(t);
  await ns.nl.route.append({ dst: '10.8.0.0/16', gw: '10.0.0.4' });
  t.deepEqual((await ns.nl.route.list({ family: 4 })).filter((r) => r.dst === '10.8.0.0/16').map((r) => r.gw), ['10.0.0.3', '10.0.0.4']);
  t.deepEqual(ours(await ns.nl.route.list()), await oracle(ns));
});

/** wired, plus blackhole, unreachable, prohibit, throw (table 100) routes and an onlink gateway route via va. */
async function withSpecialRoutes(t: ExecutionContext): Promise<TestNs> {
  const ns = await wired(t);
  await ns.nl.request([
    { op: 'route.add', spec: { dst: '10.66.0.0/16', type: 'blackhole' } },
    { op: 'route.add', spec: { dst: '10.67.0.0/16', type: 'unreachable' } },
    { op: 'route.add', spec: { dst: 'fd66::/64', type: 'prohibit' } },
    { op: 'route.add', spec: { dst: '10.68.0.0/16', type: 'throw', table: 100 } },
    { op: 'route.add', spec: { dst: '10.69.0.0/16', gw: '192.168.77.1', dev: 'va', onlink: true } },
  ]);
  return ns;
}

rootTest('blackhole, unreachable, prohibit and throw routes are added and listed, as ip route shows them', async (t) => {
  const ns = await withSpecialRoutes(t);
  const list = await ns.nl.route.list({ table: 'all' });
  const byDst = (d: string) => list.find((r) => r.dst === d);
  t.is(byDst('10.66.0.0/16')?.type, 'blackhole');
  t.is(byDst('10.67.0.0/16')?.type, 'unreachable');
  t.is(byDst('fd66::/64')?.type, 'prohibit');
  t.like(byDst('10.68.0.0/16'), { type: 'throw', table: 100 });
  t.deepEqual(ours(await ns.nl.route.list()), await oracle(ns));
});

rootTest('an onlink gateway outside every subnet is added and listed', async (t) => {
  const ns = await withSpecialRoutes(t);
  const list = await ns.nl.route.list({ table: 'all' });
  t.like(list.find((r) => r.dst === '10.69.0.0/16'), { gw: '192.168.77.1', onlink: true });
});

rootTest('route.get resolves the route the kernel would use', async (t) => {
  const ns = await withSpecialRoutes(t);
  t.like(await ns.nl.route.get('10.69.1.1'), { gw: '192.168.77.1', dev: (await ns.nl.link.get('va')).index });
  t.like(await ns.nl.route.get({ dst: 'fd00::7' }), { dst: 'fd00::7/128', dev: (await ns.nl.link.get('va')).index });
});

rootTest('route.get of a blackholed destination is refused with EINVAL', async (t) => {
  const ns = await withSpecialRoutes(t);
  const e = await t.throwsAsync(ns.nl.route.get('10.66.1.1'), { instanceOf: NetlinkError });
  t.is(e!.code, 'EINVAL', 'a blackhole lookup is refused');
});

rootTest('del is idempotent: twice, in a missing table, on a vanished device', async (t) => {
  const ns = await wired(t);
  await ns.nl.route.add({ dst: '10.8.0.0/16', gw: '10.0.0.2', table: 1000 });
  await ns.nl.route.add({ dst: 'fd08::/48', dev: 'vb' });
  for (let i = 0; i < 2; i++) {
    await ns.nl.route.del({ dst: '10.8.0.0/16', table: 1000 });
    await ns.nl.route.del({ dst: 'fd08::/48', dev: 'vb' });
  }
  t.deepEqual(await ns.nl.route.list({ table: 1000 }), []);
  await ns.nl.route.del({ dst: '10.8.0.0/16', table: 4242 });
  await ns.nl.link.del('va');
  await ns.nl.route.del({ dst: '10.8.0.0/16', dev: 'va' });
  await ns.nl.route.del({ dst: 'fd08::/48', dev: 'vb' });
  t.pass();
});

rootTest('a route on a missing device is ENODEV', async (t) => {
  const ns = await wired(t);
  const e = await t.throwsAsync(ns.nl.route.add({ dst: '10.8.0.0/16', dev: 'nope0' }), { instanceOf: NetlinkError });
  t.is(e!.code, 'ENODEV');
  t.is(e!.message, 'add route 10.8.0.0/16 dev nope0: No such device');
});

rootTest('a route via an unreachable gateway is ENETUNREACH', async (t) => {
  const ns = await wired(t);
  const e2 = await t.throwsAsync(ns.nl.route.add({ dst: '10.8.0.0/16', gw: '192.168.1.1' }), { instanceOf: NetlinkError });
  t.is(e2!.code, 'ENETUNREACH');
  t.regex(e2!.message, /^add route 10\.8\.0\.0\/16 via 192\.168\.1\.1: Network is unreachable/);
});

rootTest('bad specs fail before the kernel, naming the field', async (t) => {
  const ns = await wired(t);
  const cases: [object, RegExp][] = [
    [{ dst: 'default' }, /^route\.family: required/],
    [{ dst: 'default', family: 5 }, /^route\.family: expected 4 or 6/],
    [{ dst: '10.8.0.1/16', dev: 'va' }, /^route\.dst: 10\.8\.0\.1\/16 has host bits set \(the network is 10\.8\.0\.0\/16\)/],
    [{ dst: '10.8.0.0/16', gw: 'fd00::2' }, /^route\.gw: fd00::2 is IPv6 but the other addresses are IPv4/],
    [{ dst: 'default', family: 6, gw: '10.0.0.2' }, /^route\.gw: 10\.0\.0\.2 is IPv4 but the family is IPv6/],
    [{ dst: '10.8.0.0/16', gw: 'gateway' }, /^route\.gw: expected an IPv4 or IPv6 address/],
    [{ dst: '10.8.0.0/16', type: 'blackhole', dev: 'va' }, /^route\.type: a blackhole route takes no gw or dev/],
    [{ dst: '10.8.0.0/16', type: 'teleport' }, /^route\.type: expected one of unicast/],
    [{ dst: '10.8.0.0/16', dev: 'va', table: 0 }, /^route\.table: expected main, local, default or a table id/],
    [{ dst: '10.8.0.0/16', dev: 'va', scope: 'galaxy' }, /^route\.scope: /],
    [{ dst: '10.8.0.0/16', dev: 'va', proto: 'bgpish' }, /^route\.proto: expected one of/],
    [{ dst: '10.8.0.0/16', dev: 'va', mtu: 20 }, /^route\.mtu: expected an integer from 68/],
    [{ dst: '10.8.0.0/16', dev: 'va', onlink: 'yes' }, /^route\.onlink: expected true or false/],
  ];
  for (const [spec, re] of cases) {
    const err = await t.throwsAsync(ns.nl.route.add(spec as never), { instanceOf: SpecError }, JSON.stringify(spec));
    t.regex(err!.message, re);
  }
});

rootTest('a rolled-back batch that fails at its last op leaves no route behind', async (t) => {
  const ns = await wired(t);
  await ns.nl.route.add({ dst: '10.99.0.0/16', gw: '10.0.0.2' });
  const before = await oracle(ns, ['table', 'all']);
  const e = await t.throwsAsync(
    ns.nl.request(
      [
        { op: 'route.add', spec: { dst: '10.8.0.0/16', gw: '10.0.0.2', table: 1000 } },
        { op: 'route.add', spec: { dst: 'fd08::/48', gw: 'fd00::2' } },
        { op: 'route.append', spec: { dst: '10.7.0.0/16', dev: 'vb' } },
        { op: 'route.add', spec: { dst: '10.99.0.0/16', gw: '10.0.0.2' } },
      ],
      { rollback: true },
    ),
    { instanceOf: NetlinkError },
  );
  t.is(e!.code, 'EEXIST');
  t.deepEqual(undoErrorsOf(e), []);
  t.deepEqual(await oracle(ns, ['table', 'all']), before);
});
