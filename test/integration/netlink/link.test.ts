// Links on real kernel objects: veth created straight into a second namespace, set, get, list, del.
import { netlink, netns } from '../../../lib/index.js';
import { namespaces, nsExec, rootTest, ipJson, uniq } from '../../helpers/fixture.js';

rootTest('veth pair is created with its peer directly in the other namespace', async (t) => {
  const [host, ctr] = await namespaces(t, 2);
  await host!.nl.link.add({ kind: 'veth', name: 'vh0', up: true, mtu: 1400, peer: { name: 'eth0', netns: ctr!.ns, mtu: 1400 } });
  const h = await host!.nl.link.get('vh0');
  t.is(h.kind, 'veth');
  t.true(h.up);
  t.is(h.mtu, 1400);
  const peer = await ctr!.nl.link.get('eth0');
  t.is(peer.kind, 'veth');
  t.is(peer.mtu, 1400);
  t.is(h.link, peer.index, 'host end points at the peer index');
  const oracle = await ipJson<{ ifname: string }[]>(ctr!, ['link', 'show', 'eth0']);
  t.is(oracle[0]?.ifname, 'eth0');
});

const vethSpec = { kind: 'veth' as const, name: 'va', peer: { name: 'vb' } };

rootTest('link.add refuses a taken name with EEXIST', async (t) => {
  const [host] = await namespaces(t, 1);
  await host!.nl.link.add(vethSpec);
  const e = await t.throwsAsync(host!.nl.link.add(vethSpec));
  t.is((e as { code?: string }).code, 'EEXIST');
  t.is(e!.message, 'add link va type veth: File exists');
});

rootTest('link.ensure of a taken name returns the existing link', async (t) => {
  const [host] = await namespaces(t, 1);
  await host!.nl.link.add(vethSpec);
  const l = await host!.nl.link.ensure(vethSpec);
  t.is(l.name, 'va');
});

rootTest('link.set renames a link, changes its mtu and mac and brings it up in one call', async (t) => {
  const [host] = await namespaces(t, 1);
  await host!.nl.link.add({ kind: 'veth', name: 'va', peer: { name: 'vb' } });
  await host!.nl.link.set({ name: 'va', newName: 'vc', mtu: 1280, mac: '02:00:00:00:00:0a', up: true });
  const l = await host!.nl.link.get('vc');
  t.is(l.mtu, 1280);
  t.is(l.mac, '02:00:00:00:00:0a');
  t.true(l.up);
  t.is(await host!.nl.link.find('va'), undefined);
});

rootTest('link.del is idempotent', async (t) => {
  const [host] = await namespaces(t, 1);
  await host!.nl.link.add({ kind: 'veth', name: 'vc', peer: { name: 'vb' } });
  await host!.nl.link.del('vc');
  await host!.nl.link.del('vc');
  t.deepEqual((await host!.nl.link.list()).map((x) => x.name), ['lo']);
});

rootTest('link.set sets and clears an alias, and links report it', async (t) => {
  const [host] = await namespaces(t, 1);
  await host!.nl.link.add({ kind: 'bridge', name: 'bra' });
  t.is((await host!.nl.link.get('bra')).alias, undefined);
  await host!.nl.link.set({ name: 'bra', alias: 'an alias: with spaces' });
  t.is((await host!.nl.link.get('bra')).alias, 'an alias: with spaces');
  t.regex(await nsExec(host!, ['ip', 'link', 'show', 'bra']), /alias an alias: with spaces/);
  await host!.nl.link.set({ name: 'bra', alias: '' });
  t.is((await host!.nl.link.get('bra')).alias, undefined);
});

rootTest('link.set moves a link to another namespace', async (t) => {
  const [a, b] = await namespaces(t, 2);
  await a!.nl.link.add({ kind: 'veth', name: 'va', peer: { name: 'vb' } });
  await a!.nl.link.set({ name: 'vb', netns: b!.ns });
  t.is(await a!.nl.link.find('vb'), undefined);
  t.is((await b!.nl.link.get('vb')).kind, 'veth');
});

rootTest('a veth peer cannot be brought up in the create request: clear error, nothing left', async (t) => {
  const [a, b] = await namespaces(t, 2);
  const e = await t.throwsAsync(a!.nl.link.add({ kind: 'veth', name: 'va', peer: { name: 'vb', netns: b!.ns, up: true } }));
  t.regex(e!.message, /link\.peer\.up/);
  t.deepEqual((await a!.nl.link.list()).map((x) => x.name), ['lo']);
});

rootTest('get of a missing link fails with ENODEV and names it', async (t) => {
  const [a] = await namespaces(t, 1);
  const e = await t.throwsAsync(a!.nl.link.get('nope0'));
  t.is((e as { code?: string }).code, 'ENODEV');
  t.is(e!.message, 'get link nope0: No such device');
});

rootTest('link.add answers with the new link (echo): a veth host end with its MAC and the peer index', async (t) => {
  const [host, ctr] = await namespaces(t, 2);
  const made = await host!.nl.link.add({ kind: 'veth', name: 've0', up: true, peer: { name: 'eth0', netns: ctr!.ns } });
  const h = await host!.nl.link.get('ve0');
  const peer = await ctr!.nl.link.get('eth0');
  t.like(made, { name: 've0', index: h.index, mac: h.mac, link: peer.index });
});

rootTest('a link made in another namespace is not echoed: the echo would answer the request of a handle there', async (t) => {
  // Fresh namespaces and handles: each the process's first netlink socket in its namespace, so
  // both have the process's id as port id, and both number their first request 1. The kernel
  // sends the echo of a link made in B to that port id in B: the B handle's first request.
  const [a, b] = [uniq('echoa'), uniq('echob')];
  await netns.add(a);
  t.teardown(() => netns.del(a));
  await netns.add(b);
  t.teardown(() => netns.del(b));
  const inB = await netns.open(b);
  t.teardown(() => inB.close());
  const ha = await netlink.open(a);
  t.teardown(() => ha.close());
  const hb = await netlink.open(b);
  t.teardown(() => hb.close());
  t.is(await ha.link.add({ kind: 'bridge', name: 'br9', netns: inB }), undefined);
  t.is((await hb.link.get('lo')).name, 'lo');
});

rootTest('waitOperUp: true once both veth ends are up (the carrier reported), false after the timeout while the peer is down; arpNotify sets the IPv4 setting', async (t) => {
  const [host, ctr] = await namespaces(t, 2);
  await host!.nl.link.add({ kind: 'veth', name: 'vw0', up: true, peer: { name: 'eth0', netns: ctr!.ns } });
  const t0 = performance.now();
  t.false(await host!.nl.link.waitOperUp('vw0', 30), 'the peer is down: no carrier');
  t.true(performance.now() - t0 >= 30);
  await ctr!.nl.link.set({ name: 'eth0', up: true, arpNotify: true });
  t.true(await host!.nl.link.waitOperUp('vw0', 1000));
  t.true(await ctr!.nl.link.waitOperUp('eth0', 1000));
  t.is((await nsExec(ctr!, ['cat', '/proc/sys/net/ipv4/conf/eth0/arp_notify'])).trim(), '1');
  await t.throwsAsync(ctr!.nl.link.set({ name: 'eth0', arpNotify: 'yes' as never }), { message: 'link.set.arpNotify: expected true or false, got "yes"' });
});

rootTest('addrGenMode none before up: the link comes up without an IPv6 address; both families in one request; a bad mode is refused', async (t) => {
  const [host, ctr] = await namespaces(t, 2);
  await host!.nl.link.add({ kind: 'veth', name: 'vg0', peer: { name: 'eth0', netns: ctr!.ns } });
  await host!.nl.request([
    { op: 'link.set', spec: { name: 'vg0', addrGenMode: 'none', arpNotify: true } },
    { op: 'link.set', spec: { name: 'vg0', up: true } },
  ]);
  await ctr!.nl.link.set({ name: 'eth0', up: true });
  t.true(await host!.nl.link.waitOperUp('vg0', 1000));
  t.regex(await nsExec(host!, ['ip', '-d', 'link', 'show', 'dev', 'vg0']), /addrgenmode none/);
  t.is((await nsExec(host!, ['cat', '/proc/sys/net/ipv4/conf/vg0/arp_notify'])).trim(), '1');
  t.deepEqual(await host!.nl.addr.list({ dev: 'vg0', family: 6 }), []);
  // The peer, left as the kernel has it, gets its link-local address.
  t.true((await ctr!.nl.addr.list({ dev: 'eth0', family: 6 })).some((a) => a.address.startsWith('fe80:')));
  await t.throwsAsync(host!.nl.link.set({ name: 'vg0', addrGenMode: 'off' as never }), { message: /^link\.set\.addrGenMode: expected one of eui64, none, stable_secret, random/ });
});
