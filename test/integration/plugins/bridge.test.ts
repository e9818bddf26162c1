// Our bridge + host-local against the reference Go plugins: same config, same kernel state, pings
// both ways, nothing left after DEL; every spec version; DEL twice / without netns; failures at
// each ADD step leave nothing behind.
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { ipJson, namespaces, NFT, nsExec, rootTest, uniq, type TestNs } from '../../helpers/fixture.js';
import { callPlugin, hasReference, ourBinDir, REFERENCE_DIR, type CniCall } from '../../helpers/cni.js';
import { SUPPORTED_VERSIONS } from '../../../lib/cni/version.js';

const refTest = hasReference('bridge') ? rootTest : rootTest.skip;

async function dataDir(t: ExecutionContext): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'mcni-br-'));
  t.teardown(() => rm(d, { recursive: true, force: true }));
  return d;
}

interface Impl {
  name: string;
  file: () => Promise<string>;
  path: () => Promise<string>;
}
const ours: Impl = { name: 'ours', file: async () => join(await ourBinDir(), 'bridge'), path: async () => `${await ourBinDir()}:${REFERENCE_DIR}` };
const reference: Impl = { name: 'reference', file: async () => `${REFERENCE_DIR}/bridge`, path: async () => REFERENCE_DIR };

function conf(dir: string, bridge: string, extra: object = {}, version = '1.0.0') {
  return {
    cniVersion: version,
    name: 'brtest',
    type: 'bridge',
    bridge,
    isDefaultGateway: true,
    ipMasq: true,
    hairpinMode: true,
    ipam: { type: 'host-local', subnet: '10.66.0.0/24', dataDir: dir },
    ...extra,
  };
}

async function run(impl: Impl, host: TestNs, c: object, call: Omit<CniCall, 'hostNs' | 'path'>) {
  return callPlugin(await impl.file(), c, { ...call, hostNs: host.name, path: await impl.path() });
}

/** The kernel state an ADD leaves, normalised (no MACs, no random veth names). */
async function state(host: TestNs, ctr: TestNs, bridge: string) {
  const addrs = (await ipJson<{ ifname: string; addr_info: { local: string; prefixlen: number; family: string }[] }[]>(ctr, ['addr', 'show', 'dev', 'eth0']))[0]!;
  const routes = await ipJson<{ dst: string; gateway?: string; dev: string }[]>(ctr, ['route', 'show']);
  const brAddrs = (await ipJson<{ addr_info: { local: string; prefixlen: number; family: string }[] }[]>(host, ['addr', 'show', 'dev', bridge]))[0]!;
  const ports = await ipJson<{ ifname: string; operstate: string }[]>(host, ['link', 'show', 'master', bridge]);
  const hairpin = await nsExec(host, ['bridge', '-d', 'link', 'show']);
  const nat = await nsExec(host, ['iptables-save', '-t', 'nat']);
  return {
    ctrV4: addrs.addr_info.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`),
    ctrRoutes: routes.map((r) => `${r.dst} ${r.gateway ?? '-'} ${r.dev}`).sort(),
    bridgeV4: brAddrs.addr_info.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`),
    ports: ports.length,
    hairpin: /hairpin on/.test(hairpin),
    masquerade: /-j MASQUERADE/.test(nat) && /-A POSTROUTING -s 10\.66\.0\.2\/32/.test(nat),
  };
}

async function leases(dir: string): Promise<string[]> {
  try {
    return (await readdir(join(dir, 'brtest'))).filter((f) => /^\d/.test(f));
  } catch {
    return [];
  }
}

async function emptyAfterDel(t: ExecutionContext, host: TestNs, ctr: TestNs, dir: string) {
  t.deepEqual((await ipJson<{ ifname: string }[]>(ctr, ['link', 'show'])).map((l) => l.ifname), ['lo']);
  t.is((await ipJson<unknown[]>(host, ['link', 'show', 'type', 'veth'])).length, 0);
  t.notRegex(await nsExec(host, ['iptables-save', '-t', 'nat']), /brtest|CNI-/);
  t.deepEqual(await leases(dir), []);
}

refTest('ours and the reference leave the same kernel state, ping both ways, and clean up', async (t) => {
  const seen: Record<string, unknown> = {};
  for (const impl of [ours, reference]) {
    const [host, ctr] = await namespaces(t, 2, 'mb');
    const dir = await dataDir(t);
    const bridge = uniq('br');
    const c = conf(dir, bridge);
    const add = await run(impl, host!, c, { command: 'ADD', containerId: 'c1', netns: ctr!.path });
    t.is(add.exitCode, 0, `${impl.name}: ${add.stdout}${add.stderr}`);
    const result = JSON.parse(add.stdout);
    t.is(result.ips[0].address, '10.66.0.2/24', impl.name);
    t.deepEqual(result.interfaces.map((i: { name: string }) => i.name).filter((n: string) => !n.startsWith('veth')), [bridge, 'eth0']);
    seen[impl.name] = await state(host!, ctr!, bridge);
    await nsExec(ctr!, ['ping', '-c1', '-W2', '10.66.0.1']);
    await nsExec(host!, ['ping', '-c1', '-W2', '10.66.0.2']);
    const del = await run(impl, host!, c, { command: 'DEL', containerId: 'c1', netns: ctr!.path });
    t.is(del.exitCode, 0, `${impl.name}: ${del.stdout}`);
    await emptyAfterDel(t, host!, ctr!, dir);
  }
  t.deepEqual(seen.ours, seen.reference);
  t.like(seen.ours, { ctrV4: ['10.66.0.2/24'], bridgeV4: ['10.66.0.1/24'], ports: 1, hairpin: true, masquerade: true });
});

rootTest('every spec version: ADD answers in the config version, DEL twice and DEL without netns succeed', async (t) => {
  for (const version of SUPPORTED_VERSIONS) {
    const [host, ctr] = await namespaces(t, 2, 'mv');
    const dir = await dataDir(t);
    const c = conf(dir, uniq('br'), {}, version);
    const add = await run(ours, host!, c, { command: 'ADD', containerId: 'v1', netns: ctr!.path });
    t.is(add.exitCode, 0, `${version}: ${add.stdout}`);
    const r = JSON.parse(add.stdout);
    t.is(r.cniVersion, version);
    if (version === '0.1.0' || version === '0.2.0') t.is(r.ip4.ip, '10.66.0.2/24', version);
    else t.is(r.ips[0].address, '10.66.0.2/24', version);
    for (let i = 0; i < 2; i++) t.is((await run(ours, host!, c, { command: 'DEL', containerId: 'v1', netns: ctr!.path })).exitCode, 0);
    t.is((await run(ours, host!, c, { command: 'DEL', containerId: 'v1' })).exitCode, 0);
    await emptyAfterDel(t, host!, ctr!, dir);
  }
});

rootTest('a reused address is announced: the gateway holding it with an earlier MAC is corrected at once; a fresh one is not announced', async (t) => {
  const [host, c1, c2] = await namespaces(t, 3, 'ma');
  const dir = await dataDir(t);
  const bridge = uniq('br');
  const c = conf(dir, bridge);
  // Every ARP frame a port hands to a bridge of the host, counted.
  const arpFrames = async () => Number(/packets (\d+)/.exec(await nsExec(host!, [NFT, 'list', 'chain', 'bridge', 'arpcount', 'in']))![1]);
  await nsExec(host!, [NFT, 'add table bridge arpcount; add chain bridge arpcount in { type filter hook prerouting priority 0; }; add rule bridge arpcount in ether type arp counter']);
  t.is((await run(ours, host!, c, { command: 'ADD', containerId: 'a1', netns: c1!.path })).exitCode, 0);
  // A fresh address is not announced: neither by the kernel at link up (arp_notify goes on after
  // it; set before, the kernel's announcement raced the port's enabling and usually flooded every
  // port) nor again (its MAC is never set again: still the kernel's random one).
  await new Promise((r) => setTimeout(r, 200));
  t.is(await arpFrames(), 0, 'no ARP from a fresh container');
  t.is((await nsExec(c1!, ['cat', '/sys/class/net/eth0/addr_assign_type'])).trim(), '1');
  // The gateway still holds the next address with an earlier container's MAC.
  await nsExec(host!, ['ip', 'neigh', 'add', '10.66.0.3', 'lladdr', '02:00:00:00:00:99', 'dev', bridge, 'nud', 'stale']);
  const add = await run(ours, host!, c, { command: 'ADD', containerId: 'a2', netns: c2!.path });
  t.is(add.exitCode, 0, add.stdout);
  const mac = (JSON.parse(add.stdout) as { interfaces: { name: string; mac: string }[] }).interfaces.find((i) => i.name === 'eth0')!.mac;
  t.is((await nsExec(c2!, ['cat', '/proc/sys/net/ipv4/conf/eth0/arp_notify'])).trim(), '1');
  let lladdr: string | undefined;
  for (let i = 0; i < 40 && lladdr !== mac; i++) {
    lladdr = (await ipJson<{ lladdr?: string }[]>(host!, ['neigh', 'show', '10.66.0.3', 'dev', bridge]))[0]?.lladdr;
    if (lladdr !== mac) await new Promise((r) => setTimeout(r, 50));
  }
  t.is(lladdr, mac, 'the gratuitous ARP replaced the stale entry');
  t.true((await arpFrames()) >= 1, 'the announcement went through the bridge');
  for (const [id, ctr] of [['a1', c1], ['a2', c2]] as const) t.is((await run(ours, host!, c, { command: 'DEL', containerId: id, netns: ctr!.path })).exitCode, 0);
});

rootTest('a port has no IPv6 address of its own (addrgenmode none: no link-local, no route but multicast), and IPv6 crosses the bridge both ways', async (t) => {
  const [host, c1, c2] = await namespaces(t, 3, 'm6');
  const dir = await dataDir(t);
  const bridge = uniq('br');
  const c = conf(dir, bridge, { isGateway: true, ipam: { type: 'host-local', ranges: [[{ subnet: '10.66.0.0/24' }], [{ subnet: 'fd66::/64' }]], dataDir: dir } });
  for (const [id, ctr] of [['s1', c1], ['s2', c2]] as const) {
    const add = await run(ours, host!, c, { command: 'ADD', containerId: id, netns: ctr!.path });
    t.is(add.exitCode, 0, add.stdout);
  }
  const ports = await ipJson<{ ifname: string }[]>(host!, ['link', 'show', 'master', bridge]);
  t.is(ports.length, 2);
  for (const p of ports) {
    t.regex(await nsExec(host!, ['ip', '-d', 'link', 'show', 'dev', p.ifname]), /addrgenmode none/, p.ifname);
    t.deepEqual((await ipJson<{ addr_info: unknown[] }[]>(host!, ['-6', 'addr', 'show', 'dev', p.ifname]))[0]?.addr_info ?? [], [], p.ifname);
  }
  // Through a port, only the multicast route IPv6 gives every link that is up.
  const v6routes = await ipJson<{ dst: string; dev: string }[]>(host!, ['-6', 'route', 'show', 'table', 'all']);
  t.deepEqual(v6routes.filter((r) => ports.some((p) => p.ifname === r.dev)).map((r) => r.dst), ['ff00::/8', 'ff00::/8']);
  // Container to gateway, gateway to container, container to container, over IPv6.
  await nsExec(c1!, ['ping', '-6', '-c1', '-W3', 'fd66::1'], { timeoutMs: 15_000 });
  await nsExec(host!, ['ping', '-6', '-c1', '-W3', 'fd66::2'], { timeoutMs: 15_000 });
  await nsExec(c1!, ['ping', '-6', '-c1', '-W3', 'fd66::3'], { timeoutMs: 15_000 });
  await nsExec(c2!, ['ping', '-c1', '-W3', '10.66.0.2']);
  for (const [id, ctr] of [['s1', c1], ['s2', c2]] as const) t.is((await run(ours, host!, c, { command: 'DEL', containerId: id, netns: ctr!.path })).exitCode, 0);
});

rootTest('an MTU below IPv6 minimum (1280): the port has no IPv6 to configure, and the ADD goes on without it', async (t) => {
  const [host, ctr] = await namespaces(t, 2, 'mu');
  const dir = await dataDir(t);
  const bridge = uniq('br');
  const c = conf(dir, bridge, { mtu: 1000 });
  const add = await run(ours, host!, c, { command: 'ADD', containerId: 'u1', netns: ctr!.path });
  t.is(add.exitCode, 0, add.stdout);
  const [port] = await ipJson<{ ifname: string; mtu: number }[]>(host!, ['link', 'show', 'master', bridge]);
  t.is(port!.mtu, 1000);
  // The kernel keeps no IPv6 state for such a link: no addrgenmode to show (the mode is refused).
  t.notRegex(await nsExec(host!, ['ip', '-d', 'link', 'show', 'dev', port!.ifname]), /addrgenmode/);
  await nsExec(ctr!, ['ping', '-c1', '-W2', '10.66.0.1']);
  t.is((await run(ours, host!, c, { command: 'DEL', containerId: 'u1', netns: ctr!.path })).exitCode, 0);
  await emptyAfterDel(t, host!, ctr!, dir);
});

rootTest("an IPAM route's 1.1 attributes (mtu, advmss, priority, table) are the container route's", async (t) => {
  const [host, ctr] = await namespaces(t, 2, 'mr');
  const dir = await dataDir(t);
  const routes = [
    { dst: '10.9.0.0/16', mtu: 1400, advmss: 1360, priority: 5 },
    { dst: '10.10.0.0/16', advmss: 1300, table: 100 },
  ];
  const c = conf(dir, uniq('br'), { ipam: { type: 'host-local', subnet: '10.66.0.0/24', dataDir: dir, routes } }, '1.1.0');
  const add = await run(ours, host!, c, { command: 'ADD', containerId: 'r1', netns: ctr!.path });
  t.is(add.exitCode, 0, add.stdout);
  t.regex(await nsExec(ctr!, ['ip', 'route', 'show', '10.9.0.0/16']), /^10\.9\.0\.0\/16 via 10\.66\.0\.1 dev eth0 metric 5 mtu 1400 advmss 1360\s*$/);
  t.regex(await nsExec(ctr!, ['ip', 'route', 'show', 'table', '100']), /^10\.10\.0\.0\/16 via 10\.66\.0\.1 dev eth0 advmss 1300\s*$/);
  const check = await run(ours, host!, { ...c, prevResult: JSON.parse(add.stdout) }, { command: 'CHECK', containerId: 'r1', netns: ctr!.path });
  t.is(check.exitCode, 0, check.stdout);
  t.is((await run(ours, host!, c, { command: 'DEL', containerId: 'r1', netns: ctr!.path })).exitCode, 0);
});

rootTest('DEL without CNI_NETNS still removes rules and the lease', async (t) => {
  const [host, ctr] = await namespaces(t, 2, 'mn');
  const dir = await dataDir(t);
  const c = conf(dir, uniq('br'));
  t.is((await run(ours, host!, c, { command: 'ADD', containerId: 'n1', netns: ctr!.path })).exitCode, 0);
  t.is((await run(ours, host!, c, { command: 'DEL', containerId: 'n1' })).exitCode, 0);
  t.notRegex(await nsExec(host!, ['iptables-save', '-t', 'nat']), /CNI-/);
  t.deepEqual(await leases(dir), []);
});

rootTest('CHECK passes after ADD and fails once the container address is gone', async (t) => {
  const [host, ctr] = await namespaces(t, 2, 'mk');
  const dir = await dataDir(t);
  const c = conf(dir, uniq('br'));
  const add = await run(ours, host!, c, { command: 'ADD', containerId: 'k1', netns: ctr!.path });
  const withPrev = { ...c, prevResult: JSON.parse(add.stdout) };
  t.is((await run(ours, host!, withPrev, { command: 'CHECK', containerId: 'k1', netns: ctr!.path })).exitCode, 0);
  await nsExec(ctr!, ['ip', 'addr', 'flush', 'dev', 'eth0']);
  const bad = await run(ours, host!, withPrev, { command: 'CHECK', containerId: 'k1', netns: ctr!.path });
  t.is(bad.exitCode, 1);
  t.regex(JSON.parse(bad.stdout).msg, /address 10\.66\.0\.2\/24 missing/);
});

rootTest('failures at each ADD step leave nothing behind', async (t) => {
  // 1. IPAM refuses (requested address outside the range) → no veth, no rules, no lease.
  {
    const [host, ctr] = await namespaces(t, 2, 'mf');
    const dir = await dataDir(t);
    const r = await run(ours, host!, conf(dir, uniq('br')), { command: 'ADD', containerId: 'f1', netns: ctr!.path, args: 'IgnoreUnknown=1;IP=10.99.0.5' });
    t.is(r.exitCode, 1);
    t.regex(JSON.parse(r.stdout).msg, /failed to allocate all requested IPs/);
    await emptyAfterDel(t, host!, ctr!, dir);
  }
  // 2. The container already has the interface name → error; the lease is released.
  {
    const [host, ctr] = await namespaces(t, 2, 'mf');
    const dir = await dataDir(t);
    await nsExec(ctr!, ['ip', 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'x0']);
    const r = await run(ours, host!, conf(dir, uniq('br')), { command: 'ADD', containerId: 'f2', netns: ctr!.path });
    t.is(r.exitCode, 1);
    t.regex(JSON.parse(r.stdout).msg, /container veth name provided \(eth0\) already exists/);
    t.deepEqual(await leases(dir), []);
    t.is((await ipJson<unknown[]>(host!, ['link', 'show', 'type', 'veth'])).length, 0);
    t.notRegex(await nsExec(host!, ['iptables-save', '-t', 'nat']), /CNI-/);
  }
  // 3. The bridge name is taken by a non-bridge link → error before anything is made.
  {
    const [host, ctr] = await namespaces(t, 2, 'mf');
    const dir = await dataDir(t);
    await nsExec(host!, ['ip', 'link', 'add', 'notbr0', 'type', 'veth', 'peer', 'name', 'nb1']);
    const r = await run(ours, host!, conf(dir, 'notbr0'), { command: 'ADD', containerId: 'f3', netns: ctr!.path });
    t.regex(JSON.parse(r.stdout).msg, /"notbr0" already exists but is not a bridge/);
    t.deepEqual(await leases(dir), []);
    t.deepEqual((await ipJson<{ ifname: string }[]>(ctr!, ['link', 'show'])).map((l) => l.ifname), ['lo']);
  }
  // 4. The container address conflicts with a route already in the container (a prefix route of
  //    the same subnet on another link): the container batch fails → veth, lease and rules undone.
  {
    const [host, ctr] = await namespaces(t, 2, 'mf');
    const dir = await dataDir(t);
    await nsExec(ctr!, ['ip', 'link', 'add', 'd0', 'type', 'veth', 'peer', 'name', 'd1']);
    await nsExec(ctr!, ['ip', 'link', 'set', 'd0', 'up']);
    await nsExec(ctr!, ['ip', 'route', 'add', 'default', 'dev', 'd0']);
    const r = await run(ours, host!, conf(dir, uniq('br')), { command: 'ADD', containerId: 'f4', netns: ctr!.path });
    t.is(r.exitCode, 1);
    t.regex(JSON.parse(r.stdout).msg, /add route default .*File exists/);
    t.deepEqual(await leases(dir), []);
    t.is((await ipJson<unknown[]>(host!, ['link', 'show', 'type', 'veth'])).length, 0);
    t.deepEqual((await ipJson<{ ifname: string }[]>(ctr!, ['link', 'show'])).map((l) => l.ifname).sort(), ['d0', 'd1', 'lo']);
  }
  // 5. Bad config fields are refused with the field named, before any side effect.
  {
    const [host, ctr] = await namespaces(t, 2, 'mf');
    const dir = await dataDir(t);
    const bad = await run(ours, host!, conf(dir, uniq('br'), { mtu: 20 }), { command: 'ADD', containerId: 'f5', netns: ctr!.path });
    t.like(JSON.parse(bad.stdout), { code: 7, msg: 'mtu: expected an integer from 68 to 65535, got 20' });
    const vlan = await run(ours, host!, conf(dir, uniq('br'), { vlan: 4095 }), { command: 'ADD', containerId: 'f5', netns: ctr!.path });
    t.like(JSON.parse(vlan.stdout), { code: 7, msg: 'vlan: expected a VLAN ID from 0 to 4094, got 4095' });
  }
});

rootTest('a CNI_NETNS that names the plugin own namespace is refused before any change', async (t) => {
  const [host] = await namespaces(t, 1, 'ms');
  const dir = await dataDir(t);
  const r = await run(ours, host!, conf(dir, uniq('br')), { command: 'ADD', containerId: 's1', netns: host!.path });
  t.like(JSON.parse(r.stdout), { code: 8, msg: `CNI_NETNS: ${host!.path} is the plugin's own network namespace` });
  t.is((await ipJson<unknown[]>(host!, ['link', 'show', 'type', 'bridge'])).length, 0);
  t.deepEqual(await leases(dir), []);
});

rootTest('DEL removes the masquerade rules even after the container addresses were flushed', async (t) => {
  const [host, ctr] = await namespaces(t, 2, 'mz');
  const dir = await dataDir(t);
  const c = conf(dir, uniq('br'));
  t.is((await run(ours, host!, c, { command: 'ADD', containerId: 'z1', netns: ctr!.path })).exitCode, 0);
  await nsExec(ctr!, ['ip', 'addr', 'flush', 'dev', 'eth0']);
  t.is((await run(ours, host!, c, { command: 'DEL', containerId: 'z1', netns: ctr!.path })).exitCode, 0);
  t.notRegex(await nsExec(host!, ['iptables-save', '-t', 'nat']), /CNI-|mesos-cni bridge/);
  await emptyAfterDel(t, host!, ctr!, dir);
});

rootTest('masquerade DEL: over netlink on iptables-nft; through an iptables-restore wrapper the known rules go at once, and all are still found when one was already gone', async (t) => {
  const [host, ctr] = await namespaces(t, 2, 'mx');
  const dir = await dataDir(t);
  const c = conf(dir, uniq('br'));
  // A wrapper iptables-restore (not xtables-nft-multi) makes the plugin take the exec path.
  const shim = join(dir, 'shim');
  await mkdir(shim);
  const real = (await nsExec(host!, ['sh', '-c', 'command -v iptables-restore'])).trim();
  const calls = join(dir, 'calls');
  await writeFile(join(shim, 'iptables-restore'), `#!/bin/sh\necho restore >> ${calls}\nexec ${real} "$@"\n`);
  await chmod(join(shim, 'iptables-restore'), 0o755);
  const modes = [
    { mode: 'netlink', extraEnv: {} as Record<string, string> },
    { mode: 'exec', extraEnv: { PATH: `${shim}:${process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}` } },
  ];
  for (const { mode, extraEnv } of modes) {
    for (const [n, tamper] of [[1, false], [2, true]] as const) {
      const id = `${mode}${n}`;
      t.is((await run(ours, host!, c, { command: 'ADD', containerId: id, netns: ctr!.path })).exitCode, 0);
      const lines = (await nsExec(host!, ['iptables', '-w', '-t', 'nat', '-S', 'POSTROUTING'])).split('\n');
      const jump = lines.findIndex((l) => l.includes(`id: ${id}"`)); // line 0 is -P: the index is the rule number
      t.true(jump > 0);
      // Exec: the exact deletion then fails whole (its -D has nothing to match) and the read-back path runs.
      if (tamper) await nsExec(host!, ['iptables', '-w', '-t', 'nat', '-D', 'POSTROUTING', String(jump)]);
      await writeFile(calls, '');
      t.is((await run(ours, host!, c, { command: 'DEL', containerId: id, netns: ctr!.path, extraEnv })).exitCode, 0);
      t.notRegex(await nsExec(host!, ['iptables-save', '-t', 'nat']), /CNI-|mesos-cni bridge/, `${mode}, ${tamper ? 'one gone already' : 'all there'}`);
      if (mode === 'exec') t.is((await readFile(calls, 'utf8')).split('\n').filter(Boolean).length, tamper ? 2 : 1, 'exact, or exact then read back');
      await emptyAfterDel(t, host!, ctr!, dir);
    }
  }
});
