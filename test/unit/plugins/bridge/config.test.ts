// The bridge's config as data: the reference's defaults and checks, L2 only, the MAC's sources.
import test from 'ava';
import { parseEnv } from '../../../../lib/cni/env.js';
import { parseConfig } from '../../../../lib/plugins/bridge/config.js';

const base = { cniVersion: '1.0.0', name: 'n', type: 'bridge', ipam: { type: 'host-local', subnet: '10.0.0.0/24' } };
const env = (command: string, args?: string) => parseEnv({ CNI_COMMAND: command, CNI_CONTAINERID: 'c', CNI_NETNS: '/x', CNI_IFNAME: 'eth0', CNI_PATH: '/p', CNI_ARGS: args });

test('defaults: cni0, preserveDefaultVlan true, no VLANs, iptables chosen later, L3 with the IPAM', (t) => {
  t.like(parseConfig(base), { bridge: 'cni0', preserveDefaultVlan: true, vlan: 0, vlanTrunk: [], ipMasqBackend: undefined, ipamType: 'host-local', dns: undefined, mac: undefined, enableDad: false, macSpoofCheck: false, portIsolation: false, disableContainerInterface: false });
  t.true(parseConfig({ ...base, isDefaultGateway: true }).isGateway, 'isDefaultGateway implies isGateway');
});

test('L2 only: no ipam, {} or no type; disableContainerInterface only without an IPAM', (t) => {
  for (const ipam of [undefined, {}, { type: '' }]) t.is(parseConfig({ ...base, ipam } as never).ipamType, undefined);
  t.true(parseConfig({ ...base, ipam: undefined, disableContainerInterface: true }).disableContainerInterface);
  const e = t.throws(() => parseConfig({ ...base, disableContainerInterface: true })) as Error & { code: number };
  t.is(e.code, 7);
  t.regex(e.message, /^disableContainerInterface: expected no ipam/);
});

test('vlan and vlanTrunk as the reference collects them', (t) => {
  t.deepEqual(parseConfig({ ...base, vlanTrunk: [{ id: 30 }, { minID: 10, maxID: 12 }, { id: 11 }] }).vlanTrunk, [10, 11, 12, 30]);
  t.is(parseConfig({ ...base, vlan: 0 }).vlan, 0);
  const err = (extra: object) => t.throws(() => parseConfig({ ...base, ...extra }))!.message;
  t.is(err({ vlan: 4095 }), 'vlan: expected a VLAN ID from 0 to 4094, got 4095');
  t.is(err({ vlan: 5, vlanTrunk: [{ id: 6 }] }), 'vlan: expected not both vlan and vlanTrunk (a port is an access or a trunk port)');
  t.is(err({ vlanTrunk: [{ maxID: 5 }] }), 'vlanTrunk[0].minID: expected minID and maxID together');
  t.is(err({ vlanTrunk: [{ minID: 7, maxID: 5 }] }), 'vlanTrunk[0].minID: expected at most maxID 5, got 7');
  t.is(err({ vlanTrunk: [{ id: 4095 }] }), 'vlanTrunk[0].id: expected a VLAN ID from 1 to 4094, got 4095');
  t.is(err({ vlanTrunk: {} }), 'vlanTrunk: expected an array of {id} or {minID, maxID}, got {}');
  t.false(parseConfig({ ...base, vlan: 3, preserveDefaultVlan: false }).preserveDefaultVlan);
});

test('the MAC: runtimeConfig, else args.cni.mac, else CNI_ARGS MAC= (read on ADD only, unknown keys need IgnoreUnknown)', (t) => {
  const all = { ...base, runtimeConfig: { mac: '02:00:00:00:00:01' }, args: { cni: { mac: '02:00:00:00:00:02' } } };
  t.is(parseConfig(all, env('ADD', 'MAC=02:00:00:00:00:03')).mac, '02:00:00:00:00:01');
  t.is(parseConfig({ ...base, args: { cni: { mac: '02:00:00:00:00:02' } } }, env('ADD', 'MAC=02:00:00:00:00:03')).mac, '02:00:00:00:00:02');
  t.is(parseConfig(base, env('ADD', 'IgnoreUnknown=1;MAC=02:AA:00:00:00:03;IP=10.0.0.9')).mac, '02:aa:00:00:00:03');
  t.like(t.throws(() => parseConfig(base, env('ADD', 'IP=10.0.0.9'))), { code: 4 });
  t.is(parseConfig(base, env('DEL', 'IP=10.0.0.9')).mac, undefined, 'DEL never refuses CNI_ARGS');
  t.regex(t.throws(() => parseConfig({ ...base, runtimeConfig: { mac: '01:00:5e:00:00:01' } }))!.message, /^runtimeConfig\.mac: expected a unicast MAC/);
  t.regex(t.throws(() => parseConfig({ ...base, args: { cni: { mac: 'zz' } } }))!.message, /^args\.cni\.mac: /);
});

test('dns set only when it says something; ipMasqBackend is iptables or nftables', (t) => {
  t.is(parseConfig({ ...base, dns: {} }).dns, undefined);
  t.is(parseConfig({ ...base, dns: { nameservers: [] } }).dns, undefined);
  t.deepEqual(parseConfig({ ...base, dns: { nameservers: ['10.0.0.53'] } }).dns, { nameservers: ['10.0.0.53'] });
  t.is(parseConfig({ ...base, ipMasqBackend: 'nftables' }).ipMasqBackend, 'nftables');
  t.is(t.throws(() => parseConfig({ ...base, ipMasqBackend: 'pf' }))!.message, 'ipMasqBackend: expected "iptables" or "nftables", got "pf"');
  t.is(t.throws(() => parseConfig({ ...base, portIsolation: 'true' }))!.message, 'portIsolation: expected true or false, got "true"');
});
