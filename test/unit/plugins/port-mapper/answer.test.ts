// What ADD prints: to Mesos always the 0.2 form it reads (whatever cniVersion the operator wrote),
// to any other runtime the result in the config's version.
import test from 'ava';
import type { PluginContext } from '../../../../lib/cni/plugin.js';
import { answer } from '../../../../lib/plugins/port-mapper/index.js';

const delegateResult = { cniVersion: '1.0.0', interfaces: [{ name: 'eth0', sandbox: '/x' }], ips: [{ address: '10.0.0.5/24', gateway: '10.0.0.1', interface: 0 }, { address: 'fd00::5/64' }], routes: [{ dst: '0.0.0.0/0', gw: '10.0.0.1' }], dns: { nameservers: ['10.0.0.53'] } };
const ctx = (cniVersion: string | undefined, mesos: boolean, argsRaw?: string) =>
  ({
    conf: { ...(cniVersion ? { cniVersion } : {}), name: 'n', type: 'mesos-cni-port-mapper', chain: 'C', delegate: { type: 'bridge' }, ...(mesos ? { args: { 'org.apache.mesos': { network_info: { name: 'n' } } } } : {}) },
    env: { argsRaw },
  }) as unknown as PluginContext;

test('Mesos (its args, no CNI_ARGS): ip4, ip6 and dns only, keys sorted, whatever cniVersion says', (t) => {
  for (const v of [undefined, '0.2.0', '0.3.1', '1.0.0', '1.1.0']) {
    t.is(JSON.stringify(answer(ctx(v, true), delegateResult)), '{"dns":{"nameservers":["10.0.0.53"]},"ip4":{"gateway":"10.0.0.1","ip":"10.0.0.5/24","routes":[{"dst":"0.0.0.0/0","gw":"10.0.0.1"}]},"ip6":{"ip":"fd00::5/64"}}', String(v));
  }
});

test('another runtime: the config version; CNI_ARGS set means it is not Mesos', (t) => {
  t.like(answer(ctx('0.3.1', false), delegateResult), { cniVersion: '0.3.1', ips: [{ version: '4', address: '10.0.0.5/24' }, { version: '6', address: 'fd00::5/64' }] });
  t.like(answer(ctx('1.0.0', true, 'IgnoreUnknown=1'), delegateResult), { cniVersion: '1.0.0' });
  t.deepEqual(Object.keys(answer(ctx(undefined, false), delegateResult)), ['ip4', 'ip6', 'dns'], 'no version: the legacy shape, as before');
});
