// Addresses on real kernel objects: add/ensure/replace/del/list for IPv4 and IPv6, checked
// against `ip -j addr`; every documented error; a rolled-back batch leaves nothing behind.
import type { ExecutionContext } from 'ava';
import { ipJson, namespaces, rootTest, type TestNs } from '../../helpers/fixture.js';
import { NetlinkError, SpecError, undoErrorsOf } from '../../../lib/native/index.js';

interface IpAddrInfo {
  family: string;
  local: string;
  address?: string;
  prefixlen: number;
  broadcast?: string;
  scope: string;
  label?: string;
  nodad?: boolean;
  valid_life_time: number;
  preferred_life_time: number;
}

async function oracle(ns: TestNs, dev: string): Promise<IpAddrInfo[]> {
  const [link] = await ipJson<{ addr_info: IpAddrInfo[] }[]>(ns, ['addr', 'show', 'dev', dev]);
  return link!.addr_info.filter((a) => a.scope !== 'link');
}

async function withVeth(t: ExecutionContext): Promise<TestNs> {
  const [ns] = await namespaces(t, 1);
  await ns!.nl.link.add({ kind: 'veth', name: 'va', peer: { name: 'vb' } });
  return ns!;
}

rootTest('IPv4: broadcast, label and peer given to add are listed back, as ip addr shows them', async (t) => {
  const ns = await withVeth(t);
  await ns.nl.addr.add({ dev: 'va', address: '10.0.1.1/24', broadcast: true, label: 'va:1' });
  await ns.nl.addr.add({ dev: 'va', address: '10.0.0.1/32', peer: '10.0.0.2' });
  await ns.nl.addr.add({ dev: 'va', address: '10.0.2.1/31', broadcast: true });
  const ours = (await ns.nl.addr.list({ dev: 'va', family: 4 })).map((a) => [a.address, a.peer, a.broadcast, a.label, a.scope]);
  t.deepEqual(ours, [
    ['10.0.1.1/24', undefined, '10.0.1.255', 'va:1', 'global'],
    ['10.0.0.1/32', '10.0.0.2', undefined, 'va', 'global'],
    ['10.0.2.1/31', undefined, undefined, 'va', 'global'],
  ]);
  const theirs = (await oracle(ns, 'va')).map((a) => [`${a.local}/${a.prefixlen}`, a.address, a.broadcast, a.label, a.scope]);
  t.deepEqual(theirs, ours);
});

/** withVeth with both ends up and `address` added to va with `spec`, listed (global scope) by us and by ip addr. */
async function ipv6Added(t: ExecutionContext, address: string, spec: { noDad?: boolean }) {
  const ns = await withVeth(t);
  await ns.nl.link.set({ name: 'va', up: true });
  await ns.nl.link.set({ name: 'vb', up: true });
  await ns.nl.addr.add({ dev: 'va', address, ...spec });
  const global = (await ns.nl.addr.list({ dev: 'va', family: 6 })).filter((x) => x.scope === 'global');
  const theirs = await oracle(ns, 'va');
  return { global, theirs };
}

rootTest('IPv6: add sets NODAD by default, so the address is never tentative', async (t) => {
  const { global, theirs } = await ipv6Added(t, 'fd00::1/64', {});
  const [a] = global;
  t.is(a!.address, 'fd00::1/64');
  t.true(a!.noDad);
  t.false(a!.tentative);
  t.deepEqual(theirs.map((x) => [x.local, x.nodad === true]).sort(), [['fd00::1', true]]);
});

rootTest('IPv6: noDad:false leaves DAD on', async (t) => {
  const { global, theirs } = await ipv6Added(t, 'fd00::2/64', { noDad: false });
  const [b] = global;
  t.is(b!.address, 'fd00::2/64');
  t.false(b!.noDad);
  t.true(b!.tentative, 'DAD is still probing the address');
  t.deepEqual(theirs.map((x) => [x.local, x.nodad === true]).sort(), [['fd00::2', false]]);
});

rootTest('list filters by device and family in the kernel', async (t) => {
  const ns = await withVeth(t);
  await ns.nl.addr.add({ dev: 'va', address: '10.0.0.1/24' });
  await ns.nl.addr.add({ dev: 'vb', address: '10.0.0.2/24' });
  await ns.nl.addr.add({ dev: 'vb', address: 'fd00::2/64' });
  const vb = await ns.nl.link.get('vb');
  t.deepEqual((await ns.nl.addr.list({ dev: 'vb' })).map((a) => a.address), ['10.0.0.2/24', 'fd00::2/64']);
  t.deepEqual((await ns.nl.addr.list({ dev: vb.index, family: 6 })).map((a) => a.address), ['fd00::2/64']);
  // lo is down in a fresh namespace, so it has no 127.0.0.1 yet; the veths are down: no fe80::.
  t.deepEqual((await ns.nl.addr.list({ family: 4 })).map((a) => a.address).sort(), ['10.0.0.1/24', '10.0.0.2/24']);
  t.deepEqual((await ns.nl.addr.list()).map((a) => a.address).sort(), ['10.0.0.1/24', '10.0.0.2/24', 'fd00::2/64']);
});

rootTest('a duplicate add fails with EEXIST, IPv4 and IPv6', async (t) => {
  const ns = await withVeth(t);
  for (const address of ['10.0.0.1/24', 'fd00::1/64']) {
    await ns.nl.addr.add({ dev: 'va', address });
    const e = await t.throwsAsync(ns.nl.addr.add({ dev: 'va', address }), { instanceOf: NetlinkError });
    t.is(e!.code, 'EEXIST');
    t.regex(e!.message, new RegExp(`^add address ${address} dev va: File exists`));
  }
});

rootTest('addr.ensure tolerates an existing address, IPv4 and IPv6', async (t) => {
  const ns = await withVeth(t);
  for (const address of ['10.0.0.1/24', 'fd00::1/64']) {
    await ns.nl.addr.add({ dev: 'va', address });
    await t.notThrowsAsync(ns.nl.addr.ensure({ dev: 'va', address }));
  }
});

rootTest('addr.replace updates the lifetimes of an existing address', async (t) => {
  const ns = await withVeth(t);
  for (const address of ['10.0.0.1/24', 'fd00::1/64']) await ns.nl.addr.add({ dev: 'va', address });
  await ns.nl.addr.replace({ dev: 'va', address: '10.0.0.1/24', validLft: 600, preferredLft: 300 });
  await ns.nl.addr.replace({ dev: 'va', address: 'fd00::1/64', validLft: 900 });
  const [v4, v6] = await ns.nl.addr.list({ dev: 'va' }).then((l) => l.filter((a) => a.scope === 'global'));
  t.true(v4!.validLft! <= 600 && v4!.validLft! > 590, `valid ${v4!.validLft}`);
  t.true(v4!.preferredLft! <= 300 && v4!.preferredLft! > 290);
  t.false(v4!.permanent);
  t.true(v6!.validLft! <= 900 && v6!.preferredLft! <= 900 && v6!.preferredLft! > 890, 'preferred defaults to valid');
  const theirs = await oracle(ns, 'va');
  t.true(theirs.every((a) => a.valid_life_time <= 900));
});

rootTest('del is idempotent: twice, and on a device that no longer exists', async (t) => {
  const ns = await withVeth(t);
  await ns.nl.addr.add({ dev: 'va', address: '10.0.0.1/24' });
  await ns.nl.addr.add({ dev: 'va', address: 'fd00::1/64' });
  for (let i = 0; i < 2; i++) {
    await ns.nl.addr.del({ dev: 'va', address: '10.0.0.1/24' });
    await ns.nl.addr.del({ dev: 'va', address: 'fd00::1/64' });
  }
  t.deepEqual(await oracle(ns, 'va'), []);
  await ns.nl.link.del('va');
  await ns.nl.addr.del({ dev: 'va', address: '10.0.0.1/24' });
  await ns.nl.addr.del({ dev: 'va', address: 'fd00::1/64' });
  // Also inside a batch, where a failing lookup would otherwise sink every other op.
  await ns.nl.request([
    { op: 'addr.del', spec: { dev: 'va', address: '10.0.0.1/24' } },
    { op: 'addr.del', spec: { dev: 'gone0', address: 'fd00::1/64' } },
  ]);
  t.pass();
});

rootTest('a missing device fails the add with ENODEV in the verb\'s words', async (t) => {
  const ns = await withVeth(t);
  const e = await t.throwsAsync(ns.nl.addr.add({ dev: 'nope0', address: '10.0.0.1/24' }), { instanceOf: NetlinkError });
  t.is(e!.code, 'ENODEV');
  t.is(e!.message, 'add address 10.0.0.1/24 dev nope0: No such device');
  const e2 = await t.throwsAsync(ns.nl.addr.add({ dev: 999, address: 'fd00::1/64' }), { instanceOf: NetlinkError });
  t.is(e2!.code, 'ENODEV');
});

rootTest('bad specs fail before the kernel, naming the field', async (t) => {
  const ns = await withVeth(t);
  const cases: [object, RegExp][] = [
    [{ dev: 'va', address: '10.0.0.1/33' }, /^addr\.address: expected an address/],
    [{ dev: 'va', address: 'nonsense' }, /^addr\.address: /],
    [{ dev: 'va/x', address: '10.0.0.1/24' }, /^addr\.dev: expected an interface name/],
    [{ dev: 'va', address: '10.0.0.1/24', peer: 'fd00::1' }, /^addr\.peer: fd00::1 is IPv6/],
    [{ dev: 'va', address: 'fd00::1/64', broadcast: true }, /^addr\.broadcast: IPv6 has no broadcast/],
    [{ dev: 'va', address: '10.0.0.1/24', broadcast: 'fd00::ff' }, /^addr\.broadcast: expected an IPv4 address/],
    [{ dev: 'va', address: 'fd00::1/64', label: 'va:1' }, /^addr\.label: labels exist for IPv4/],
    [{ dev: 'va', address: '10.0.0.1/24', label: 'vb:1' }, /^addr\.label: must be the device name or start with "va:"/],
    [{ dev: 'va', address: '10.0.0.1/24', noDad: true }, /^addr\.noDad: duplicate address detection is IPv6 only/],
    [{ dev: 'va', address: '10.0.0.1/24', scope: 'galaxy' }, /^addr\.scope: expected one of global/],
    [{ dev: 'va', address: '10.0.0.1/24', validLft: 10, preferredLft: 20 }, /^addr\.preferredLft: 20 exceeds validLft 10/],
    [{ dev: 'va', address: '10.0.0.1/24', validLft: -1 }, /^addr\.validLft: expected an integer/],
  ];
  for (const [spec, re] of cases) {
    const e = await t.throwsAsync(ns.nl.addr.add(spec as never), { instanceOf: SpecError }, JSON.stringify(spec));
    t.regex(e!.message, re);
  }
  t.deepEqual(await oracle(ns, 'va'), [], 'nothing reached the kernel');
});

rootTest('a rolled-back batch that fails at its last op leaves no address behind', async (t) => {
  const ns = await withVeth(t);
  await ns.nl.addr.add({ dev: 'vb', address: '10.9.0.1/24' });
  const e = await t.throwsAsync(
    ns.nl.request(
      [
        { op: 'addr.add', spec: { dev: 'va', address: '10.0.0.1/24' } },
        { op: 'addr.add', spec: { dev: 'va', address: 'fd00::1/64' } },
        { op: 'addr.add', spec: { dev: 'vb', address: '10.9.0.1/24' } },
      ],
      { rollback: true },
    ),
    { instanceOf: NetlinkError },
  );
  t.is(e!.code, 'EEXIST');
  t.is(e!.op, 'addr.add');
  t.deepEqual(undoErrorsOf(e), []);
  t.deepEqual(await oracle(ns, 'va'), []);
  t.deepEqual((await oracle(ns, 'vb')).map((a) => a.local), ['10.9.0.1'], 'what existed before stays');
});
