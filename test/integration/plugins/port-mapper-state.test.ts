// mesos-cni-port-mapper against a stand-in delegate, each test in its own fake host: the process
// protocol and every error, what lands in the nat table (and what never does), repeated ADD, DEL
// twice / without netns / with the chain gone, rollback, a conflict mid-transaction, 20
// concurrent ADDs on a fresh chain, injection attempts, exact tags, IPv6, CHECK, result versions,
// no whole-table reads, a DEL that releases the address only after the rules are gone.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { namespaces, NFT, nsExec, rootTest, uniq } from '../../helpers/fixture.js';
import { ourBinDir } from '../../helpers/cni.js';
import { CHAIN, mockConf, mockDelegate, natRules, runPm } from './port-mapper-mock.js';
import { indexSet } from '../../../lib/iptables/index.js';

const DNAT = (id: string, host: number, ip: string, port: number, dev = 'mesos-cni0') =>
  `-A ${CHAIN} ! -i ${dev} -p tcp -m tcp --dport ${host} -m comment --comment "container_id: ${id}" -j DNAT --to-destination ${ip}:${port}`;
const JUMPS = [`-A PREROUTING -m addrtype --dst-type LOCAL -j ${CHAIN}`, `-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j ${CHAIN}`];

rootTest('ADD: delegate first with name+args injected (sorted, no cniVersion), one DNAT per mapping, chain with its jumps; 0.2 result kept', async (t) => {
  const [host, ctr] = await namespaces(t, 2, 'pms');
  const mock = await mockDelegate(t);
  const add = await runPm(host!, mockConf({}, [[8080, 80], [5353, 53, 'UDP']]), { command: 'ADD', id: 'c-5', netns: ctr!.path, path: mock.dir });
  t.is(add.exitCode, 0, add.stdout + add.stderr);
  t.is(add.stdout, '{"dns":{},"ip4":{"ip":"10.0.0.5/24"}}\n', 'no cniVersion in our config: the 0.2 form Mesos reads, dns {} kept');
  t.is(
    await mock.stdin('ADD', 'c-5'),
    '{"args":{"org.apache.mesos":{"network_info":{"name":"__MESOS_TEST__portMapper","port_mappings":[{"container_port":80,"host_port":8080},{"container_port":53,"host_port":5353,"protocol":"UDP"}]}}},"name":"__MESOS_TEST__portMapper","some":"setting","type":"mock"}',
  );
  t.deepEqual(await mock.calls(), [`ADD c-5 ${ctr!.path} noargs`]);
  t.deepEqual(await natRules(host!, CHAIN), [
    `-N ${CHAIN}`,
    DNAT('c-5', 8080, '10.0.0.5', 80),
    `-A ${CHAIN} ! -i mesos-cni0 -p udp -m udp --dport 5353 -m comment --comment "container_id: c-5" -j DNAT --to-destination 10.0.0.5:53`,
  ]);
  const all = await natRules(host!);
  t.deepEqual(all.filter((l) => l.startsWith('-A PREROUTING') || l.startsWith('-A OUTPUT')), JUMPS);
});

rootTest('repeated ADD adds nothing; ADD with a new address swaps the rules in one go; DEL twice; DEL without CNI_NETNS', async (t) => {
  const [host, ctr] = await namespaces(t, 2, 'pms');
  const mock = await mockDelegate(t);
  const conf = mockConf();
  const call = (command: 'ADD' | 'DEL', netns: string | null = ctr!.path) => runPm(host!, conf, { command, id: 'c-7', netns: netns ?? undefined, path: mock.dir });
  t.is((await call('ADD')).exitCode, 0);
  const once = await nsExec(host!, ['iptables-save', '-t', 'nat']);
  t.is((await call('ADD')).exitCode, 0);
  const strip = (s: string) => s.split('\n').filter((l) => !l.startsWith('#')).join('\n');
  t.is(strip(await nsExec(host!, ['iptables-save', '-t', 'nat'])), strip(once), 'second ADD: same table, no duplicate');
  await mock.setIp('c-7', '10.0.0.70/24');
  t.is((await call('ADD')).exitCode, 0);
  t.deepEqual(await natRules(host!, CHAIN), [`-N ${CHAIN}`, DNAT('c-7', 8080, '10.0.0.70', 80)]);
  for (const netns of [ctr!.path, null]) {
    const del = await call('DEL', netns);
    t.is(del.exitCode, 0, del.stdout);
    t.is(del.stdout, '');
    t.deepEqual(await natRules(host!, CHAIN), [`-N ${CHAIN}`]);
  }
  const calls = await mock.calls();
  t.deepEqual(calls.slice(-2), [`DEL c-7 ${ctr!.path} noargs`, 'DEL c-7 none noargs'], 'DEL without CNI_NETNS forwards none');
  t.notRegex(await mock.natAtDel('c-7'), /container_id/, 'rules were gone before the delegate DEL ran');
});

rootTest('the tag index of the chain holds exactly the containers with rules: ADD puts one in with its rules, a new address keeps it, DEL takes it out', async (t) => {
  const [host, ctr] = await namespaces(t, 2, 'pms');
  const mock = await mockDelegate(t);
  const conf = mockConf();
  const count = async () => {
    const out = await nsExec(host!, [NFT, '-j', 'list', 'set', 'ip', 'nat', indexSet(CHAIN)]);
    const set = (JSON.parse(out) as { nftables: { set?: { elem?: unknown[] } }[] }).nftables.find((o) => o.set)!.set!;
    return (set.elem ?? []).length;
  };
  const call = (command: 'ADD' | 'DEL', id: string) => runPm(host!, conf, { command, id, netns: ctr!.path, path: mock.dir });
  t.is((await call('ADD', 'c-1')).exitCode, 0);
  t.is((await call('ADD', 'c-2')).exitCode, 0);
  t.is(await count(), 2);
  await mock.setIp('c-2', '10.0.0.72/24');
  t.is((await call('ADD', 'c-2')).exitCode, 0, 'a repeated ADD finds its old rules through the index and swaps them');
  t.deepEqual(await natRules(host!, CHAIN), [`-N ${CHAIN}`, DNAT('c-1', 8080, '10.0.0.1', 80), DNAT('c-2', 8080, '10.0.0.72', 80)]);
  t.is(await count(), 2);
  t.is((await call('DEL', 'c-1')).exitCode, 0);
  t.is(await count(), 1);
  t.is((await call('DEL', 'c-2')).exitCode, 0);
  t.is(await count(), 0);
});

rootTest('DEL succeeds when the chain and its jumps are gone; the chain and jumps survive DEL otherwise', async (t) => {
  const [host, ctr] = await namespaces(t, 2, 'pms');
  const mock = await mockDelegate(t);
  const conf = mockConf();
  t.is((await runPm(host!, conf, { command: 'ADD', id: 'c-1', netns: ctr!.path, path: mock.dir })).exitCode, 0);
  t.is((await runPm(host!, conf, { command: 'ADD', id: 'c-2', netns: ctr!.path, path: mock.dir })).exitCode, 0);
  t.is((await runPm(host!, conf, { command: 'DEL', id: 'c-1', path: mock.dir })).exitCode, 0);
  t.deepEqual(await natRules(host!, CHAIN), [`-N ${CHAIN}`, DNAT('c-2', 8080, '10.0.0.2', 80)]);
  // The upstream test fixture's cleanup, which also proves the jump shapes:
  for (const cmd of [`-D ${JUMPS[1]!.slice(3)}`, `-D ${JUMPS[0]!.slice(3)}`, `-F ${CHAIN}`, `-X ${CHAIN}`]) {
    await nsExec(host!, ['iptables', '-w', '-t', 'nat', ...cmd.split(' ')]);
  }
  const del = await runPm(host!, conf, { command: 'DEL', id: 'c-2', path: mock.dir });
  t.is(del.exitCode, 0, del.stdout);
  t.deepEqual(await natRules(host!, CHAIN), []);
  t.is((await mock.calls()).at(-1), 'DEL c-2 none noargs');
});

rootTest('exact tags: DEL of P leaves the nested container P.C (and P1) alone', async (t) => {
  const [host, ctr] = await namespaces(t, 2, 'pms');
  const mock = await mockDelegate(t);
  for (const id of ['P-1', 'P-1.C-2', 'P-11']) {
    t.is((await runPm(host!, mockConf({}, [[8000 + id.length, 80]]), { command: 'ADD', id, netns: ctr!.path, path: mock.dir })).exitCode, 0);
  }
  t.is((await runPm(host!, mockConf(), { command: 'DEL', id: 'P-1', path: mock.dir })).exitCode, 0);
  const left = await natRules(host!, CHAIN);
  t.is(left.length, 3);
  t.true(left.some((l) => l.includes('"container_id: P-1.C-2"')));
  t.true(left.some((l) => l.includes('"container_id: P-11"')));
});

rootTest('errors: one JSON document on stdout, exit status 1, upstream codes and texts', async (t) => {
  const [host, ctr] = await namespaces(t, 2, 'pms');
  const mock = await mockDelegate(t);
  const ok = { id: 'c-1', netns: ctr!.path, path: mock.dir };
  const expect = async (conf: unknown, r: Parameters<typeof runPm>[2], code: number, msg: string) => {
    const res = await runPm(host!, conf, r);
    t.is(res.exitCode, 1, msg);
    t.is(res.stdout.split('\n').filter(Boolean).length, 1);
    t.like(res.json, { code, msg }, res.stdout);
  };
  await expect(mockConf(), { command: 'ADD', ...ok, env: { CNI_COMMAND: undefined } }, 101, "Unable to find environment variable 'CNI_COMMAND'");
  await expect(mockConf(), { command: 'ADD', ...ok, id: undefined }, 101, "Unable to find environment variable 'CNI_CONTAINERID'");
  await expect(mockConf(), { command: 'ADD', ...ok, netns: undefined }, 101, "Unable to find environment variable 'CNI_NETNS' for non-'DEL' command");
  await expect(mockConf(), { command: 'ADD', ...ok, env: { CNI_IFNAME: undefined } }, 101, "Unable to find environment variable 'CNI_IFNAME'");
  await expect(mockConf(), { command: 'ADD', ...ok, path: undefined }, 101, "Unable to find environment variable 'CNI_PATH'");
  await expect('{"name": "x",', { command: 'ADD', ...ok }, 101, (() => { try { JSON.parse('{"name": "x",'); } catch (e) { return (e as Error).message; } return ''; })());
  await expect(mockConf({ chain: undefined }), { command: 'ADD', ...ok }, 101, "Failed to get the required field 'chain': Not found");
  await expect(mockConf(), { command: 'ADD', ...ok, path: '/nonexistent' }, 101, "Could not find the delegate plugin 'mock' in '/nonexistent'");
  await expect(mockConf(), { command: 'UPDATE', ...ok } as never, 104, 'Unsupported command: UPDATE');
  await expect(mockConf(), { command: 'ADD', ...ok, id: 'fail-1' }, 102, `Could not execute the delegate plugin '${mock.dir}/mock' for ADD command: Bad IP address`);
  await expect(mockConf(), { command: 'DEL', ...ok, id: 'fail-2' }, 102, `Could not execute the delegate plugin '${mock.dir}/mock' for DEL command: Bad IP address`);
  await expect(mockConf(), { command: 'ADD', ...ok, id: 'noip-1' }, 102, `Delegate CNI plugin '${mock.dir}/mock' did not return an IPv4 or IPv6 address`);
  await mock.setIp('bad-1', '10.0.0.300/24');
  await expect(mockConf(), { command: 'ADD', ...ok, id: 'bad-1' }, 102, `Could not parse IPv4 address return by delegate CNI plugin '${mock.dir}/mock': ip4.ip: expected an address with an optional /prefix (e.g. 10.0.0.1/24), got "10.0.0.300/24"`);
  const v = await runPm(host!, '', { command: 'VERSION' });
  t.is(v.exitCode, 0, 'VERSION needs no config and no environment');
  t.deepEqual((v.json as { supportedVersions: string[] }).supportedVersions.slice(0, 2), ['0.1.0', '0.2.0']);
  // The ADDs that failed after the delegate succeeded undid it; none left a rule.
  const calls = await mock.calls();
  t.true(calls.includes(`DEL noip-1 ${ctr!.path} noargs`) && calls.includes(`DEL bad-1 ${ctr!.path} noargs`), calls.join('\n'));
  t.false(calls.some((c) => c.startsWith('DEL fail-1')), 'a failed delegate ADD is not undone by us');
  t.deepEqual(await natRules(host!, CHAIN), [], 'no chain: no rule was ever written');
});

rootTest('a conflict mid-transaction leaves nothing: no RETURN, no SNAT, no DNAT, and the delegate is undone', async (t) => {
  const [host, ctr] = await namespaces(t, 2, 'pms');
  const mock = await mockDelegate(t);
  // Someone jumps into our chain from POSTROUTING, where DNAT is invalid: the RETURN and
  // POSTROUTING lines of the transaction would succeed, its DNAT line cannot.
  await nsExec(host!, ['iptables', '-w', '-t', 'nat', '-N', CHAIN]);
  await nsExec(host!, ['iptables', '-w', '-t', 'nat', '-A', 'POSTROUTING', '-j', CHAIN]);
  const before = await natRules(host!);
  const r = await runPm(host!, mockConf({ excludeDevices: ['a0', 'b0'], snat: true }), { command: 'ADD', id: 'c-3', netns: ctr!.path, path: mock.dir });
  t.is(r.exitCode, 1);
  t.is(r.json!.code, 103);
  // Written over nf_tables netlink where iptables is iptables-nft (the kernel refuses the DNAT
  // rule's message), by iptables-restore elsewhere.
  t.regex(r.json!.msg as string, /^Failed to add DNAT rule with tag: (nf_tables \(ip nat\): append to chain \S+: Invalid argument|iptables-restore \(nat\): .*(RULE_APPEND failed|line \d+ failed))/);
  t.deepEqual(await natRules(host!), before, 'the table is exactly as before');
  t.deepEqual(await mock.calls(), [`ADD c-3 ${ctr!.path} noargs`, `DEL c-3 ${ctr!.path} noargs`]);
});

rootTest('20 concurrent ADDs on a chain that does not exist yet all land; one -N, one pair of jumps; 20 concurrent DELs empty it', async (t) => {
  const [host, ctr] = await namespaces(t, 2, 'pms');
  const mock = await mockDelegate(t);
  const ids = Array.from({ length: 20 }, (_, i) => `c-${i + 10}`);
  const adds = await Promise.all(ids.map((id, i) => runPm(host!, mockConf({}, [[9000 + i, 80]]), { command: 'ADD', id, netns: ctr!.path, path: mock.dir })));
  for (const a of adds) t.is(a.exitCode, 0, a.stdout + a.stderr);
  const rules = await natRules(host!, CHAIN);
  t.is(rules.length, 21);
  for (const [i, id] of ids.entries()) t.true(rules.includes(DNAT(id, 9000 + i, `10.0.0.${i + 10}`, 80)), id);
  t.deepEqual((await natRules(host!)).filter((l) => l.endsWith(`-j ${CHAIN}`)), JUMPS);
  const dels = await Promise.all(ids.map((id) => runPm(host!, mockConf(), { command: 'DEL', id, path: mock.dir })));
  for (const d of dels) t.is(d.exitCode, 0, d.stdout);
  t.deepEqual(await natRules(host!, CHAIN), [`-N ${CHAIN}`]);
});

rootTest('injection attempts through the container ID, chain or device names are refused; nothing reaches iptables or the delegate', async (t) => {
  const [host, ctr] = await namespaces(t, 2, 'pms');
  const mock = await mockDelegate(t);
  const before = await natRules(host!);
  const tries: [Record<string, unknown>, string][] = [
    [mockConf(), 'x" -j ACCEPT -m comment --comment "y'],
    [mockConf(), 'c\n-A INPUT -j ACCEPT'],
    [mockConf(), "c';reboot"],
    [mockConf({ chain: 'X\n-A INPUT -j ACCEPT' }), 'c-1'],
    [mockConf({ chain: 'PREROUTING' }), 'c-1'],
    [mockConf({ excludeDevices: ['eth0 -j ACCEPT'] }), 'c-1'],
    [mockConf({ excludeDevices: ['eth0"'] }), 'c-1'],
  ];
  for (const [conf, id] of tries) {
    const r = await runPm(host!, conf, { command: 'ADD', id, netns: ctr!.path, path: mock.dir });
    t.is(r.exitCode, 1, JSON.stringify(id));
    t.true([4, 101].includes(r.json!.code as number), r.stdout);
  }
  t.deepEqual(await mock.calls(), []);
  t.deepEqual(await natRules(host!), before);
});

rootTest('IPv6: the delegate\'s v6 address gets ip6tables rules (jumps exclude ::1); DEL clears both families', async (t) => {
  const [host, ctr] = await namespaces(t, 2, 'pms');
  const mock = await mockDelegate(t);
  const conf = mockConf({ cniVersion: '1.0.0' });
  const add = await runPm(host!, conf, { command: 'ADD', id: 'v6-9', netns: ctr!.path, path: mock.dir });
  t.is(add.exitCode, 0, add.stdout);
  // Called as Mesos calls it: the form Mesos reads, whatever cniVersion says.
  t.deepEqual(add.json, { ip4: { ip: '10.0.0.9/24' }, ip6: { ip: 'fd00::9/64' } });
  t.deepEqual(await natRules(host!, CHAIN), [`-N ${CHAIN}`, DNAT('v6-9', 8080, '10.0.0.9', 80)]);
  t.deepEqual(await natRules(host!, CHAIN, 6), [`-N ${CHAIN}`, DNAT('v6-9', 8080, '[fd00::9]', 80)]);
  t.true((await natRules(host!, undefined, 6)).includes(`-A OUTPUT ! -d ::1/128 -m addrtype --dst-type LOCAL -j ${CHAIN}`));
  t.is((await runPm(host!, conf, { command: 'DEL', id: 'v6-9', path: mock.dir })).exitCode, 0);
  t.deepEqual(await natRules(host!, CHAIN), [`-N ${CHAIN}`]);
  t.deepEqual(await natRules(host!, CHAIN, 6), [`-N ${CHAIN}`]);
});

rootTest('no port mappings: no rule, no chain, no jump; the delegate still runs', async (t) => {
  const [host, ctr] = await namespaces(t, 2, 'pms');
  const mock = await mockDelegate(t);
  const { args: _a, ...noArgs } = mockConf();
  const add = await runPm(host!, noArgs, { command: 'ADD', id: 'c-4', netns: ctr!.path, path: mock.dir });
  t.is(add.exitCode, 0, add.stdout);
  t.deepEqual(await natRules(host!, CHAIN), []);
  t.false((await natRules(host!)).some((l) => l.includes(CHAIN)));
  t.regex(await mock.stdin('ADD', 'c-4'), /"args":\{"org.apache.mesos":\{"network_info":\{\}\}\}/, 'the synthesized args reach the delegate');
});

rootTest('results follow our config version for a CNI runtime, and are the form Mesos reads when Mesos calls; CHECK verifies rules and asks the delegate', async (t) => {
  const [host, ctr] = await namespaces(t, 2, 'pms');
  const mock = await mockDelegate(t);
  // A CNI runtime: no org.apache.mesos args, the portMappings capability.
  const cni = (cniVersion: string) => ({ ...mockConf({ cniVersion, runtimeConfig: { portMappings: [{ hostPort: 8080, containerPort: 80 }] } }), args: undefined });
  for (const [version, want] of [
    ['0.2.0', { cniVersion: '0.2.0', ip4: { ip: '10.0.0.6/24' }, dns: {} }],
    ['0.3.1', { cniVersion: '0.3.1', ips: [{ version: '4', address: '10.0.0.6/24' }], routes: [] }],
    ['1.1.0', { cniVersion: '1.1.0', ips: [{ address: '10.0.0.6/24' }], routes: [] }],
  ] as const) {
    const r = await runPm(host!, cni(version), { command: 'ADD', id: 'c-6', netns: ctr!.path, path: mock.dir });
    t.deepEqual(r.json, want, version);
    // Mesos (its args, no CNI_ARGS): the ip4 form whatever the operator wrote at the top.
    const m = await runPm(host!, mockConf({ cniVersion: version }), { command: 'ADD', id: 'c-6', netns: ctr!.path, path: mock.dir });
    t.is(m.stdout, '{"dns":{},"ip4":{"ip":"10.0.0.6/24"}}\n', `Mesos, ${version}`);
  }
  // The same config with CNI_ARGS set is no call from Mesos (it never sets it): the config's version.
  const withArgs = await runPm(host!, mockConf({ cniVersion: '0.3.1' }), { command: 'ADD', id: 'c-6', netns: ctr!.path, path: mock.dir, env: { CNI_ARGS: 'IgnoreUnknown=1' } });
  t.like(withArgs.json, { cniVersion: '0.3.1', ips: [{ version: '4', address: '10.0.0.6/24' }] });
  const conf = mockConf({ cniVersion: '1.0.0', prevResult: { cniVersion: '1.0.0', ips: [{ address: '10.0.0.6/24' }] } });
  const ok = await runPm(host!, conf, { command: 'CHECK', id: 'c-6', netns: ctr!.path, path: mock.dir });
  t.is(ok.exitCode, 0, ok.stdout);
  t.regex(await mock.stdin('CHECK', 'c-6'), /"cniVersion":"1\.0\.0".*"prevResult":\{"cniVersion":"1\.0\.0","ips":\[\{"address":"10\.0\.0\.6\/24"\}\]/);
  await nsExec(host!, ['iptables', '-w', '-t', 'nat', '-D', CHAIN, '!', '-i', 'mesos-cni0', '-p', 'tcp', '-m', 'tcp', '--dport', '8080', '-m', 'comment', '--comment', 'container_id: c-6', '-j', 'DNAT', '--to-destination', '10.0.0.6:80']);
  const gone = await runPm(host!, conf, { command: 'CHECK', id: 'c-6', netns: ctr!.path, path: mock.dir });
  t.is(gone.exitCode, 1);
  t.like(gone.json, { code: 103 });
  t.regex(gone.json!.msg as string, /^CHECK: 1 rule\(s\) missing from the IPv4 nat table, first: -A MESOS-TEST-PORT-MAPPER-CHAIN ! -i mesos-cni0 -p tcp -m tcp --dport 8080 -m comment --comment "container_id: c-6" -j DNAT --to-destination 10.0.0.6:80$/);
});

rootTest('upgrade: rules the C++ plugin wrote (its exact commands) are seen as present by ADD and removed by DEL', async (t) => {
  const [host, ctr] = await namespaces(t, 2, 'pms');
  const mock = await mockDelegate(t);
  const ipt = (...a: string[]) => nsExec(host!, ['iptables', '-w', '-t', 'nat', ...a]);
  await ipt('-N', CHAIN);
  await ipt('-A', 'PREROUTING', '-m', 'addrtype', '--dst-type', 'LOCAL', '-j', CHAIN);
  await ipt('-A', 'OUTPUT', '!', '-d', '127.0.0.0/8', '-m', 'addrtype', '--dst-type', 'LOCAL', '-j', CHAIN);
  await ipt('-A', CHAIN, '!', '-i', 'mesos-cni0', '-p', 'tcp', '-m', 'tcp', '--dport', '8080', '-j', 'DNAT', '--to-destination', '10.0.0.8:80', '-m', 'comment', '--comment', 'container_id: old-8');
  const before = await natRules(host!);
  t.is((await runPm(host!, mockConf(), { command: 'ADD', id: 'old-8', netns: ctr!.path, path: mock.dir })).exitCode, 0);
  t.deepEqual(await natRules(host!), before, 'the same rule: nothing written');
  t.is((await runPm(host!, mockConf(), { command: 'DEL', id: 'old-8', path: mock.dir })).exitCode, 0);
  t.deepEqual(await natRules(host!, CHAIN), [`-N ${CHAIN}`]);
});

rootTest('once the chain exists, ADD, repeated ADD, CHECK and DEL read only their chains, never the whole table (iptables-save broken)', async (t) => {
  const [host, ctr] = await namespaces(t, 2, 'pms');
  const mock = await mockDelegate(t);
  await nsExec(host!, ['iptables', '-w', '-t', 'nat', '-N', CHAIN]);
  for (const jump of JUMPS) await nsExec(host!, ['iptables', '-w', '-t', 'nat', ...jump.split(' ')]);
  // Whole-table reads cost time in proportion to every rule on the host; make them fail.
  const shim = join(mock.dir, 'shim');
  await mkdir(shim);
  for (const f of ['iptables-save', 'ip6tables-save']) {
    await writeFile(join(shim, f), '#!/bin/sh\necho "whole-table read" >&2\nexit 1\n');
    await chmod(join(shim, f), 0o755);
  }
  const env = { PATH: `${shim}:${process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}` };
  const conf = mockConf({ cniVersion: '1.0.0', snat: true });
  for (let i = 0; i < 2; i++) {
    const add = await runPm(host!, conf, { command: 'ADD', id: 'c-8', netns: ctr!.path, path: mock.dir, env });
    t.is(add.exitCode, 0, add.stdout);
  }
  t.is((await natRules(host!, CHAIN)).length, 2);
  const prevResult = { cniVersion: '1.0.0', ips: [{ address: '10.0.0.8/24' }] };
  const check = await runPm(host!, { ...conf, prevResult }, { command: 'CHECK', id: 'c-8', netns: ctr!.path, path: mock.dir, env });
  t.is(check.exitCode, 0, check.stdout);
  const del = await runPm(host!, conf, { command: 'DEL', id: 'c-8', path: mock.dir, env });
  t.is(del.exitCode, 0, del.stdout);
  t.false((await natRules(host!)).some((l) => l.includes('c-8')));
});

rootTest('DEL: our in-process bridge deletes its veth while the rules go; the lease is released only after them, and kept when their removal fails', async (t) => {
  const [host, ctr] = await namespaces(t, 2, 'pmr');
  const mock = await mockDelegate(t); // only for its temp dir
  const bridge = uniq('pmrb');
  const dataDir = join(mock.dir, 'ipam');
  const conf = mockConf({ name: 'pmrnet', excludeDevices: [bridge], delegate: { type: 'bridge', bridge, isGateway: true, ipam: { type: 'host-local', subnet: '10.93.0.0/24', dataDir } } });
  const path = await ourBinDir();
  const add = await runPm(host!, conf, { command: 'ADD', id: 'r-1', netns: ctr!.path, path });
  t.is(add.exitCode, 0, add.stdout);
  const lease = join(dataDir, 'pmrnet', '10.93.0.2');
  t.true(existsSync(lease));
  // iptables-restore, slowed down (or failing) only for the port mapper's deletions.
  const shim = join(mock.dir, 'shim');
  await mkdir(shim);
  const real = (await nsExec(host!, ['sh', '-c', 'command -v iptables-restore'])).trim();
  const mode = join(mock.dir, 'mode');
  await writeFile(
    join(shim, 'iptables-restore'),
    `#!/bin/sh\nin=$(cat)\ncase "$in" in *"-D ${CHAIN}"*)\n  if [ "$(cat ${mode})" = fail ]; then echo "injected failure" >&2; exit 1; fi\n  sleep 1;;\nesac\nprintf '%s\\n' "$in" | exec ${real} "$@"\n`,
  );
  await chmod(join(shim, 'iptables-restore'), 0o755);
  const env = { PATH: `${shim}:${process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}` };
  const veths = async () => (await nsExec(host!, ['ip', '-o', 'link', 'show', 'master', bridge])).trim();

  await writeFile(mode, 'fail');
  const failed = await runPm(host!, conf, { command: 'DEL', id: 'r-1', netns: ctr!.path, path, env });
  t.is(failed.exitCode, 1);
  t.is(failed.json?.code, 103);
  t.regex(String(failed.json?.msg), /^Unable to remove iptables DNAT rules: .*injected failure/);
  t.true(existsSync(lease), 'the address stays leased while a rule still points at it');
  t.is((await natRules(host!, CHAIN)).filter((l) => l.includes('r-1')).length, 1);

  await writeFile(mode, 'slow');
  const started = Date.now();
  const del = runPm(host!, conf, { command: 'DEL', id: 'r-1', netns: ctr!.path, path, env });
  let overlapped = false;
  while (Date.now() - started < 900) {
    // The veth went while the rule deletion was still sleeping, and the lease is still held.
    if ((await veths()) === '' && existsSync(lease)) overlapped = true;
    await new Promise((r) => setTimeout(r, 50));
  }
  t.true(overlapped, 'veth deleted during the rule removal, lease kept until it ended');
  t.is((await del).exitCode, 0);
  t.false(existsSync(lease));
  t.deepEqual((await natRules(host!, CHAIN)).filter((l) => l.includes('r-1')), []);
});

rootTest('DEL on iptables-nft lists and deletes over netlink (no iptables -S even when a rule is gone); through an iptables-restore wrapper it rebuilds the rules from the address, reading the chain only when one is gone', async (t) => {
  const [host, ctr] = await namespaces(t, 2, 'pmx');
  const mock = await mockDelegate(t); // only for its temp dir
  const bridge = uniq('pmxb');
  const conf = mockConf({ name: 'pmxnet', excludeDevices: [bridge], snat: true, delegate: { type: 'bridge', bridge, isGateway: true, ipam: { type: 'host-local', subnet: '10.94.0.0/24', dataDir: join(mock.dir, 'ipam') } } }, [[8080, 80], [8443, 443]]);
  const path = await ourBinDir();
  const calls = join(mock.dir, 'calls');
  // Shims that record every call. An iptables-restore that is a wrapper, not xtables-nft-multi,
  // makes the plugin take the exec path: it only speaks netlink to what PATH's iptables-restore is.
  const shims = async (name: string, bins: string[]) => {
    const dir = join(mock.dir, name);
    await mkdir(dir);
    for (const bin of bins) {
      const real = (await nsExec(host!, ['sh', '-c', `command -v ${bin}`])).trim();
      await writeFile(join(dir, bin), `#!/bin/sh\necho "${bin} $*" >> ${calls}\nexec ${real} "$@"\n`);
      await chmod(join(dir, bin), 0o755);
    }
    return { PATH: `${dir}:${process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}` };
  };
  const listers = ['iptables', 'ip6tables'];
  const modes = [
    // (netlink: no restore can be counted here, a recording wrapper would switch the path; the
    // unit test of iptables/nft.ts counts them in-process.)
    { mode: 'netlink', env: await shims('nl', listers), lists: [0, 0] },
    // Exec: the port mapper's exact -D (tampered: it fails, the chain is read, one more restore).
    { mode: 'exec', env: await shims('ex', [...listers, 'iptables-restore', 'ip6tables-restore']), lists: [0, 2], restores: [1, 2] },
  ];
  const mine = async (id: string) => (await natRules(host!)).filter((l) => l.includes(`container_id: ${id}"`));
  for (const { mode, env, lists, restores } of modes) {
    for (const [n, tamper] of [[1, false], [2, true]] as const) {
      const id = `${mode}-${n}`;
      t.is((await runPm(host!, conf, { command: 'ADD', id, netns: ctr!.path, path })).exitCode, 0);
      t.is((await mine(id)).length, 4, 'two DNAT, two snat');
      if (tamper) await nsExec(host!, ['iptables', '-w', '-t', 'nat', '-D', CHAIN, '1']);
      await writeFile(calls, '');
      t.is((await runPm(host!, conf, { command: 'DEL', id, netns: ctr!.path, path, env })).exitCode, 0);
      t.deepEqual(await mine(id), [], `${mode}: ${tamper ? 'the rest found' : 'all deleted'}`);
      const log = (await readFile(calls, 'utf8')).split('\n');
      const listed = log.filter((l) => l.startsWith('iptables ') && l.includes(' -S '));
      t.is(listed.length, lists[n - 1]!, `${mode}: ${listed.join('; ')}`); // exec, tampered: the chain, then POSTROUTING
      if (restores) t.is(log.filter((l) => l.startsWith('iptables-restore ')).length, restores[n - 1]!, `${mode}: restores`);
    }
  }
});

rootTest('ADD: the rules go in while our in-process bridge finishes; when it fails after saying its address, they go before the lease is released, and nothing is left', async (t) => {
  const [host, ctr] = await namespaces(t, 2, 'pme');
  const mock = await mockDelegate(t); // only for its temp dir
  const bridge = uniq('pmeb');
  const dataDir = join(mock.dir, 'ipam');
  // A route through a gateway the container cannot reach: the kernel refuses it in the bridge's
  // container-side batch, after the address was allocated, said, and the veth made.
  const ipam = { type: 'host-local', subnet: '10.94.0.0/24', dataDir, routes: [{ dst: '10.99.0.0/16', gw: '192.0.2.1' }] };
  const conf = mockConf({ name: 'pmenet', excludeDevices: [bridge], delegate: { type: 'bridge', bridge, isGateway: true, ipMasq: true, ipam } });
  const path = await ourBinDir();
  // What the kernel's nf_tables saw, as `nft monitor` prints it.
  const monitor = spawn('ip', ['netns', 'exec', host!.name, 'stdbuf', '-oL', NFT, 'monitor', 'rules'], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => void monitor.kill());
  let seen = '';
  monitor.stdout.on('data', (d: Buffer) => (seen += d.toString()));
  // Listening once it shows a rule of our own (a fixed pause was not always enough under load).
  await nsExec(host!, [NFT, 'add table ip pmeprobe; add chain ip pmeprobe c']);
  const until = async (what: string, text: string) => {
    for (let i = 0; i < 100 && !seen.includes(text); i++) await new Promise((r) => setTimeout(r, 50));
    t.true(seen.includes(text), `nft monitor showed ${what}:\n${seen}`);
  };
  for (let i = 0; i < 20 && !seen.includes('pmeprobe'); i++) {
    await nsExec(host!, [NFT, 'add rule ip pmeprobe c counter']);
    await new Promise((r) => setTimeout(r, 250));
  }
  await until('our probe rule', 'add rule ip pmeprobe c');
  await nsExec(host!, [NFT, 'delete table ip pmeprobe']);
  const add = await runPm(host!, conf, { command: 'ADD', id: 'e-1', netns: ctr!.path, path });
  t.is(add.exitCode, 1, add.stdout);
  t.regex(String(add.json?.msg), /^Could not execute the delegate plugin '.*bridge' for ADD command: .*unreachable/i);
  await until('the deletion', `delete rule ip nat ${CHAIN} `);
  monitor.kill();
  const lines = seen.split('\n');
  t.true(lines.some((l) => l.startsWith(`add rule ip nat ${CHAIN} `) && l.includes('dnat to 10.94.0.2:80')), `the DNAT rule was written before the bridge failed:\n${seen}`);
  t.true(lines.some((l) => l.startsWith(`delete rule ip nat ${CHAIN} `)), `and deleted:\n${seen}`);
  t.deepEqual((await natRules(host!)).filter((l) => l.includes('e-1') || l.includes('10.94.0.2')), [], 'no rule of it is left');
  t.false(existsSync(join(dataDir, 'pmenet', '10.94.0.2')), 'the lease is released');
  t.is((await nsExec(host!, ['ip', '-o', 'link', 'show', 'master', bridge])).trim(), '', 'no veth is left');
});
