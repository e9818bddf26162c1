// dcos-l4lb end to end in throwaway namespaces: upstream's test table (Default values, Explicit
// values, Spartan Disabled) and the README's booleans; the exact kernel state and DNS reachability
// through `spartan` (TCP and UDP); what the delegate is sent and how its result comes back in every
// version; DEL twice and without a namespace; CHECK; and dcos-net's view of the checkpoint.
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { ipJson, nsExec, rootTest, type TestNs } from '../../helpers/fixture.js';
import { ourBinDir, REFERENCE_DIR } from '../../helpers/cni.js';
import { fetchTcp, serveTcp } from '../../helpers/traffic.js';
import { CID, checkpoint, conf, disposableNs, LEASE, leases, linkNames, nothingLeft, recorder, run, setup, spartanHostRoutes, type L4 } from './dcos-l4lb-fixture.js';

const TABLE: [string, (s: L4) => Record<string, unknown>, { spartan: boolean; minuteman: boolean }][] = [
  // The default path is /var/run/dcos/cni/l4lb (unit-tested); here it must be a temp dir, and the
  // spartan lease store too, so `path` and `dataDir` are the only keys given.
  ['Default values', (s) => ({ spartan: { dataDir: s.spartanDir }, minuteman: { path: s.mmPath } }), { spartan: true, minuteman: true }],
  ['Explicit values', (s) => ({ spartan: { enable: true, dataDir: s.spartanDir }, minuteman: { path: s.mmPath } }), { spartan: true, minuteman: true }],
  ['Spartan Disabled', (s) => ({ spartan: { enable: false }, minuteman: { enable: true, path: s.mmPath } }), { spartan: false, minuteman: true }],
  ['Spartan false (README boolean)', (s) => ({ spartan: false, minuteman: { path: s.mmPath } }), { spartan: false, minuteman: true }],
  ['Minuteman false (README boolean)', (s) => ({ spartan: { dataDir: s.spartanDir }, minuteman: false }), { spartan: true, minuteman: false }],
];

for (const [title, extra, want] of TABLE) {
  rootTest(`upstream table: ${title}`, async (t) => {
    const s = await setup(t);
    const c = conf(s, extra(s));
    const add = await run(s, c, { command: 'ADD', netns: s.ctr.path });
    t.is(add.exitCode, 0, add.stdout + add.stderr);
    const links = await linkNames(s.ctr);
    t.is(links.includes('spartan'), want.spartan, 'spartan link');
    t.is(links.includes('minuteman'), want.minuteman, 'minuteman link');
    // Exactly the netns path, no newline: dcos-net uses the bytes as a path.
    t.is(await checkpoint(s), want.minuteman ? s.ctr.path : undefined, 'checkpoint content');
    const del = await run(s, c, { command: 'DEL', netns: s.ctr.path });
    t.is(del.exitCode, 0, del.stdout + del.stderr);
    await nothingLeft(t, s, { what: title });
  });
}

const UDP_SERVER = `
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((sys.argv[1], int(sys.argv[2])))
print('ready', flush=True)
while True:
    d, a = s.recvfrom(512); s.sendto(b'udp ' + d, a)
`;
const UDP_CLIENT = `
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(3)
s.sendto(b'query', (sys.argv[1], int(sys.argv[2]))); print(s.recv(512).decode(), end='')
`;

async function serveUdp(t: ExecutionContext, ns: TestNs, addr: string, port: number): Promise<void> {
  const child = spawn('ip', ['netns', 'exec', ns.name, 'python3', '-c', UDP_SERVER, addr, String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => {
    child.kill('SIGKILL');
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`udp server exited with ${code}`)));
  });
}

rootTest('ADD: forwarding on, /32 lease on `spartan`, four scoped routes, host route back; DNS on 198.51.100.1:53 reachable over TCP and UDP; DEL releases it all', async (t) => {
  const s = await setup(t);
  await nsExec(s.host, ['sysctl', '-qw', 'net.ipv4.ip_forward=0']);
  const c = conf(s, {}, '1.0.0');
  const add = await run(s, c, { command: 'ADD', netns: s.ctr.path });
  t.is(add.exitCode, 0, add.stdout + add.stderr);
  // The delegate's result, and only it: no spartan address in it.
  const result = JSON.parse(add.stdout);
  t.is(result.cniVersion, '1.0.0');
  t.deepEqual(result.ips, [{ address: '10.1.2.2/24', gateway: '10.1.2.1', interface: 2 }]);
  t.notRegex(add.stdout, /198\.51\.100/);

  t.is((await nsExec(s.host, ['sysctl', '-n', 'net.ipv4.ip_forward'])).trim(), '1');
  const addrs = (await ipJson<{ addr_info: { family: string; local: string; prefixlen: number }[] }[]>(s.ctr, ['addr', 'show', 'dev', 'spartan']))[0]!;
  t.deepEqual(addrs.addr_info.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`), [`${LEASE}/32`]);
  const routes = await ipJson<{ dst: string; scope: string; prefsrc: string }[]>(s.ctr, ['route', 'show', 'dev', 'spartan']);
  t.deepEqual(routes.map((r) => `${r.dst} ${r.scope} ${r.prefsrc}`), [1, 2, 3, 4].map((i) => `198.51.100.${i} link ${LEASE}`));
  const back = await ipJson<{ dst: string; dev: string; scope: string }[]>(s.host, ['route', 'show', `${LEASE}/32`]);
  t.is(back.length, 1);
  t.regex(back[0]!.dev, /^veth[0-9a-f]{8}$/);
  t.is(back[0]!.scope, 'link');
  const hostVeth = (await ipJson<{ ifname: string; operstate: string; flags: string[] }[]>(s.host, ['link', 'show', back[0]!.dev]))[0]!;
  t.true(hostVeth.flags.includes('UP'));
  t.deepEqual(await leases(s.spartanDir, 'spartan-network'), [LEASE]);
  t.regex((await ipJson<{ dev: string; prefsrc: string }[]>(s.ctr, ['route', 'get', '198.51.100.1']))[0]!.dev, /^spartan$/);

  await serveTcp(t, s.host, 53, 'spartan dns', '198.51.100.1');
  t.is(await fetchTcp(s.ctr, '198.51.100.1', 53), 'spartan dns', 'TCP to 198.51.100.1:53 through spartan');
  await serveUdp(t, s.host, '198.51.100.2', 53);
  t.is(await nsExec(s.ctr, ['python3', '-c', UDP_CLIENT, '198.51.100.2', '53']), 'udp query', 'UDP to 198.51.100.2:53 through spartan');

  const del = await run(s, c, { command: 'DEL', netns: s.ctr.path });
  t.is(del.exitCode, 0, del.stdout);
  t.is(await fetchTcp(s.ctr, '198.51.100.1', 53), '', 'unreachable after DEL');
  await nothingLeft(t, s, { what: 'after DEL' });
});

rootTest('the delegate gets our name, cniVersion and args (over its own) and the runtime env; its result comes back in our version', async (t) => {
  const s = await setup(t);
  const rec = await recorder(t);
  const path = `${rec.dir}:${await ourBinDir()}:${REFERENCE_DIR}`;
  const args = { 'org.apache.mesos': { network_info: { name: 'spartan-net' } } };
  const delegate = { type: 'recorder', name: 'theirs', cniVersion: '9.9.9', args: { theirs: true }, keep: { nested: [1, 2] } };
  const want: [string | null, unknown][] = [
    [null, { ip4: { ip: '10.9.9.9/24', gateway: '10.9.9.1', routes: [{ dst: '0.0.0.0/0' }] }, dns: { nameservers: ['198.51.100.1'] } }],
    ['0.2.0', { cniVersion: '0.2.0', ip4: { ip: '10.9.9.9/24', gateway: '10.9.9.1', routes: [{ dst: '0.0.0.0/0' }] }, dns: { nameservers: ['198.51.100.1'] } }],
    ['0.3.1', { cniVersion: '0.3.1', ips: [{ version: '4', address: '10.9.9.9/24', gateway: '10.9.9.1' }], routes: [{ dst: '0.0.0.0/0' }], dns: { nameservers: ['198.51.100.1'] } }],
    ['0.4.0', { cniVersion: '0.4.0', ips: [{ version: '4', address: '10.9.9.9/24', gateway: '10.9.9.1' }], routes: [{ dst: '0.0.0.0/0' }], dns: { nameservers: ['198.51.100.1'] } }],
    ['1.0.0', { cniVersion: '1.0.0', ips: [{ address: '10.9.9.9/24', gateway: '10.9.9.1' }], routes: [{ dst: '0.0.0.0/0' }], dns: { nameservers: ['198.51.100.1'] } }],
    ['1.1.0', { cniVersion: '1.1.0', ips: [{ address: '10.9.9.9/24', gateway: '10.9.9.1' }], routes: [{ dst: '0.0.0.0/0' }], dns: { nameservers: ['198.51.100.1'] } }],
  ];
  for (const [version, result] of want) {
    await rec.reset();
    const c = conf(s, { args, delegate }, version);
    const add = await run(s, c, { command: 'ADD', netns: s.ctr.path, path, args: 'IgnoreUnknown=1' });
    t.is(add.exitCode, 0, `${version}: ${add.stdout}${add.stderr}`);
    t.deepEqual(JSON.parse(add.stdout), result, `result in ${version ?? 'the legacy form'}`);
    const sent = await rec.stdin('ADD');
    t.deepEqual(sent, { type: 'recorder', name: 'spartan-net', ...(version ? { cniVersion: version } : {}), args, keep: { nested: [1, 2] } }, `${version}: delegate config`);
    t.like(await rec.env('ADD'), { CNI_COMMAND: 'ADD', CNI_CONTAINERID: CID, CNI_NETNS: s.ctr.path, CNI_IFNAME: 'eth0', CNI_ARGS: 'IgnoreUnknown=1', CNI_PATH: path });
    const del = await run(s, c, { command: 'DEL', netns: s.ctr.path, path });
    t.is(del.exitCode, 0, del.stdout);
    t.deepEqual(await rec.calls(), ['ADD', 'DEL']);
    t.deepEqual(await rec.stdin('DEL'), sent, 'DEL sends the same delegate config');
  }
  await nothingLeft(t, s);
});

rootTest('DEL twice succeeds; DEL after the namespace is gone (with and without CNI_NETNS) releases the lease, the checkpoint and the delegate', async (t) => {
  const s = await setup(t);
  const c = conf(s);
  t.is((await run(s, c, { command: 'ADD', netns: s.ctr.path })).exitCode, 0);
  for (let i = 0; i < 2; i++) {
    const del = await run(s, c, { command: 'DEL', netns: s.ctr.path });
    t.is(del.exitCode, 0, `DEL #${i + 1}: ${del.stdout}`);
  }
  t.is((await run(s, c, { command: 'DEL' })).exitCode, 0, 'DEL without CNI_NETNS after all is gone');
  await nothingLeft(t, s, { what: 'DEL twice' });

  for (const giveNetns of [false, true]) {
    const gone = await disposableNs(t);
    const add = await run(s, c, { command: 'ADD', netns: gone });
    t.is(add.exitCode, 0, add.stdout);
    t.is((await leases(s.spartanDir, 'spartan-network')).length, 1);
    await nsExec(s.host, ['ip', 'netns', 'del', gone.split('/').pop()!]);
    const del = await run(s, c, { command: 'DEL', ...(giveNetns ? { netns: gone } : {}) });
    t.is(del.exitCode, 0, `DEL ${giveNetns ? 'naming the vanished namespace' : 'without CNI_NETNS'}: ${del.stdout}`);
    t.deepEqual(await leases(s.spartanDir, 'spartan-network'), []);
    t.deepEqual(await leases(s.ipamDir, 'spartan-net'), []);
    t.is(await checkpoint(s), undefined);
    // The veth pairs went with the namespace (its teardown is asynchronous).
    for (let i = 0; i < 50 && (await ipJson<unknown[]>(s.host, ['link', 'show', 'type', 'veth'])).length; i++) await new Promise((r) => setTimeout(r, 20));
    await nothingLeft(t, s, { what: `namespace gone, netns ${giveNetns ? 'given' : 'not given'}` });
  }
});

rootTest('CHECK passes after ADD and names what is missing: delegate state, a spartan route, the checkpoint, the minuteman link', async (t) => {
  const s = await setup(t);
  const c = conf(s, {}, '1.0.0');
  const add = await run(s, c, { command: 'ADD', netns: s.ctr.path });
  t.is(add.exitCode, 0, add.stdout);
  const withPrev = { ...c, prevResult: JSON.parse(add.stdout) };
  const check = async () => {
    const r = await run(s, withPrev, { command: 'CHECK', netns: s.ctr.path });
    return r.exitCode === 0 ? 'ok' : (JSON.parse(r.stdout) as { msg: string }).msg;
  };
  t.is(await check(), 'ok');
  await nsExec(s.ctr, ['ip', 'addr', 'flush', 'dev', 'eth0']);
  t.is(await check(), 'failed to invoke delegate plugin bridge: container interface eth0: address 10.1.2.2/24 missing');
  await nsExec(s.ctr, ['ip', 'route', 'del', '198.51.100.3/32']);
  t.is(await check(), `spartan: route 198.51.100.3/32 dev spartan scope link src ${LEASE} missing`);
  await nsExec(s.ctr, ['ip', 'route', 'add', '198.51.100.3/32', 'dev', 'spartan', 'scope', 'link', 'src', LEASE]);
  const hostVeth = (await ipJson<{ dev: string }[]>(s.host, ['route', 'show', `${LEASE}/32`]))[0]!.dev;
  await nsExec(s.host, ['ip', 'route', 'del', `${LEASE}/32`]);
  t.is(await check(), `spartan: host route ${LEASE}/32 dev <the spartan veth's host end> missing`);
  await nsExec(s.host, ['ip', 'route', 'add', `${LEASE}/32`, 'dev', hostVeth, 'scope', 'link']);
  await writeFile(join(s.mmPath, CID), `${s.ctr.path}\n`);
  t.is(await check(), `minuteman: registration ${join(s.mmPath, CID)} holds ${JSON.stringify(s.ctr.path + '\n')}, expected ${JSON.stringify(s.ctr.path)}`);
  await nsExec(s.ctr, ['ip', 'link', 'del', 'minuteman']);
  t.is(await check(), `minuteman: interface minuteman missing in ${s.ctr.path}`);
  // Our bridge's DEL removes masquerade rules for the families the container's address had.
  await nsExec(s.ctr, ['ip', 'addr', 'add', '10.1.2.2/24', 'dev', 'eth0']);
  t.is((await run(s, c, { command: 'DEL', netns: s.ctr.path })).exitCode, 0, 'DEL cleans up whatever is left');
  await nothingLeft(t, s);
});

// dcos-net's watcher (dcos_l4lb_netns_watcher.erl) in miniature: inotify CLOSE_WRITE|DELETE on the
// directory, names starting with '.' ignored; on CLOSE_WRITE it reads the file as a netns path and
// (dcos_l4lb_route_mgr.erl) looks up `minuteman` inside that namespace at once.
const WATCHER = `
import ctypes, os, socket, struct, sys, json
libc = ctypes.CDLL(None, use_errno=True)
IN_CLOSE_WRITE, IN_DELETE, IN_MOVED_TO = 0x8, 0x200, 0x80
fd = libc.inotify_init()
libc.inotify_add_watch(fd, sys.argv[1].encode(), IN_CLOSE_WRITE | IN_DELETE | IN_MOVED_TO)
print(json.dumps({'ev': 'ready'}), flush=True)
while True:
    buf = os.read(fd, 65536); off = 0
    while off < len(buf):
        wd, mask, cookie, n = struct.unpack_from('iIII', buf, off)
        name = buf[off + 16: off + 16 + n].rstrip(b'\\0').decode(); off += 16 + n
        out = {'raw': name, 'mask': mask}
        if not name.startswith('.') and mask & IN_CLOSE_WRITE:
            ns = open(os.path.join(sys.argv[1], name), 'rb').read().decode()
            out.update(ev='add', ns=ns)
            nsfd = os.open(ns, os.O_RDONLY)
            if libc.setns(nsfd, 0x40000000) != 0: out['setns'] = ctypes.get_errno()
            os.close(nsfd)
            try: out['minuteman'] = socket.if_nametoindex('minuteman')
            except OSError as e: out['minuteman'] = str(e)
        elif not name.startswith('.') and mask & IN_DELETE:
            out['ev'] = 'remove'
        print(json.dumps(out), flush=True)
`;

rootTest('dcos-net sees the checkpoint: one CLOSE_WRITE on <container ID> with the whole path, minuteman already in that namespace; DELETE on DEL', async (t) => {
  const s = await setup(t);
  await mkdir(s.mmPath, { recursive: true });
  const child = spawn('python3', ['-c', WATCHER, s.mmPath], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => {
    child.kill('SIGKILL');
  });
  const events: Record<string, unknown>[] = [];
  let buffered = '';
  let wake: () => void = () => {};
  child.stdout.on('data', (d: Buffer) => {
    buffered += d.toString();
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      events.push(JSON.parse(buffered.slice(0, nl)));
      buffered = buffered.slice(nl + 1);
      wake();
    }
  });
  const until = async (pred: () => boolean) => {
    for (const deadline = Date.now() + 5000; !pred() && Date.now() < deadline; ) await new Promise<void>((r) => ((wake = r), setTimeout(r, 100)));
  };
  await until(() => events.some((e) => e.ev === 'ready'));
  const c = conf(s);
  t.is((await run(s, c, { command: 'ADD', netns: s.ctr.path })).exitCode, 0);
  await until(() => events.some((e) => e.ev === 'add'));
  const adds = events.filter((e) => e.ev === 'add');
  t.is(adds.length, 1, JSON.stringify(events));
  t.like(adds[0], { raw: CID, ns: s.ctr.path });
  t.is(typeof adds[0]!.minuteman, 'number', `minuteman resolved in the namespace: ${JSON.stringify(adds[0])}`);
  t.is(adds[0]!.setns, undefined);
  // The content was written to a dot-file (ignored by dcos-net) and renamed into place.
  t.true(events.filter((e) => e.raw !== undefined && e.raw !== CID).every((e) => String(e.raw).startsWith('.')), JSON.stringify(events));
  t.is((await run(s, c, { command: 'DEL', netns: s.ctr.path })).exitCode, 0);
  await until(() => events.some((e) => e.ev === 'remove'));
  t.like(events.find((e) => e.ev === 'remove'), { raw: CID });
});
