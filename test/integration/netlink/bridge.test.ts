// Bridges and bridge ports on real kernel objects: options set at creation and decoded back,
// a veth enslaved and UP from its single create request, port options as `bridge link set` does.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { ExecutionContext } from 'ava';
import { SpecError } from '../../../lib/native/index.js';
import { ipJson, namespaces, rootTest, type TestNs } from '../../helpers/fixture.js';

const execFileP = promisify(execFile);

interface IpLinkDetail {
  ifname: string;
  master?: string;
  flags: string[];
  linkinfo?: { info_kind?: string; info_data?: Record<string, unknown>; info_slave_kind?: string };
}
interface BridgeLink {
  ifname: string;
  master?: string;
  hairpin?: boolean;
  learning?: boolean;
  flood?: boolean;
  isolated?: boolean;
  cost?: number;
  priority?: number;
}

/** `bridge -d -j link show dev X` in a namespace: the independent view of port options. */
async function bridgeLink(ns: TestNs, dev: string): Promise<BridgeLink> {
  const { stdout } = await execFileP('bridge', ['-n', ns.name, '-d', '-j', 'link', 'show', 'dev', dev]);
  return (JSON.parse(stdout) as BridgeLink[])[0]!;
}

rootTest('bridge options are set at creation and decoded back', async (t) => {
  const [host] = await namespaces(t, 1);
  await host!.nl.link.add({ kind: 'bridge', name: 'br0', up: true, stp: false, forwardDelay: 400, ageingTime: 12000, vlanFiltering: false, mcastSnooping: false });
  const br = await host!.nl.link.get('br0');
  t.is(br.kind, 'bridge');
  t.true(br.up);
  t.is(br.stp, false);
  t.is(br.forwardDelay, 400);
  t.is(br.ageingTime, 12000);
  t.is(br.vlanFiltering, false);
  t.is(br.mcastSnooping, false);
  const data = (await ipJson<IpLinkDetail[]>(host!, ['-d', 'link', 'show', 'br0']))[0]!.linkinfo!.info_data!;
  t.is(data.stp_state, 0);
  t.is(data.vlan_filtering, 0);
  t.is(data.mcast_snooping, 0);
  t.is(data.forward_delay, 400);
  t.is(data.ageing_time, 12000);
});

rootTest('vlanFiltering on is honoured where the kernel has it, else refused as iproute2 is', async (t) => {
  const [host] = await namespaces(t, 1);
  // This kernel is built without CONFIG_BRIDGE_VLAN_FILTERING; assert on what the kernel answers.
  const ours = await host!.nl.link.add({ kind: 'bridge', name: 'br0', vlanFiltering: true }).then(
    () => undefined,
    (e: unknown) => e as { code?: string },
  );
  const iproute = await execFileP('ip', ['-n', host!.name, 'link', 'add', 'br1', 'type', 'bridge', 'vlan_filtering', '1']).then(
    () => true,
    () => false,
  );
  if (ours === undefined) {
    t.true(iproute);
    t.is((await host!.nl.link.get('br0')).vlanFiltering, true);
  } else {
    t.false(iproute);
    t.is(ours.code, 'EOPNOTSUPP');
    t.is(await host!.nl.link.find('br0'), undefined);
  }
});

/** br1 created with stp on and forward delay 200, br2 with defaults. */
async function twoBridges(t: ExecutionContext): Promise<TestNs> {
  const [host] = await namespaces(t, 1);
  await host!.nl.link.add({ kind: 'bridge', name: 'br1', stp: true, forwardDelay: 200 });
  await host!.nl.link.add({ kind: 'bridge', name: 'br2' });
  return host!;
}

rootTest('bridge defaults decode as the kernel reports them', async (t) => {
  const host = await twoBridges(t);
  const br2 = await host.nl.link.get('br2');
  t.is(br2.stp, false);
  t.is(br2.forwardDelay, 1500);
  t.is(br2.ageingTime, 30000);
  t.is(br2.vlanFiltering, false);
  t.is(br2.mcastSnooping, true);
});

rootTest('stp on and a forward delay given at creation are kept', async (t) => {
  const host = await twoBridges(t);
  const br1 = await host.nl.link.get('br1');
  t.is(br1.stp, true);
  t.is(br1.forwardDelay, 200);
});

rootTest('link.list filters by kind', async (t) => {
  const host = await twoBridges(t);
  t.deepEqual((await host.nl.link.list({ kind: 'bridge' })).map((l) => l.name).sort(), ['br1', 'br2']);
});

rootTest('one create request yields a veth host end that is UP and already enslaved, peer in the container', async (t) => {
  const [host, ctr] = await namespaces(t, 2);
  await host!.nl.link.add({ kind: 'bridge', name: 'br0', up: true });
  await host!.nl.link.add({ kind: 'veth', name: 'vh0', up: true, master: 'br0', peer: { name: 'eth0', netns: ctr!.ns } });
  const br = await host!.nl.link.get('br0');
  const vh = await host!.nl.link.get('vh0');
  t.true(vh.up);
  t.is(vh.master, br.index);
  t.is(vh.slaveKind, 'bridge');
  t.deepEqual((await host!.nl.link.list({ master: 'br0' })).map((l) => l.name), ['vh0']);
  const oracle = (await ipJson<IpLinkDetail[]>(host!, ['-d', 'link', 'show', 'vh0']))[0]!;
  t.is(oracle.master, 'br0');
  t.true(oracle.flags.includes('UP'));
  t.is(oracle.linkinfo?.info_slave_kind, 'bridge');
  t.is((await ctr!.nl.link.get('eth0')).kind, 'veth');
});

rootTest('bridge port options: hairpin, learning, flood, isolated, cost, priority, and back', async (t) => {
  const [host] = await namespaces(t, 1);
  await host!.nl.link.add({ kind: 'bridge', name: 'br0' });
  await host!.nl.link.add({ kind: 'veth', name: 'vh0', master: 'br0', peer: { name: 'vp0' } });
  const before = await bridgeLink(host!, 'vh0');
  t.is(before.hairpin, false);
  t.is(before.learning, true);
  await host!.nl.bridgePort.set({ dev: 'vh0', hairpin: true, learning: false, flood: false, isolated: true, cost: 7, priority: 5 });
  const after = await bridgeLink(host!, 'vh0');
  t.like(after, { master: 'br0', hairpin: true, learning: false, flood: false, isolated: true, cost: 7, priority: 5 });
  // Only the options given change; by index works as well as by name.
  const vh = await host!.nl.link.get('vh0');
  await host!.nl.bridgePort.set({ dev: vh.index, hairpin: false });
  t.like(await bridgeLink(host!, 'vh0'), { hairpin: false, learning: false, isolated: true });
});

rootTest('bridge port options on a link that is no bridge port fail with the kernel error and context', async (t) => {
  const [host] = await namespaces(t, 1);
  await host!.nl.link.add({ kind: 'veth', name: 'vh0', peer: { name: 'vp0' } });
  const e = await t.throwsAsync(host!.nl.bridgePort.set({ dev: 'vh0', hairpin: true }));
  t.regex(e!.message, /^set bridge port vh0 hairpin on: /);
  // br_setlink has no port behind the device: the bridge driver's answer is EOPNOTSUPP.
  t.is((e as { code?: string }).code, 'EOPNOTSUPP');
  const missing = await t.throwsAsync(host!.nl.bridgePort.set({ dev: 'nope0', hairpin: true }));
  t.is((missing as { code?: string }).code, 'ENODEV');
});

rootTest('bridge and bridge-port specs are validated with field-naming errors', async (t) => {
  const [host] = await namespaces(t, 1);
  const bad: [() => Promise<unknown>, RegExp][] = [
    [() => host!.nl.link.add({ kind: 'bridge', name: 'br0', stp: 'yes' as never }), /^link\.stp: expected true or false/],
    [() => host!.nl.link.add({ kind: 'bridge', name: 'br0', stp: true, forwardDelay: 100 }), /^link\.forwardDelay: expected 200 to 3000/],
    [() => host!.nl.link.add({ kind: 'bridge', name: 'br0', ageingTime: -1 }), /^link\.ageingTime: expected an integer/],
    [() => host!.nl.bridgePort.set({ dev: 'lo' }), /^bridgePort: expected at least one option/],
    [() => host!.nl.bridgePort.set({ dev: 'lo', hairpin: 1 as never }), /^bridgePort\.hairpin: expected true or false/],
    [() => host!.nl.bridgePort.set({ dev: 'lo', priority: 64 }), /^bridgePort\.priority: expected an integer from 0 to 63/],
  ];
  for (const [f, re] of bad) {
    const e = await t.throwsAsync(f());
    t.true(e instanceof SpecError, e?.message);
    t.regex(e!.message, re);
  }
  t.deepEqual((await host!.nl.link.list()).map((l) => l.name), ['lo']);
});
