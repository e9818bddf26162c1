// link.delVeth: a veth deleted and answered once the kernel has unlisted both ends (the peer's
// RTM_DELLINK), its RCU barrier waited out on an addon thread. What a caller relies on after it
// resolves must hold at once: both ends gone, the bridge port and the addresses and routes with
// them, the names free again.
import { namespaces, ipJson, rootTest, type TestNs } from '../../helpers/fixture.js';

async function plugged(host: TestNs, ctr: TestNs): Promise<void> {
  await host.nl.link.ensure({ kind: 'bridge', name: 'br0', up: true });
  await host.nl.link.add({ kind: 'veth', name: 'vh0', up: true, master: 'br0', peer: { name: 'eth0', netns: ctr.ns } });
  await ctr.nl.link.set({ name: 'eth0', up: true });
  await ctr.nl.addr.add({ dev: 'eth0', address: '10.9.0.2/24' });
  await ctr.nl.route.add({ dst: '10.8.0.0/16', gw: '10.9.0.1', dev: 'eth0' });
}

rootTest('delVeth answers at the peer notification with both ends, port, address and route gone', async (t) => {
  const [host, ctr] = await namespaces(t, 2);
  for (let round = 0; round < 3; round++) {
    await plugged(host!, ctr!);
    const link = await ctr!.nl.link.get('eth0');
    const early = await ctr!.nl.delLinkEarly({ index: link.index }, { netns: host!.ns, index: link.link! });
    t.true(early, 'answered by the notification, before the ACK');
    t.is(await ctr!.nl.link.find('eth0'), undefined);
    t.is(await host!.nl.link.find('vh0'), undefined);
    t.deepEqual((await host!.nl.link.list({ master: 'br0' })).map((l) => l.name), []);
    const addrs = await ipJson<{ addr_info: { local: string }[] }[]>(ctr!, ['-4', 'addr', 'show']);
    t.false(addrs.flatMap((a) => a.addr_info.map((i) => i.local)).includes('10.9.0.2'));
    t.deepEqual((await ipJson<{ dst: string }[]>(ctr!, ['route', 'show'])).map((r) => r.dst), []);
    t.deepEqual((await ipJson<{ ifname: string }[]>(host!, ['link', 'show'])).map((l) => l.ifname).sort(), ['br0', 'lo']);
  }
  // The names are free at once: the next round re-created them without waiting.
  t.pass();
});

rootTest('delVeth from the host end, its peer in the container', async (t) => {
  const [host, ctr] = await namespaces(t, 2);
  await plugged(host!, ctr!);
  const vh = await host!.nl.link.get('vh0');
  await host!.nl.link.delVeth(vh, ctr!.ns);
  t.is(await ctr!.nl.link.find('eth0'), undefined);
  t.is(await host!.nl.link.find('vh0'), undefined);
});

rootTest('delVeth of a link already gone succeeds (the ACK answers: no notification comes)', async (t) => {
  const [host, ctr] = await namespaces(t, 2);
  await plugged(host!, ctr!);
  const link = await ctr!.nl.link.get('eth0');
  await ctr!.nl.link.del('eth0');
  t.false(await ctr!.nl.delLinkEarly({ index: link.index }, { netns: host!.ns, index: link.link! }));
});

rootTest('delVeth reports the kernel refusal and never answers early on a notification of another link', async (t) => {
  const [host] = await namespaces(t, 1);
  await host!.nl.link.add({ kind: 'veth', name: 'va', peer: { name: 'vb' } });
  const vb = await host!.nl.link.get('vb');
  // `lo` cannot be deleted; the peer named is a real link that another caller deletes meanwhile.
  const e = await t.throwsAsync(Promise.all([host!.nl.delLinkEarly({ index: 1 }, { netns: host!.ns, index: 999 }), host!.nl.link.del({ index: vb.index })]));
  t.is((e as { code?: string }).code, 'EOPNOTSUPP');
  t.is(e!.message, 'delete link index 1: Operation not supported');
  t.truthy(await host!.nl.link.find('lo'));
});

rootTest('delVeth of a link without a peer index, or with its peer namespace unknown, deletes it as del does', async (t) => {
  const [host] = await namespaces(t, 1);
  await host!.nl.link.add({ kind: 'bridge', name: 'brx' });
  const brx = await host!.nl.link.get('brx');
  await host!.nl.link.delVeth({ index: brx.index }, host!.ns);
  t.is(await host!.nl.link.find('brx'), undefined);
  await host!.nl.link.add({ kind: 'veth', name: 'va', peer: { name: 'vb' } });
  await host!.nl.link.delVeth(await host!.nl.link.get('va'), undefined);
  t.deepEqual((await host!.nl.link.list()).map((l) => l.name), ['lo']);
});
