// Neighbours and FDB entries on real devices: permanent ARP/NDP entries checked against
// `ip -j neigh`, FDB entries on a bridge port (master/self) and vxlan flood entries (append)
// checked against `bridge -j fdb`.
import type { ExecutionContext } from 'ava';
import { ipJson, namespaces, nsExec, rootTest, type TestNs } from '../../helpers/fixture.js';
import { NetlinkError, SpecError, undoErrorsOf } from '../../../lib/native/index.js';
import type { Neigh } from '../../../lib/netlink/index.js';

interface IpNeigh {
  dst: string;
  dev: string;
  lladdr?: string;
  state: string[];
  router?: null;
}
interface BridgeFdb {
  mac: string;
  ifname?: string;
  dst?: string;
  vni?: number;
  port?: number;
  flags: string[];
  master?: string;
  state: string;
}

async function fdbOracle(ns: TestNs, dev: string): Promise<BridgeFdb[]> {
  return JSON.parse((await nsExec(ns, ['bridge', '-j', 'fdb', 'show', 'dev', dev])) || '[]') as BridgeFdb[];
}

async function withVeth(t: ExecutionContext): Promise<TestNs> {
  const [ns] = await namespaces(t, 1);
  await ns!.nl.link.add({ kind: 'veth', name: 'va', up: true, peer: { name: 'vb' } });
  return ns!;
}

/** withVeth plus permanent neighbours 10.0.0.9 and fd00::9 (router) on va, and a noarp 10.0.0.8 on vb. */
async function withNeighbours(t: ExecutionContext): Promise<TestNs> {
  const ns = await withVeth(t);
  await ns.nl.neigh.add({ dev: 'va', address: '10.0.0.9', lladdr: '02:00:00:00:00:09' });
  await ns.nl.neigh.add({ dev: 'va', address: 'fd00::9', lladdr: '02:00:00:00:00:0a', router: true });
  await ns.nl.neigh.add({ dev: 'vb', address: '10.0.0.8', lladdr: '02:00:00:00:00:08', state: 'noarp' });
  return ns;
}

rootTest('permanent IPv4 and IPv6 neighbours are listed as added, as ip neigh shows them', async (t) => {
  const ns = await withNeighbours(t);
  const mine = (l: Neigh[]) => l.map((n) => [n.address, n.lladdr, n.state.join(','), n.flags.includes('router')]).sort();
  const theirs = (l: IpNeigh[]) => l.map((n) => [n.dst, n.lladdr, n.state.join(',').toLowerCase(), n.router !== undefined]).sort();
  t.deepEqual(mine(await ns.nl.neigh.list({ dev: 'va' })), [
    ['10.0.0.9', '02:00:00:00:00:09', 'permanent', false],
    ['fd00::9', '02:00:00:00:00:0a', 'permanent', true],
  ]);
  // `ip neigh show` hides noarp entries unless asked for `nud all`.
  t.deepEqual(mine(await ns.nl.neigh.list({ dev: 'va' })), theirs(await ipJson<IpNeigh[]>(ns, ['neigh', 'show', 'dev', 'va', 'nud', 'all'])));
  t.deepEqual(mine(await ns.nl.neigh.list()), theirs(await ipJson<IpNeigh[]>(ns, ['neigh', 'show', 'nud', 'all'])));
});

rootTest('neigh.list filters by family and device', async (t) => {
  const ns = await withNeighbours(t);
  const va = (await ns.nl.link.get('va')).index;
  t.deepEqual((await ns.nl.neigh.list({ family: 6 })).map((n) => [n.address, n.dev, n.family]), [['fd00::9', va, 6]]);
  t.deepEqual((await ns.nl.neigh.list({ family: 4, dev: 'vb' })).map((n) => n.state), [['noarp']]);
});

rootTest('neigh.get: one entry by device and address, as ip neigh get shows it; undefined when absent; a bad address names the field', async (t) => {
  const ns = await withNeighbours(t);
  const va = (await ns.nl.link.get('va')).index;
  t.like(await ns.nl.neigh.get({ dev: 'va', address: '10.0.0.9' }), { family: 4, dev: va, address: '10.0.0.9', lladdr: '02:00:00:00:00:09', state: ['permanent'] });
  t.like(await ns.nl.neigh.get({ dev: va, address: 'fd00::9' }), { family: 6, address: 'fd00::9', lladdr: '02:00:00:00:00:0a' });
  // `ip neigh get` prints no JSON: "10.0.0.9 dev va lladdr 02:00:00:00:00:09 PERMANENT".
  const theirs = /lladdr (\S+)/.exec(await nsExec(ns, ['ip', 'neigh', 'get', '10.0.0.9', 'dev', 'va']))?.[1];
  t.is(theirs, (await ns.nl.neigh.get({ dev: 'va', address: '10.0.0.9' }))?.lladdr);
  t.is(await ns.nl.neigh.get({ dev: 'va', address: '10.0.0.7' }), undefined);
  t.is(await ns.nl.neigh.get({ dev: 'vb', address: '10.0.0.9' }), undefined, 'held on another device');
  await t.throwsAsync(ns.nl.neigh.get({ dev: 'va', address: '10.0.0' }), { instanceOf: SpecError, message: /^neigh\.get\.address: expected an IPv4 or IPv6 address/ });
});

rootTest('neigh.replace changes the lladdr of an existing neighbour', async (t) => {
  const ns = await withNeighbours(t);
  await ns.nl.neigh.replace({ dev: 'va', address: '10.0.0.9', lladdr: '02:00:00:00:00:99' });
  t.is((await ns.nl.neigh.list({ family: 4, dev: 'va' }))[0]?.lladdr, '02:00:00:00:00:99');
});

rootTest('neigh.del is idempotent: twice, and on a device that no longer exists', async (t) => {
  const ns = await withNeighbours(t);
  for (let i = 0; i < 2; i++) {
    await ns.nl.neigh.del({ dev: 'va', address: '10.0.0.9' });
    await ns.nl.neigh.del({ dev: 'va', address: 'fd00::9' });
  }
  t.deepEqual(await ipJson(ns, ['neigh', 'show', 'dev', 'va']), []);
  await ns.nl.link.del('vb');
  await t.notThrowsAsync(ns.nl.neigh.del({ dev: 'vb', address: '10.0.0.8' }));
});

const neighSpec = { dev: 'va', address: '10.0.0.9', lladdr: '02:00:00:00:00:09' };

rootTest('a duplicate neighbour is EEXIST', async (t) => {
  const ns = await withVeth(t);
  await ns.nl.neigh.add(neighSpec);
  const e = await t.throwsAsync(ns.nl.neigh.add(neighSpec), { instanceOf: NetlinkError });
  t.is(e!.code, 'EEXIST');
  t.is(e!.message, 'add neighbour 10.0.0.9 lladdr 02:00:00:00:00:09 dev va: File exists');
});

rootTest('neigh.ensure tolerates an existing neighbour', async (t) => {
  const ns = await withVeth(t);
  await ns.nl.neigh.add(neighSpec);
  await t.notThrowsAsync(ns.nl.neigh.ensure(neighSpec));
});

rootTest('a neighbour on a missing device is ENODEV', async (t) => {
  const ns = await withVeth(t);
  const e2 = await t.throwsAsync(ns.nl.neigh.add({ ...neighSpec, dev: 'nope0' }), { instanceOf: NetlinkError });
  t.is(e2!.code, 'ENODEV');
  t.is(e2!.message, 'add neighbour 10.0.0.9 lladdr 02:00:00:00:00:09 dev nope0: No such device');
});

/** A namespace with bridge br0 and its port vp (peer vq unenslaved); on vp master entries :01 (static) and :02, and a self entry :03. */
async function bridgeWithFdb(t: ExecutionContext): Promise<{ ns: TestNs; br: number }> {
  const [ns] = await namespaces(t, 1);
  await ns!.nl.link.add({ kind: 'bridge', name: 'br0', up: true });
  const br = (await ns!.nl.link.get('br0')).index;
  await ns!.nl.link.add({ kind: 'veth', name: 'vp', master: 'br0', up: true, peer: { name: 'vq' } });
  await ns!.nl.request([
    { op: 'neigh.add', spec: { family: 'bridge', dev: 'vp', lladdr: '02:00:00:00:00:01', master: true, state: 'static' } },
    { op: 'neigh.add', spec: { family: 'bridge', dev: 'vp', lladdr: '02:00:00:00:00:02', master: true } },
    { op: 'neigh.add', spec: { family: 'bridge', dev: 'vp', lladdr: '02:00:00:00:00:03', self: true } },
  ]);
  return { ns: ns!, br };
}

rootTest('FDB on a bridge port: master (static, permanent) and self entries are listed as added, as bridge fdb shows them', async (t) => {
  const { ns, br } = await bridgeWithFdb(t);
  const ours = (await ns.nl.neigh.list({ family: 'bridge', dev: 'vp' })).filter((n) => n.lladdr!.startsWith('02:00:00'));
  const view = ours.map((n) => [n.lladdr, n.master, n.flags.join(','), n.state.join(',')]).sort();
  t.deepEqual(view, [
    ['02:00:00:00:00:01', br, '', 'noarp'],
    ['02:00:00:00:00:02', br, '', 'permanent'],
    ['02:00:00:00:00:03', undefined, 'self', 'permanent'],
  ]);
  const theirs = (await fdbOracle(ns, 'vp')).filter((f) => f.mac.startsWith('02:00:00'));
  t.deepEqual(
    theirs.map((f) => [f.mac, f.master, f.flags.join(','), f.state]).sort(),
    [
      ['02:00:00:00:00:01', 'br0', '', 'static'],
      ['02:00:00:00:00:02', 'br0', '', 'permanent'],
      ['02:00:00:00:00:03', undefined, 'self', 'permanent'],
    ],
  );
});

rootTest('FDB on a bridge port: a duplicate master entry is EEXIST', async (t) => {
  const { ns } = await bridgeWithFdb(t);
  const e = await t.throwsAsync(ns.nl.neigh.add({ family: 'bridge', dev: 'vp', lladdr: '02:00:00:00:00:01', master: true }), { instanceOf: NetlinkError });
  t.is(e!.code, 'EEXIST');
  t.is(e!.message, 'add fdb 02:00:00:00:00:01 dev vp master: File exists');
});

rootTest('FDB list by master keeps the bridge and its ports, drops an unenslaved link', async (t) => {
  const { ns, br } = await bridgeWithFdb(t);
  const vp = (await ns.nl.link.get('vp')).index;
  const vq = (await ns.nl.link.get('vq')).index;
  t.true((await ns.nl.neigh.list({ family: 'bridge' })).some((n) => n.dev === vq));
  const underBr = await ns.nl.neigh.list({ family: 'bridge', master: 'br0' });
  t.deepEqual([...new Set(underBr.map((n) => n.dev))].sort(), [br, vp].sort());
});

rootTest('FDB on a bridge port: del is idempotent', async (t) => {
  const { ns } = await bridgeWithFdb(t);
  for (let i = 0; i < 2; i++) {
    await ns.nl.neigh.del({ family: 'bridge', dev: 'vp', lladdr: '02:00:00:00:00:01', master: true });
    await ns.nl.neigh.del({ family: 'bridge', dev: 'vp', lladdr: '02:00:00:00:00:02', master: true });
    await ns.nl.neigh.del({ family: 'bridge', dev: 'vp', lladdr: '02:00:00:00:00:03', self: true });
  }
  t.deepEqual((await fdbOracle(ns, 'vp')).filter((f) => f.mac.startsWith('02:00:00')), []);
});

const flood = { family: 'bridge' as const, dev: 'vx0', lladdr: '00:00:00:00:00:00' };

/** A namespace with vxlan vx0 (vni 42): flood entries appended to VTEPs 10.0.0.2 and 10.0.0.3 (vni 43, port 8472), and :07 at 10.0.0.7. */
async function vxlanWithFdb(t: ExecutionContext): Promise<TestNs> {
  const [ns] = await namespaces(t, 1);
  await ns!.nl.link.add({ kind: 'vxlan', name: 'vx0', vni: 42, learning: false });
  await ns!.nl.request([
    { op: 'neigh.append', spec: { ...flood, dst: '10.0.0.2' } },
    { op: 'neigh.append', spec: { ...flood, dst: '10.0.0.3', vni: 43, port: 8472 } },
    { op: 'neigh.add', spec: { family: 'bridge', dev: 'vx0', lladdr: '02:00:00:00:00:07', dst: '10.0.0.7' } },
  ]);
  return ns!;
}

rootTest('FDB on vxlan: append adds flood entries for several VTEPs, as bridge fdb shows them', async (t) => {
  const ns = await vxlanWithFdb(t);
  const ours = (await ns.nl.neigh.list({ family: 'bridge', dev: 'vx0' })).map((n) => [n.lladdr, n.dst, n.vni, n.port]).sort();
  t.deepEqual(ours, [
    ['00:00:00:00:00:00', '10.0.0.2', undefined, undefined],
    ['00:00:00:00:00:00', '10.0.0.3', 43, 8472],
    ['02:00:00:00:00:07', '10.0.0.7', undefined, undefined],
  ]);
  t.deepEqual((await fdbOracle(ns, 'vx0')).map((f) => [f.mac, f.dst, f.vni, f.port]).sort(), ours);
});

rootTest('FDB on vxlan: add (not append) refuses a MAC that already has a remote', async (t) => {
  const ns = await vxlanWithFdb(t);
  const e = await t.throwsAsync(ns.nl.neigh.add({ ...flood, dst: '10.0.0.2' }), { instanceOf: NetlinkError });
  t.is(e!.code, 'EEXIST', 'add (not append) refuses a MAC that already has a remote');
});

rootTest('FDB on vxlan: deleting one flood entry (twice) keeps the others', async (t) => {
  const ns = await vxlanWithFdb(t);
  for (let i = 0; i < 2; i++) await ns.nl.neigh.del({ ...flood, dst: '10.0.0.2' });
  t.deepEqual((await fdbOracle(ns, 'vx0')).map((f) => f.dst).sort(), ['10.0.0.3', '10.0.0.7']);
});

rootTest('bad specs fail before the kernel, naming the field', async (t) => {
  const ns = await withVeth(t);
  const cases: [object, RegExp][] = [
    [{ dev: 'va', lladdr: '02:00:00:00:00:01' }, /^neigh\.address: required/],
    [{ dev: 'va', address: '10.0.0.300', lladdr: '02:00:00:00:00:01' }, /^neigh\.address: expected an IPv4 or IPv6 address/],
    [{ dev: 'va', address: '10.0.0.3', lladdr: '02:00:00:00:01' }, /^neigh\.lladdr: expected a MAC address/],
    [{ dev: 'va', address: '10.0.0.3', family: 6 }, /^neigh\.address: 10\.0\.0\.3 is IPv4 but the family is IPv6/],
    [{ dev: 'va', address: '10.0.0.3', state: 'sleepy' }, /^neigh\.state: expected one of none, incomplete/],
    [{ dev: 'va', address: '10.0.0.3', dst: '10.0.0.4' }, /^neigh\.dst: only for FDB entries/],
    [{ dev: 'va', address: '10.0.0.3', master: true }, /^neigh\.master: only for FDB entries/],
    [{ dev: 'va', family: 'bridge' }, /^neigh\.lladdr: required for an FDB entry/],
    [{ dev: 'va', family: 'bridge', lladdr: '02:00:00:00:00:01', address: '10.0.0.3' }, /^neigh\.address: FDB entries have no IP address/],
    [{ dev: 'va', family: 'bridge', lladdr: '02:00:00:00:00:01', state: 'noarp' }, /^neigh\.state: expected one of permanent, static, dynamic/],
    [{ dev: 'va', family: 'bridge', lladdr: '02:00:00:00:00:01', vni: 2 ** 24 }, /^neigh\.vni: expected an integer/],
    [{ dev: 'va', family: 'ipx', address: '10.0.0.3' }, /^neigh\.family: expected 4, 6 or 'bridge'/],
  ];
  for (const [spec, re] of cases) {
    const err = await t.throwsAsync(ns.nl.neigh.add(spec as never), { instanceOf: SpecError }, JSON.stringify(spec));
    t.regex(err!.message, re);
  }
  t.deepEqual(await ipJson(ns, ['neigh', 'show']), []);
});

rootTest('a rolled-back batch that fails at its last op leaves no neighbour or FDB entry behind', async (t) => {
  const ns = await withVeth(t);
  await ns.nl.neigh.add({ dev: 'vb', address: '10.0.0.5', lladdr: '02:00:00:00:00:05' });
  const fdbBefore = await fdbOracle(ns, 'va');
  const e = await t.throwsAsync(
    ns.nl.request(
      [
        { op: 'neigh.add', spec: { dev: 'va', address: '10.0.0.9', lladdr: '02:00:00:00:00:09' } },
        { op: 'neigh.add', spec: { dev: 'va', address: 'fd00::9', lladdr: '02:00:00:00:00:09' } },
        { op: 'neigh.add', spec: { family: 'bridge', dev: 'va', lladdr: '02:00:00:00:00:aa' } },
        { op: 'neigh.add', spec: { dev: 'vb', address: '10.0.0.5', lladdr: '02:00:00:00:00:05' } },
      ],
      { rollback: true },
    ),
    { instanceOf: NetlinkError },
  );
  t.is(e!.code, 'EEXIST');
  t.deepEqual(undoErrorsOf(e), []);
  t.deepEqual((await ipJson<IpNeigh[]>(ns, ['neigh', 'show'])).map((n) => n.dst), ['10.0.0.5']);
  t.deepEqual(await fdbOracle(ns, 'va'), fdbBefore);
});
