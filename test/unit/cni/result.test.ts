// Result conversion between every pair of spec versions.
import test from 'ava';
import { convertResult, SUPPORTED_VERSIONS, type LegacyResult, type Result } from '../../../lib/cni/index.js';

const legacy: LegacyResult = {
  cniVersion: '0.2.0',
  ip4: { ip: '10.1.0.5/24', gateway: '10.1.0.1', routes: [{ dst: '0.0.0.0/0', gw: '10.1.0.1' }] },
  ip6: { ip: 'fd00::5/64', routes: [{ dst: '::/0' }] },
  dns: { nameservers: ['10.1.0.1'] },
};

const current: Result = {
  cniVersion: '1.1.0',
  interfaces: [{ name: 'eth0', mac: '02:00:00:00:00:01', sandbox: '/var/run/netns/x' }],
  ips: [
    { address: '10.1.0.5/24', gateway: '10.1.0.1', interface: 0 },
    { address: '10.1.0.6/24', interface: 0 },
    { address: 'fd00::5/64', interface: 0 },
  ],
  routes: [{ dst: '0.0.0.0/0', gw: '10.1.0.1', mtu: 1400 }, { dst: '::/0' }],
  dns: { nameservers: ['10.1.0.1'], search: ['mesos'] },
};

test('0.2.0 → 0.3.1 gives ips with version and merged routes', (t) => {
  t.deepEqual(convertResult(legacy, '0.3.1'), {
    cniVersion: '0.3.1',
    ips: [
      { version: '4', address: '10.1.0.5/24', gateway: '10.1.0.1' },
      { version: '6', address: 'fd00::5/64' },
    ],
    routes: [{ dst: '0.0.0.0/0', gw: '10.1.0.1' }, { dst: '::/0' }],
    dns: { nameservers: ['10.1.0.1'] },
  });
});

test('0.2.0 → 1.0.0 drops ips[].version', (t) => {
  const r = convertResult(legacy, '1.0.0') as Result;
  t.is(r.cniVersion, '1.0.0');
  t.deepEqual(r.ips, [{ address: '10.1.0.5/24', gateway: '10.1.0.1' }, { address: 'fd00::5/64' }]);
});

test('1.1.0 → 0.2.0 takes the first address per family and splits routes by family', (t) => {
  t.deepEqual(convertResult(current, '0.2.0'), {
    cniVersion: '0.2.0',
    ip4: { ip: '10.1.0.5/24', gateway: '10.1.0.1', routes: [{ dst: '0.0.0.0/0', gw: '10.1.0.1' }] },
    ip6: { ip: 'fd00::5/64', routes: [{ dst: '::/0' }] },
    dns: { nameservers: ['10.1.0.1'], search: ['mesos'] },
  });
});

test('a config without cniVersion gets the legacy shape without a cniVersion key (Mesos)', (t) => {
  const r = convertResult(current, undefined) as LegacyResult;
  t.false('cniVersion' in r);
  t.is(r.ip4?.ip, '10.1.0.5/24');
});

test('a legacy result stays as it is for a legacy target, empty dns kept', (t) => {
  const r = convertResult({ cniVersion: '0.1.0', ip4: { ip: '10.0.0.2/8' }, dns: {} }, undefined);
  t.deepEqual(r, { ip4: { ip: '10.0.0.2/8' }, dns: {} });
});

test('1.1.0 → 1.0.0 drops 1.1 route attributes', (t) => {
  const r10 = convertResult(current, '1.0.0') as Result;
  t.deepEqual(r10.routes, [{ dst: '0.0.0.0/0', gw: '10.1.0.1' }, { dst: '::/0' }]);
});

test('1.1.0 → 0.4.0 adds ips[].version and keeps the interfaces', (t) => {
  const r04 = convertResult(current, '0.4.0') as Result;
  t.deepEqual(r04.ips?.map((i) => i.version), ['4', '4', '6']);
  t.deepEqual(r04.interfaces, current.interfaces);
});

test('round trip through every version keeps the first address of each family', (t) => {
  for (const v of SUPPORTED_VERSIONS) {
    const there = convertResult(current, v);
    const back = convertResult(there, '1.1.0') as Result;
    t.is(back.ips?.[0]?.address, '10.1.0.5/24', v);
    t.true(back.ips!.some((i) => i.address === 'fd00::5/64'), v);
  }
});

test('converting a result with no address to 0.2.0 fails with code 1', (t) => {
  const e = t.throws(() => convertResult({ cniVersion: '1.0.0', ips: [] }, '0.2.0'));
  t.is((e as { code?: number }).code, 1);
});

test('an unsupported target version is refused', (t) => {
  const e = t.throws(() => convertResult(current, '0.9.0'));
  t.regex(e!.message, /unsupported version "0.9.0"/);
});

test('interface fields by version: mtu, socketPath and pciID only in 1.1.0 results', (t) => {
  const r = { cniVersion: '1.1.0', interfaces: [{ name: 'eth0', mac: '02:00:00:00:00:01', sandbox: '/x', mtu: 1400, socketPath: '/s', pciID: '0000:00:01.0' }], ips: [{ address: '10.0.0.2/24' }] };
  t.deepEqual((convertResult(r, '1.1.0') as Result).interfaces, r.interfaces);
  for (const v of ['1.0.0', '0.4.0', '0.3.1']) t.deepEqual((convertResult(r, v) as Result).interfaces, [{ name: 'eth0', mac: '02:00:00:00:00:01', sandbox: '/x' }], v);
});
