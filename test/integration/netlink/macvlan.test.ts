// macvlan and macvtap on real kernel objects: each born directly in its container namespace on a
// parent that lives in a fake host namespace (a veth end, never the machine's own NIC).
import { existsSync, statSync } from 'node:fs';
import { SpecError } from '../../../lib/native/index.js';
import { ipJson, namespaces, nsExec, rootTest, type TestNs } from '../../helpers/fixture.js';
import type { ExecutionContext } from 'ava';
import type { MacvlanMode } from '../../../lib/netlink/index.js';

interface IpLink {
  ifname: string;
  link_netnsid?: number;
  linkinfo?: { info_kind?: string; info_data?: { mode?: string } };
}

/** A fake host with an UP veth pair (p0 is the parent) and two containers with a macvlan each. */
async function twoMacvlans(t: ExecutionContext, mode?: MacvlanMode): Promise<[TestNs, TestNs, TestNs]> {
  const [host, c1, c2] = (await namespaces(t, 3)) as [TestNs, TestNs, TestNs];
  await host.nl.link.add({ kind: 'veth', name: 'p0', up: true, peer: { name: 'p1' } });
  await host.nl.link.set({ name: 'p1', up: true });
  for (const [i, ctr] of [c1, c2].entries()) {
    await host.nl.link.add({ kind: 'macvlan', name: 'eth0', link: 'p0', netns: ctr.ns, up: true, ...(mode ? { mode } : {}) });
    await ctr.nl.addr.add({ dev: 'eth0', address: `10.1.0.${i + 1}/24` });
  }
  return [host, c1, c2];
}

function ping(ns: TestNs, ip: string, count = 2): Promise<string> {
  return nsExec(ns, ['ping', '-c', String(count), '-i', '0.2', '-W', '1', ip]);
}

rootTest('two macvlans (mode bridge) born in their containers on one parent ping each other', async (t) => {
  const [host, c1, c2] = await twoMacvlans(t, 'bridge');
  // Nothing was created in the host namespace itself.
  t.deepEqual((await host.nl.link.list()).map((l) => l.name).sort(), ['lo', 'p0', 'p1']);
  const parent = await host.nl.link.get('p0');
  const mv = await c1.nl.link.get('eth0');
  t.like(mv, { kind: 'macvlan', mode: 'bridge', up: true, link: parent.index });
  t.is(typeof mv.linkNetnsId, 'number', 'the parent is reported as living in another namespace');
  const [oracle] = await ipJson<IpLink[]>(c2, ['-d', 'link', 'show', 'eth0']);
  t.is(oracle!.linkinfo?.info_kind, 'macvlan');
  t.is(oracle!.linkinfo?.info_data?.mode, 'bridge');
  t.regex(await ping(c1, '10.1.0.2'), / 0% packet loss/);
  t.regex(await ping(c2, '10.1.0.1'), / 0% packet loss/);
});

rootTest('macvlan mode defaults to bridge (the kernel alone would pick vepa)', async (t) => {
  const [, c1] = await twoMacvlans(t);
  t.is((await c1.nl.link.get('eth0')).mode, 'bridge');
  t.regex(await ping(c1, '10.1.0.2'), / 0% packet loss/);
});

rootTest('macvlans in private mode cannot reach each other: the mode is honoured', async (t) => {
  const [, c1] = await twoMacvlans(t, 'private');
  t.is((await c1.nl.link.get('eth0')).mode, 'private');
  await t.throwsAsync(ping(c1, '10.1.0.2', 1));
});

/** A macvtap mt0 (mode vepa) on the fake host's p0, created into a container namespace with a pinned index. */
async function macvtapInContainer(t: ExecutionContext, index: number): Promise<TestNs> {
  const [host, ctr] = (await namespaces(t, 2)) as [TestNs, TestNs];
  await host.nl.link.add({ kind: 'veth', name: 'p0', up: true, peer: { name: 'p1' } });
  await host.nl.link.add({ kind: 'macvtap', name: 'mt0', index, link: 'p0', mode: 'vepa', netns: ctr.ns });
  return ctr;
}

// The character device is named after the ifindex in the host's devtmpfs, whatever namespace the
// macvtap is in; two macvtaps with the same index in different namespaces share one name (the
// second gets no node). Pinning an unusual index keeps parallel tests apart: one range per test.
const tapIndex = (range: number) => range + (process.pid % 10000);

rootTest('macvtap is created in a container namespace and decodes kind and mode', async (t) => {
  const index = tapIndex(20000);
  const ctr = await macvtapInContainer(t, index);
  const mt = await ctr.nl.link.get('mt0');
  t.like(mt, { kind: 'macvtap', mode: 'vepa', index });
  const [oracle] = await ipJson<IpLink[]>(ctr, ['-d', 'link', 'show', 'mt0']);
  t.is(oracle!.linkinfo?.info_kind, 'macvtap');
  t.is(oracle!.linkinfo?.info_data?.mode, 'vepa');
});

rootTest('a macvtap gets /dev/tapN for as long as the link lives', async (t) => {
  const index = tapIndex(30000);
  const ctr = await macvtapInContainer(t, index);
  t.true(existsSync(`/dev/tap${index}`));
  t.true(statSync(`/dev/tap${index}`).isCharacterDevice());
  await ctr.nl.link.del('mt0');
  t.false(existsSync(`/dev/tap${index}`), 'the node goes with the link');
});

rootTest('macvlan specs are validated with field-naming errors', async (t) => {
  const [host] = (await namespaces(t, 1)) as [TestNs];
  const e1 = await t.throwsAsync(host.nl.link.add({ kind: 'macvlan', name: 'mv0', link: 'lo', mode: 'source' as never }));
  t.true(e1 instanceof SpecError);
  t.regex(e1!.message, /^link\.mode: expected one of bridge, private, vepa, passthru, got "source"/);
  const e2 = await t.throwsAsync(host.nl.link.add({ kind: 'macvtap', name: 'mv0' } as never));
  t.regex(e2!.message, /^link\.link: required/);
});

rootTest('a macvlan parent is resolved in the handle namespace', async (t) => {
  const [host, ctr] = (await namespaces(t, 2)) as [TestNs, TestNs];
  // The parent exists only in the container: looked up in the handle's (host) namespace, it is absent.
  await ctr.nl.link.add({ kind: 'veth', name: 'p0', peer: { name: 'p1' } });
  const e3 = await t.throwsAsync(host.nl.link.add({ kind: 'macvlan', name: 'mv0', link: 'p0', netns: ctr.ns }));
  t.is((e3 as { code?: string }).code, 'ENODEV');
  t.deepEqual((await host.nl.link.list()).map((l) => l.name), ['lo']);
});
