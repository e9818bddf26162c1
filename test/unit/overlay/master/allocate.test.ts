// Allocation (reference §4) and the master-side upstream OverlayTest cases (§11) on the pure
// allocator; a "restart" is a recovery of the stored records under the (possibly new) config.
import test from 'ava';
import { Allocation, AllocationError, RecoveryError, vtepMac } from '../../../../lib/overlay/master/allocate.js';
import { agentCfg, net, restart } from '../../../helpers/overlay/master.js';

const dcos = () =>
  net({ vtep_subnet: '44.128.0.0/20', vtep_subnet6: undefined, overlays: [{ name: 'dcos', subnet: '9.0.0.0/8', prefix: 24 }, { name: 'dcos6', subnet6: 'fd01:b::/64', prefix6: 80 }] });

test('VTEP: lowest free, no network address; MAC = OUI + octets 2-4, lower case; vni 1024, vtep1024', (t) => {
  const a = Allocation.empty(dcos());
  const r = a.register('10.0.0.1', agentCfg());
  t.deepEqual(r.agent.backend, { vxlan: { vni: 1024, vtep_name: 'vtep1024', vtep_ip: '44.128.0.1/20', vtep_mac: '70:b3:d5:80:00:01' } });
  t.is(r.change, 'add');
  t.is(a.register('10.0.0.2', agentCfg()).agent.backend.vxlan.vtep_ip, '44.128.0.2/20');
  a.remove(['10.0.0.1']);
  t.is(a.register('10.0.0.3', agentCfg()).agent.backend.vxlan.vtep_ip, '44.128.0.1/20');
  t.is(vtepMac([0x70, 0xb3, 0xd5], (44n << 24n) | (128n << 16n) | (15n << 8n) | 254n), '70:b3:d5:80:0f:fe');
});

test('VTEP: the broadcast address is never handed out; exhaustion drops the registration', (t) => {
  const a = Allocation.empty(net({ vtep_subnet: '44.128.0.0/30', vtep_subnet6: undefined }));
  t.is(a.register('10.0.0.1', agentCfg()).agent.backend.vxlan.vtep_ip, '44.128.0.1/30');
  t.is(a.register('10.0.0.2', agentCfg()).agent.backend.vxlan.vtep_ip, '44.128.0.2/30');
  const err = t.throws(() => a.register('10.0.0.3', agentCfg()), { instanceOf: AllocationError });
  t.regex(err!.message, /Unable to allocate a VTEP IP due to exhaustion/);
  t.false(a.agents.has('10.0.0.3'));
});

test('subnets: lowest free /prefix including the first and the last block; exhaustion skips the overlay', (t) => {
  const a = Allocation.empty(net({ vtep_subnet6: undefined, overlays: [{ name: 'o', subnet: '10.0.0.0/24', prefix: 25 }, { name: 'p', subnet: '11.0.0.0/8', prefix: 24 }] }));
  t.is(a.register('1.1.1.1', agentCfg()).agent.overlays[0]!.subnet, '10.0.0.0/25');
  t.is(a.register('1.1.1.2', agentCfg()).agent.overlays[0]!.subnet, '10.0.0.128/25');
  const r = a.register('1.1.1.3', agentCfg());
  t.deepEqual(r.agent.overlays.map((o) => [o.info.name, o.subnet]), [['p', '11.0.2.0/24']]);
  t.deepEqual(r.events, [{ overlay: 'o', family: 4, msg: 'Cannot allocate subnet from overlay o to Agent 1.1.1.3: No free subnets available in the o overlay' }]);
  a.remove(['1.1.1.2']);
  // Re-registration allocates the overlay it lacks once a block is free again.
  t.is(a.register('1.1.1.3', agentCfg()).agent.overlays.find((o) => o.info.name === 'o')!.subnet, '10.0.0.128/25');
});

test('an IPv6 block exhausted after the IPv4 one was taken gives the IPv4 block back (upstream leaked it)', (t) => {
  const a = Allocation.empty(net({ overlays: [{ name: 'o', subnet: '10.0.0.0/24', prefix: 25, subnet6: 'fd00::/120', prefix6: 120 }] }));
  t.is(a.register('1.1.1.1', agentCfg()).agent.overlays[0]!.subnet6, 'fd00::/120');
  const r = a.register('1.1.1.2', agentCfg());
  t.deepEqual(r.agent.overlays, []);
  t.is(r.events[0]!.family, 6);
  a.remove(['1.1.1.1']);
  t.is(a.register('1.1.1.3', agentCfg()).agent.overlays[0]!.subnet, '10.0.0.0/25');
});

test('halves /prefix+1 only for the bridges the agent asked for', (t) => {
  const a = Allocation.empty(dcos());
  const both = a.register('10.0.0.1', agentCfg({ mesos_bridge: true, docker_bridge: true })).agent.overlays;
  t.deepEqual(both[0], {
    info: { name: 'dcos', subnet: '9.0.0.0/8', prefix: 24, enabled: true },
    subnet: '9.0.0.0/24',
    mesos_bridge: { name: 'm-dcos', ip: '9.0.0.0/25' },
    docker_bridge: { name: 'd-dcos', ip: '9.0.0.128/25' },
    backend: both[0]!.backend,
  });
  t.deepEqual(both[1]!.mesos_bridge, { name: 'm-dcos6', ip6: 'fd01:b::/81' });
  t.deepEqual(both[1]!.docker_bridge, { name: 'd-dcos6', ip6: 'fd01:b::8000:0:0/81' });
  t.is(both[1]!.subnet6, 'fd01:b::/80');
  const docker = a.register('10.0.0.2', agentCfg({ docker_bridge: true })).agent.overlays[0]!;
  t.is(docker.mesos_bridge, undefined);
  t.deepEqual(docker.docker_bridge, { name: 'd-dcos', ip: '9.0.1.128/25' });
  const none = a.register('10.0.0.3', agentCfg()).agent.overlays[0]!;
  t.is(none.mesos_bridge, undefined);
  t.is(none.docker_bridge, undefined);
  // allocate_subnet false: the overlay with its backend, no subnet, no bridges.
  const bare = a.register('10.0.0.4', agentCfg({ allocate_subnet: false, mesos_bridge: true })).agent.overlays[0]!;
  t.deepEqual(Object.keys(bare), ['info', 'backend']);
});

test('upstream checkMasterAgentComm: the fixture agent gets 192.168.0.0/24 and fd02::/80', (t) => {
  const a = Allocation.empty(net());
  const o = a.register('10.0.0.1', agentCfg()).agent.overlays;
  t.is(o.length, 1);
  t.is(o[0]!.subnet, '192.168.0.0/24');
  t.is(o[0]!.subnet6, 'fd02::/80');
  t.is(o[0]!.backend.vxlan.vtep_ip6, 'fd03::1/64');
});

test('upstream ROOT_checkAgentNetworkConfigChange: later flag changes do not alter the stored halves', (t) => {
  const a = Allocation.empty(net());
  const first = a.register('10.0.0.1', agentCfg({ mesos_bridge: true, docker_bridge: true })).agent;
  const again = a.register('10.0.0.1', agentCfg({ mesos_bridge: false, docker_bridge: false }));
  t.is(again.change, undefined);
  t.deepEqual(again.agent, first);
  t.deepEqual(restart(a).register('10.0.0.1', agentCfg()).agent, JSON.parse(JSON.stringify(first)));
});

test('upstream checkMTUConfiguration: vtep_mtu 9000 reaches backend.vxlan.vtep_mtu', (t) => {
  const a = Allocation.empty(net({ vtep_mtu: 9000 }));
  t.is(a.register('10.0.0.1', agentCfg()).agent.overlays[0]!.backend.vxlan.vtep_mtu, 9000);
});

test('upstream checkIPv6Configuration: vtep_subnet6 added later gives known agents fd03::1/64 on re-registration', (t) => {
  const a = Allocation.empty(net({ vtep_subnet6: undefined }));
  const before = a.register('10.0.0.1', agentCfg()).agent;
  t.is(before.backend.vxlan.vtep_ip6, undefined);
  const b = restart(a, net());
  const r = b.register('10.0.0.1', agentCfg());
  t.is(r.change, 'modify');
  t.is(r.agent.backend.vxlan.vtep_ip6, 'fd03::1/64');
  // Unlike upstream, the overlays already held carry it too (and it is stored).
  t.is(r.agent.overlays[0]!.backend.vxlan.vtep_ip6, 'fd03::1/64');
  t.is(r.agent.overlays[0]!.subnet, before.overlays[0]!.subnet);
});

test('upstream ROOT_checkAddVirtualNetworks: an overlay added across a restart is allocated on re-registration', (t) => {
  const a = Allocation.empty(net());
  a.register('10.0.0.1', agentCfg());
  const two = net({ overlays: [{ name: 'mz-overlay', subnet: '192.168.0.0/16', prefix: 24, subnet6: 'fd02::/64', prefix6: 80 }, { name: 'mz-overlay-2', subnet: '11.0.0.0/8', prefix: 24, subnet6: 'fd04::/64', prefix6: 80 }] });
  t.is(two.json.overlays.length, 2);
  const r = restart(a, two).register('10.0.0.1', agentCfg());
  t.is(r.change, 'modify');
  const o2 = r.agent.overlays.find((o) => o.info.name === 'mz-overlay-2')!;
  t.is(o2.subnet, '11.0.0.0/24');
  t.is(o2.subnet6, 'fd04::/80');
});

test('upstream ROOT_checkDisabledIPV6OverlayNetwork: a disabled overlay is skipped until re-enabled', (t) => {
  const overlays = (enabled: boolean) => [{ name: 'mz-overlay', subnet: '192.168.0.0/16', prefix: 24 }, { name: 'mz-ipv6', subnet6: 'fd05::/64', prefix6: 80, enabled }];
  const a = Allocation.empty(net({ overlays: overlays(false) }));
  t.is(a.register('10.0.0.1', agentCfg()).agent.overlays.length, 1);
  const r = restart(a, net({ overlays: overlays(true) })).register('10.0.0.1', agentCfg());
  t.is(r.agent.overlays.length, 2);
  t.is(r.agent.overlays[1]!.subnet6, 'fd05::/80');
});

test('upstream checkMasterAgentDeletion: deleting frees, repeat is harmless, re-registration gets the identical allocation', (t) => {
  const a = Allocation.empty(net());
  const first = a.register('10.0.0.1', agentCfg()).agent;
  t.deepEqual(a.remove(['10.0.0.1']), ['10.0.0.1']);
  t.deepEqual(a.remove(['10.0.0.1']), []);
  t.is(a.agents.size, 0);
  t.deepEqual(a.register('10.0.0.1', agentCfg()).agent, first);
});

test('recovery re-reserves every allocation and refuses any conflict', (t) => {
  const a = Allocation.empty(net());
  const x = a.register('10.0.0.1', agentCfg()).agent;
  const y = a.register('10.0.0.2', agentCfg()).agent;
  const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
  const dupVtep = { ...clone(y), backend: clone(x.backend) };
  t.throws(() => Allocation.recover(net(), [clone(x), dupVtep]), { instanceOf: RecoveryError, message: 'recover agent 10.0.0.2: VTEP IP 44.128.0.1/16 is already taken or outside the pool' });
  const dupSubnet = clone(y);
  dupSubnet.overlays[0]!.subnet = x.overlays[0]!.subnet!;
  t.throws(() => Allocation.recover(net(), [clone(x), dupSubnet]), { message: "recover agent 10.0.0.2: overlay 'mz-overlay' subnet 192.168.0.0/24 is already taken" });
  const badMac = clone(x);
  badMac.backend.vxlan.vtep_mac = '70:b3:d5:00:00:09';
  t.throws(() => Allocation.recover(net(), [badMac]), { message: /VTEP MAC 70:b3:d5:00:00:09 is not the one derived from its VTEP IP \(70:b3:d5:80:00:01\)/ });
  t.throws(() => Allocation.recover(net(), [clone(x), clone(x)]), { message: 'recover agent 10.0.0.1: stored twice' });
  t.throws(() => Allocation.recover(net({ overlays: [{ name: 'other', subnet: '9.0.0.0/8', prefix: 24 }] }), [clone(x)]), { message: "recover agent 10.0.0.1: holds overlay 'mz-overlay', which is no longer configured" });
  t.throws(() => Allocation.recover(net({ vtep_subnet: '45.0.0.0/16' }), [clone(x)]), { message: /VTEP IP 44\.128\.0\.1\/16 is not in the configured VTEP subnet 45\.0\.0\.0\/16/ });
  t.throws(() => Allocation.recover(net({ overlays: [{ name: 'mz-overlay', subnet: '192.168.0.0/16', prefix: 25 }] }), [clone(x)]), { message: /subnet 192\.168\.0\.0\/24 is not a \/25 block/ });
  // No conflict: identical pools afterwards.
  t.deepEqual(restart(a).pools(), a.pools());
});

test('an agent holding no overlay keeps its VTEP across a restart (upstream lost it)', (t) => {
  const a = Allocation.empty(net({ overlays: [{ name: 'o', subnet: '10.0.0.0/8', prefix: 24, enabled: false }] }));
  a.register('10.0.0.1', agentCfg());
  const b = restart(a);
  t.is(b.register('10.0.0.2', agentCfg()).agent.backend.vxlan.vtep_ip, '44.128.0.2/16');
});

test('clone: changes to the copy never reach the original', (t) => {
  const a = Allocation.empty(net());
  a.register('10.0.0.1', agentCfg());
  const b = a.clone();
  b.register('10.0.0.2', agentCfg());
  b.remove(['10.0.0.1']);
  t.deepEqual([...a.agents.keys()], ['10.0.0.1']);
  t.is(a.pools()[0]!.used, 1);
  t.deepEqual([...b.touched].sort(), ['10.0.0.1', '10.0.0.2']);
  t.is(a.touched.size, 1);
});
