// VXLAN on real kernel objects: every option decoded back (IPv4 and IPv6 endpoints), the 4789
// default, validation, and a DC/OS-style VTEP pair (vni 1024, port 64000, no learning) carrying
// pings between two fake hosts joined by a veth underlay.
import { SpecError } from '../../../lib/native/index.js';
import type { LinkSpec } from '../../../lib/netlink/index.js';
import { ipJson, namespaces, nsExec, rootTest, type TestNs } from '../../helpers/fixture.js';
import type { ExecutionContext } from 'ava';

interface IpVxlan {
  ifname: string;
  linkinfo?: { info_kind?: string; info_data?: Record<string, unknown> };
}

async function vxlanOracle(ns: TestNs, name: string): Promise<Record<string, unknown>> {
  const [l] = await ipJson<IpVxlan[]>(ns, ['-d', 'link', 'show', name]);
  return l!.linkinfo!.info_data!;
}

rootTest('vxlan with an IPv4 unicast remote: every option is sent and decoded back', async (t) => {
  const [host] = await namespaces(t, 1);
  await host!.nl.link.add({ kind: 'veth', name: 'u1', peer: { name: 'u2' } });
  await host!.nl.link.add({
    kind: 'vxlan', name: 'vx0', vni: 4097, port: 64000, local: '192.0.2.1', remote: '192.0.2.9', dev: 'u1',
    learning: false, ttl: 64, tos: 16, portRange: [50000, 50100], udpCsum: true, proxy: true, l2miss: true, l3miss: true,
  });
  const u1 = await host!.nl.link.get('u1');
  const vx = await host!.nl.link.get('vx0');
  t.like(vx, {
    kind: 'vxlan', vni: 4097, port: 64000, local: '192.0.2.1', remote: '192.0.2.9', dev: u1.index,
    learning: false, ttl: 64, tos: 16, portRange: [50000, 50100], udpCsum: true, proxy: true, l2miss: true, l3miss: true,
  });
  t.is(vx.mcastGroup, undefined);
  t.like(await vxlanOracle(host!, 'vx0'), {
    id: 4097, port: 64000, local: '192.0.2.1', remote: '192.0.2.9', link: 'u1', learning: false, ttl: 64, tos: '0x10',
    port_range: { low: 50000, high: 50100 }, proxy: true, l2miss: true, l3miss: true,
  });
});

rootTest('vxlan with IPv6 endpoints decodes back', async (t) => {
  const [host] = await namespaces(t, 1);
  await host!.nl.link.add({ kind: 'vxlan', name: 'vx6', vni: 7, local: '2001:db8::1', remote: '2001:db8::2' });
  t.like(await host!.nl.link.get('vx6'), { vni: 7, local: '2001:db8::1', remote: '2001:db8::2', learning: true });
  t.like(await vxlanOracle(host!, 'vx6'), { local6: '2001:db8::1', remote6: '2001:db8::2' });
});

rootTest('vxlan with an IPv4 or IPv6 multicast group decodes back', async (t) => {
  const [host] = await namespaces(t, 1);
  await host!.nl.link.add({ kind: 'veth', name: 'u1', peer: { name: 'u2' } });
  await host!.nl.link.add({ kind: 'vxlan', name: 'vxm', vni: 8, mcastGroup: '239.1.1.1', dev: 'u1' });
  await host!.nl.link.add({ kind: 'vxlan', name: 'vxm6', vni: 9, mcastGroup: 'ff05::100', dev: 'u1' });
  t.like(await host!.nl.link.get('vxm'), { vni: 8, mcastGroup: '239.1.1.1', remote: undefined });
  t.like(await host!.nl.link.get('vxm6'), { vni: 9, mcastGroup: 'ff05::100' });
  t.like(await vxlanOracle(host!, 'vxm6'), { group6: 'ff05::100', link: 'u1' });
});

rootTest('vxlan port defaults to 4789 (IANA), not the kernel default 8472', async (t) => {
  const [host] = await namespaces(t, 1);
  await host!.nl.link.add({ kind: 'vxlan', name: 'vx0', vni: 1 });
  t.is((await host!.nl.link.get('vx0')).port, 4789);
  t.is((await vxlanOracle(host!, 'vx0')).port, 4789);
  // The kernel's own default, for contrast: what iproute2 gets without dstport.
  await nsExec(host!, ['ip', 'link', 'add', 'vx1', 'type', 'vxlan', 'id', '2']);
  t.is((await host!.nl.link.get('vx1')).port, 8472);
});

rootTest('vxlan specs are validated with field-naming errors before reaching the kernel', async (t) => {
  const [host] = await namespaces(t, 1);
  const bad: [LinkSpec, RegExp][] = [
    [{ kind: 'vxlan', name: 'vx0', vni: 2 ** 24 }, /^link\.vni: expected an integer from 0 to 16777215/],
    [{ kind: 'vxlan', name: 'vx0', vni: 1, port: 0 }, /^link\.port: expected an integer from 1 to 65535/],
    [{ kind: 'vxlan', name: 'vx0', vni: 1, mcastGroup: '10.0.0.1', dev: 'lo' }, /^link\.mcastGroup: expected a multicast address/],
    [{ kind: 'vxlan', name: 'vx0', vni: 1, remote: '239.0.0.1' }, /^link\.remote: expected a unicast address/],
    [{ kind: 'vxlan', name: 'vx0', vni: 1, remote: '10.0.0.1', mcastGroup: '239.0.0.1' }, /^link\.remote: give either mcastGroup/],
    [{ kind: 'vxlan', name: 'vx0', vni: 1, local: '2001:db8::1', remote: '10.0.0.1' }, /^link\.local: expected an IPv4 address/],
    [{ kind: 'vxlan', name: 'vx0', vni: 1, mcastGroup: '239.0.0.1' }, /^link\.dev: required with mcastGroup/],
    [{ kind: 'vxlan', name: 'vx0', vni: 1, local: '10.0.0.300' }, /^link\.local: expected an IPv4 or IPv6 address/],
    [{ kind: 'vxlan', name: 'vx0', vni: 1, portRange: [2000, 1000] }, /^link\.portRange\[1\]: expected an integer from 2000 to 65535/],
    [{ kind: 'vxlan', name: 'vx0', vni: 1, learning: 'no' as never }, /^link\.learning: expected true or false/],
  ];
  for (const [spec, re] of bad) {
    const e = await t.throwsAsync(host!.nl.link.add(spec));
    t.true(e instanceof SpecError, e?.message);
    t.regex(e!.message, re);
  }
  const missingDev = await t.throwsAsync(host!.nl.link.add({ kind: 'vxlan', name: 'vx0', vni: 1, dev: 'nope0' }));
  t.is((missingDev as { code?: string }).code, 'ENODEV');
  t.deepEqual((await host!.nl.link.list()).map((l) => l.name), ['lo']);
});

const MAC = ['70:b3:d5:e7:00:01', '70:b3:d5:e7:00:02'] as const;
const UNDERLAY = { 4: ['192.0.2.1', '192.0.2.2'], 6: ['2001:db8:1::1', '2001:db8:1::2'] } as const;

/**
 * Two fake hosts joined by a veth underlay, each with a VTEP like DC/OS' vtep1024, and a static
 * FDB/neighbour configuration in the two styles dcos-net and flannel use.
 */
async function overlay(t: ExecutionContext, family: 4 | 6): Promise<[TestNs, TestNs]> {
  const [h1, h2] = (await namespaces(t, 2)) as [TestNs, TestNs];
  const under = UNDERLAY[family];
  const plen = family === 4 ? 24 : 64;
  await h1.nl.link.add({ kind: 'veth', name: 'u1', up: true, peer: { name: 'u2', netns: h2.ns } });
  await h2.nl.link.set({ name: 'u2', up: true });
  const hosts = [h1, h2] as const;
  for (const i of [0, 1] as const) {
    const ns = hosts[i];
    const dev = i === 0 ? 'u1' : 'u2';
    await ns.nl.addr.add({ dev, address: `${under[i]}/${plen}`, noDad: family === 6 });
    await ns.nl.link.add({ kind: 'vxlan', name: 'vtep1024', vni: 1024, port: 64000, learning: false, local: under[i], dev, mac: MAC[i], up: true });
    await ns.nl.addr.add({ dev: 'vtep1024', address: `44.128.0.${i + 1}/20` });
  }
  // h1 floods unknown destinations (ARP included) to h2 with an all-zeros entry (`bridge fdb append`).
  // vxlan refuses FDB entries that are neither permanent nor reachable (EINVAL, no extack).
  await h1.nl.neigh.append({ family: 'bridge', dev: 'vtep1024', lladdr: '00:00:00:00:00:00', dst: under[1], state: 'permanent' });
  // h2 knows h1's VTEP MAC and overlay address statically, as dcos-net programs them.
  await h2.nl.neigh.replace({ family: 'bridge', dev: 'vtep1024', lladdr: MAC[0], dst: under[0], self: true, state: 'permanent' });
  await h2.nl.neigh.replace({ dev: 'vtep1024', address: '44.128.0.1', lladdr: MAC[0], state: 'permanent' });
  return [h1, h2];
}

async function ping(ns: TestNs, ip: string, count = 2): Promise<string> {
  return nsExec(ns, ['ping', '-c', String(count), '-i', '0.2', '-W', '1', ip]);
}

for (const family of [4, 6] as const) {
  rootTest(`vxlan overlay over an IPv${family} underlay carries pings both ways (vni 1024, port 64000, learning off)`, async (t) => {
    const [h1, h2] = await overlay(t, family);
    t.regex(await ping(h1, '44.128.0.2'), / 0% packet loss/);
    t.regex(await ping(h2, '44.128.0.1'), / 0% packet loss/);
    const v1 = await h1.nl.link.get('vtep1024');
    t.like(v1, { kind: 'vxlan', vni: 1024, port: 64000, learning: false, up: true, mac: MAC[0] });
    // With learning off, h1 learned nothing: its FDB holds only the static flood entry.
    const fdb = await nsExec(h1, ['bridge', 'fdb', 'show', 'dev', 'vtep1024']);
    t.false(fdb.includes(MAC[1]), fdb);
    // Without h2's static entries the reverse path is gone: the test depends on the VTEP config.
    await h2.nl.neigh.del({ family: 'bridge', dev: 'vtep1024', lladdr: MAC[0], dst: UNDERLAY[family][0] });
    await t.throwsAsync(ping(h2, '44.128.0.1', 1));
  });
}
