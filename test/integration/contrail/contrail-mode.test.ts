// Contrail mode against a manager and a vRouter agent stood up from the spec (fake-cluster.ts) in
// the test host's namespace: every contract point (body, polling, tap name, port files, POST /vm,
// GET /vm, container config, result per version), timeouts, non-200s, partial answers, each
// failure leaving nothing, DEL twice / without netns / stale / with the manager down, layering.
import test, { type ExecutionContext } from 'ava';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { callPlugin, ourPlugin } from '../../helpers/cni.js';
import { ipJson, namespaces, nsExec, rootTest, uniq, type TestNs } from '../../helpers/fixture.js';
import type { Behavior, FakeInterface } from '../../helpers/contrail/fake-cluster.js';

const FAKE = fileURLToPath(new URL('../../helpers/contrail/fake-cluster.js', import.meta.url));
const PLUGIN = ourPlugin('contrail-cni-plugin');

interface Fx {
  host: TestNs;
  dir: string;
  conf: (over?: Record<string, unknown>, version?: string) => Record<string, unknown>;
  behave: (b: Behavior) => void;
  requests: () => { server: string; method: string; path: string; type?: string; body: string }[];
  run: (command: 'ADD' | 'DEL' | 'CHECK' | 'GC' | 'STATUS', conf: object, id: string, ctr?: TestNs, extraEnv?: Record<string, string>) => ReturnType<typeof callPlugin>;
}

async function fixture(t: ExecutionContext): Promise<Fx> {
  const [host] = await namespaces(t, 1, 'ctm');
  await host!.nl.link.set({ name: 'lo', up: true });
  const dir = mkdtempSync(join(tmpdir(), 'contrail-mode-'));
  const confDir = join(dir, 'net.d');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const p = spawn('ip', ['netns', 'exec', host!.name, process.execPath, FAKE, dir, '16991', '19091'], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => void p.kill('SIGKILL'));
  await new Promise<void>((resolve, reject) => {
    p.stdout!.once('data', () => resolve());
    p.once('exit', (c) => reject(new Error(`fake cluster exited ${c}`)));
  });
  return {
    host: host!,
    dir,
    conf: (over = {}, version = '0.3.1') => ({
      ...(version && { cniVersion: version }),
      name: 'contrail-cni-plugin',
      type: 'contrail-cni-plugin',
      contrail: { mode: 'mesos', 'mesos-ip': '127.0.0.1', 'mesos-port': '16991', 'vrouter-ip': '127.0.0.1', 'vrouter-port': 19091, 'config-dir': join(dir, 'ports'), 'outbox-dir': join(dir, 'outbox'), 'poll-timeout': 0, 'poll-retries': 3, 'http-timeout': 2, ...over },
    }),
    behave: (b) => writeFileSync(join(dir, 'behavior.json'), JSON.stringify(b)),
    requests: () => (existsSync(join(dir, 'requests.jsonl')) ? readFileSync(join(dir, 'requests.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)) : []),
    run: (command, conf, id, ctr, extraEnv = {}) => callPlugin(PLUGIN, conf, { command, containerId: id, ...(ctr && { netns: ctr.path }), hostNs: host!.name, extraEnv: { MESOS_CNI_CONTRAIL_CONF_DIR: confDir, ...extraEnv } }),
  };
}

const iface = (n: number, over: Partial<FakeInterface> = {}): FakeInterface => ({ vmi: `vmi-${n}-0000-0000-000000000000`, mac: `02:aa:bb:cc:dd:0${n}`, ip: `10.40.0.${10 + n}`, plen: 24, gateway: '10.40.0.1', dns: '10.40.0.2', vn: 'blue', ...over });

async function links(ns: TestNs): Promise<string[]> {
  return (await ipJson<{ ifname: string }[]>(ns, ['link', 'show'])).map((l) => l.ifname).filter((n) => n !== 'lo');
}

/** Nothing of container `id` is left on the host: no tap, no port file. */
async function nothingLeft(t: ExecutionContext, fx: Fx, id: string): Promise<void> {
  t.deepEqual((await links(fx.host)).filter((n) => n.startsWith('tap')), [], 'no tap left');
  t.false(existsSync(join(fx.dir, 'ports', id)), 'no port files left');
}

rootTest('ADD: manager POST, vm-cfg polled, tap veth, port file, POST /vm, GET /vm, eth0 configured, result; DEL undoes it', async (t) => {
  const fx = await fixture(t);
  const [ctr] = await namespaces(t, 1, 'ctc');
  const id = uniq('cid');
  fx.behave({ containers: { [id]: { vmUuid: 'a1b2c3d4-e5f6-7890-abcd-ef0123456789', interfaces: [iface(1)] } } });
  const conf = fx.conf();
  const add = await fx.run('ADD', conf, id, ctr);
  t.is(add.exitCode, 0, add.stdout + add.stderr);
  const result = JSON.parse(add.stdout);
  t.deepEqual(result, {
    cniVersion: '0.3.1',
    interfaces: [{ name: 'eth0', mac: '02:aa:bb:cc:dd:01', sandbox: ctr!.path }],
    ips: [{ version: '4', address: '10.40.0.11/24', gateway: '10.40.0.1', interface: 0 }],
    routes: [{ dst: '0.0.0.0/0', gw: '10.40.0.1' }],
    dns: { nameservers: ['10.40.0.2'] },
  });
  const reqs = fx.requests();
  const mgr = reqs.find((r) => r.server === 'manager')!;
  t.is(mgr.path, '/add_cni_info');
  t.is(mgr.type, 'application/json');
  t.is(mgr.body, JSON.stringify({ args: JSON.stringify(conf), cid: id, cmd: 'ADD' }), 'body: {"args": stdin as a string, "cid", "cmd"}, keys sorted');
  t.deepEqual(reqs.filter((r) => r.server === 'vrouter').map((r) => `${r.method} ${r.path}`), [`GET /vm-cfg/${id}`, 'POST /vm', 'GET /vm/a1b2c3d4-e5f6-7890-abcd-ef0123456789']);
  // tap + the first 11 characters of "<ifname>-<vm-uuid>".
  const tap = 'tapeth0-a1b2c3';
  t.deepEqual(await links(fx.host), [tap]);
  const post = reqs.find((r) => r.path === '/vm')!;
  t.regex(post.body, /^\{\n\t"time": /, 'POST /vm body tab-indented as Go MarshalIndent');
  const msg = JSON.parse(post.body);
  t.like(msg, { 'vm-id': id, 'vm-uuid': 'a1b2c3d4-e5f6-7890-abcd-ef0123456789', 'vm-name': id, 'host-ifname': tap, 'vm-ifname': 'eth0', 'vm-namespace': ctr!.path, 'vn-uuid': 'vn-blue', 'vmi-uuid': iface(1).vmi });
  t.is(readFileSync(join(fx.dir, 'ports', id, iface(1).vmi), 'utf8'), post.body, 'port file = the POST body');
  const addrs = await ipJson<{ ifname: string; addr_info: { local: string; prefixlen: number }[] }[]>(ctr!, ['-4', 'addr', 'show', 'eth0']);
  t.is((await ipJson<{ address: string }[]>(ctr!, ['link', 'show', 'eth0']))[0]!.address, '02:aa:bb:cc:dd:01');
  t.deepEqual(addrs[0]!.addr_info.map((a) => `${a.local}/${a.prefixlen}`), ['10.40.0.11/24']);
  t.regex(await nsExec(ctr!, ['ip', 'route']), /default via 10\.40\.0\.1 dev eth0/);

  fx.behave({ containers: {} });
  const del = await fx.run('DEL', conf, id, ctr);
  t.is(del.exitCode, 0, del.stdout);
  const after = fx.requests().slice(reqs.length);
  t.deepEqual(after.map((r) => `${r.method} ${r.path}`), ['POST /del_cni_info', 'DELETE /vm/a1b2c3d4-e5f6-7890-abcd-ef0123456789']);
  t.is(after[0]!.body, JSON.stringify({ args: JSON.stringify(conf), cid: id, cmd: 'DEL' }));
  await nothingLeft(t, fx, id);
  t.deepEqual(await links(ctr!), [], 'the container end went with the tap');
  const again = await fx.run('DEL', conf, id, ctr);
  t.is(again.exitCode, 0, 'DEL twice');
  const noNs = await fx.run('DEL', conf, id);
  t.is(noNs.exitCode, 0, 'DEL without netns');
});

rootTest('the result in the config version: none and 0.2.0 give the ip4 form, 0.4.0 and 1.0.0 the current one; eth1 alone gets no default route', async (t) => {
  const fx = await fixture(t);
  for (const version of ['', '0.2.0', '0.4.0', '1.0.0']) {
    const [ctr] = await namespaces(t, 1, 'ctv');
    const id = uniq('ver');
    fx.behave({ containers: { [id]: { vmUuid: `vm-${id}`, interfaces: [iface(2)] } } });
    const add = await fx.run('ADD', fx.conf({}, version), id, ctr);
    t.is(add.exitCode, 0, add.stdout);
    const r = JSON.parse(add.stdout);
    if (version === '' || version === '0.2.0') t.deepEqual(r, { cniVersion: '0.2.0', ip4: { ip: '10.40.0.12/24', gateway: '10.40.0.1', routes: [{ dst: '0.0.0.0/0', gw: '10.40.0.1' }] }, dns: { nameservers: ['10.40.0.2'] } }, version);
    else t.is(r.cniVersion, version);
    t.is((await fx.run('DEL', fx.conf({}, version), id, ctr)).exitCode, 0);
  }
  const [ctr] = await namespaces(t, 1, 'ctv');
  const id = uniq('eth1');
  fx.behave({ containers: { [id]: { vmUuid: `vm-${id}`, interfaces: [iface(3, { annotations: ['{index:0/1}', '{interface:eth1}', '{network:default-domain:default:blue}'] })] } } });
  const add = await fx.run('ADD', fx.conf(), id, ctr);
  t.is(add.exitCode, 0, add.stdout);
  t.is(JSON.parse(add.stdout).interfaces[0].name, 'eth1', 'the interface annotation names the interface (a value with ":" parsed whole)');
  t.false('routes' in JSON.parse(add.stdout), 'default route only on eth0');
  t.notRegex(await nsExec(ctr!, ['ip', 'route']), /default/);
  t.is((await fx.run('DEL', fx.conf(), id, ctr)).exitCode, 0);
});

rootTest('vm-cfg: polled until i/N are all there; incomplete past poll-retries fails (PollVmCfg) leaving nothing and the manager told', async (t) => {
  const fx = await fixture(t);
  const [c1, c2] = await namespaces(t, 2, 'ctp');
  const two = [iface(4), iface(5, { annotations: ['{index:1/2}'] })];
  const ok = uniq('part');
  fx.behave({ containers: { [ok]: { vmUuid: `vm-${ok}`, interfaces: [{ ...two[0]!, annotations: ['{index:0/2}'] }, two[1]!], partial: 2 } } });
  const add = await fx.run('ADD', fx.conf(), ok, c1);
  t.is(add.exitCode, 0, add.stdout);
  t.is(fx.requests().filter((r) => r.path === `/vm-cfg/${ok}`).length, 3, 'two incomplete answers, then the complete one');
  t.deepEqual((await links(c1!)).sort(), ['eth0', 'eth1'], 'two interfaces: eth<index>');
  t.is((await fx.run('DEL', fx.conf(), ok, c1)).exitCode, 0);
  await nothingLeft(t, fx, ok);

  const bad = uniq('part');
  fx.behave({ containers: { [bad]: { vmUuid: `vm-${bad}`, interfaces: [{ ...two[0]!, annotations: ['{index:0/2}'] }, two[1]!], partial: 5 } } });
  const fail = await fx.run('ADD', fx.conf(), bad, c2);
  t.is(fail.exitCode, 1);
  t.regex(JSON.parse(fail.stdout).msg + JSON.parse(fail.stdout).details, /Failed in PollVmCfg\. Error : Iteration 2 : Get VRouter Incomplete - Interfaces Expected: 2, Actual: 1/);
  await nothingLeft(t, fx, bad);
  t.is(fx.requests().at(-1)!.path, '/del_cni_info', 'the manager is told to remove what it made');
});

rootTest('every failing step leaves nothing: manager non-200, manager timeout, POST /vm non-200, GET /vm failing, vm-cfg non-200', async (t) => {
  const fx = await fixture(t);
  const cases: [string, (id: string) => Behavior, RegExp][] = [
    ['manager 500', (id) => ({ manager: { status: 500 }, containers: { [id]: { vmUuid: `vm-${id}`, interfaces: [iface(6)] } } }), /Failed HTTP POST operation\. Return code 500/],
    ['manager slower than http-timeout', (id) => ({ manager: { delayMs: 4000 }, containers: { [id]: { vmUuid: `vm-${id}`, interfaces: [iface(6)] } } }), /no answer within 2000 ms/],
    ['vm-cfg 500', (id) => ({ containers: { [id]: { vmUuid: `vm-${id}`, interfaces: [iface(6)], vmCfgStatus: 500 } } }), /Failed in PollVmCfg\. Error : Failed HTTP Get operation\. Return code 500/],
    ['POST /vm 500', (id) => ({ postVmStatus: 500, containers: { [id]: { vmUuid: `vm-${id}`, interfaces: [iface(6)] } } }), /Failed HTTP Post operation\. Return code 500/],
    ['GET /vm 503', (id) => ({ containers: { [id]: { vmUuid: `vm-${id}`, interfaces: [iface(6)], vmStatus: 503 } } }), /Failed in PollVm\. Error : Failed HTTP Get operation\. Return code 503/],
  ];
  for (const [what, b, re] of cases) {
    const [ctr] = await namespaces(t, 1, 'ctf');
    const id = uniq('fail');
    fx.behave(b(id));
    const r = await fx.run('ADD', fx.conf(), id, ctr);
    t.is(r.exitCode, 1, what);
    const e = JSON.parse(r.stdout);
    t.regex(`${e.msg}: ${e.details ?? ''}`, re, what);
    await nothingLeft(t, fx, id);
    t.deepEqual(await links(ctr!), [], `${what}: nothing in the container`);
  }
});

rootTest('DEL: a port file of another container is a successful no-op; with the manager down the DEL succeeds and the manager is told later', async (t) => {
  const fx = await fixture(t);
  const [ctr] = await namespaces(t, 1, 'ctd');
  const id = uniq('del');
  fx.behave({ containers: { [id]: { vmUuid: `vm-${id}`, interfaces: [iface(7)] } } });
  t.is((await fx.run('ADD', fx.conf(), id, ctr)).exitCode, 0);
  const file = join(fx.dir, 'ports', id, iface(7).vmi);
  const original = readFileSync(file, 'utf8');
  writeFileSync(file, JSON.stringify({ ...JSON.parse(original), 'vm-id': 'someone-else' }));
  const stale = await fx.run('DEL', fx.conf(), id, ctr);
  t.is(stale.exitCode, 0);
  t.true((await links(fx.host)).some((n) => n.startsWith('tap')), 'stale DEL touched nothing');
  writeFileSync(file, original);

  fx.behave({ manager: { status: 500 }, containers: {} });
  const down = await fx.run('DEL', fx.conf(), id, ctr);
  t.is(down.exitCode, 0, down.stdout);
  await nothingLeft(t, fx, id);
  t.is(readdirSync(join(fx.dir, 'outbox')).length, 1, 'the manager DEL is kept');
  fx.behave({ containers: {} });
  const before = fx.requests().length;
  t.is((await fx.run('DEL', fx.conf(), uniq('other'), ctr)).exitCode, 0);
  const sent = fx.requests().slice(before).filter((r) => r.path === '/del_cni_info').map((r) => JSON.parse(r.body).cid);
  t.true(sent.includes(id), 'delivered by the next call');
  t.deepEqual(readdirSync(join(fx.dir, 'outbox')), []);
});

rootTest('CHECK finds what ADD made and names what went missing; GC deletes a container none of whose attachments is listed, the manager told', async (t) => {
  const fx = await fixture(t);
  const [ctr, other] = await namespaces(t, 2, 'ctk');
  const id = uniq('chk');
  const id2 = uniq('gc');
  fx.behave({ containers: { [id]: { vmUuid: 'c1c1c1c1-0000-0000-0000-000000000001', interfaces: [iface(1)] }, [id2]: { vmUuid: 'c2c2c2c2-0000-0000-0000-000000000002', interfaces: [iface(2)] } } });
  const conf = fx.conf({}, '0.4.0');
  const add = await fx.run('ADD', conf, id, ctr);
  t.is(add.exitCode, 0, add.stdout);
  t.is((await fx.run('ADD', conf, id2, other)).exitCode, 0);
  const checkConf = { ...conf, prevResult: JSON.parse(add.stdout) };
  const check = async () => {
    const r = await fx.run('CHECK', checkConf, id, ctr);
    return r.exitCode === 0 ? 'ok' : JSON.parse(r.stdout).msg;
  };
  t.is(await check(), 'ok');
  await nsExec(ctr!, ['ip', 'addr', 'del', '10.40.0.11/24', 'dev', 'eth0']);
  t.is(await check(), 'container interface eth0: address 10.40.0.11/24 missing');

  const gcConf = (valid?: object[]) => ({ ...fx.conf({}, '1.1.0'), ...(valid && { 'cni.dev/valid-attachments': valid }) });
  t.is((await fx.run('GC', gcConf(), '')).exitCode, 0);
  t.true(existsSync(join(fx.dir, 'ports', id2)), 'no list: nothing released');
  const before = fx.requests().length;
  const gc = await fx.run('GC', gcConf([{ containerID: id, ifname: 'eth0' }]), '');
  t.is(gc.exitCode, 0, gc.stdout + gc.stderr);
  t.false(existsSync(join(fx.dir, 'ports', id2)), 'the unlisted container: port files gone');
  t.true(existsSync(join(fx.dir, 'ports', id)), 'the listed one kept');
  t.deepEqual(await links(other!), [], 'its interface gone with its tap');
  t.deepEqual(fx.requests().slice(before).map((r) => `${r.method} ${r.path}`), ['POST /del_cni_info', 'DELETE /vm/c2c2c2c2-0000-0000-0000-000000000002']);
  t.is((await fx.run('DEL', conf, id, ctr)).exitCode, 0);
  await nothingLeft(t, fx, id);
});

rootTest('STATUS: ready while the manager and the vRouter agent answer; code 50 naming the one that does not', async (t) => {
  const fx = await fixture(t);
  t.is((await fx.run('STATUS', fx.conf({}, '1.1.0'), '')).exitCode, 0);
  const r = await fx.run('STATUS', fx.conf({ 'vrouter-port': 19099 }, '1.1.0'), '');
  t.is(r.exitCode, 1);
  t.like(JSON.parse(r.stdout), { code: 50, msg: 'vRouter agent 127.0.0.1:19099 unreachable' });
});

rootTest('config layering: defaults, then the first *contrail.conf file, then stdin; upstream key types enforced', async (t) => {
  const fx = await fixture(t);
  const confDir = join(fx.dir, 'net.d');
  const [ctr] = await namespaces(t, 1, 'ctl');
  const id = uniq('lay');
  fx.behave({ containers: { [id]: { vmUuid: `vm-${id}`, interfaces: [iface(8)] } } });
  rmSync(confDir, { recursive: true, force: true });
  const { mkdirSync } = await import('node:fs');
  mkdirSync(confDir);
  // The file gives the manager and agent; stdin names only the mode and paths.
  writeFileSync(join(confDir, '10-contrail.conf'), JSON.stringify({ cniVersion: '0.4.0', contrail: { 'mesos-ip': '127.0.0.1', 'mesos-port': '16991', 'vrouter-ip': '127.0.0.1', 'vrouter-port': 19091, 'poll-timeout': 0, 'poll-retries': 2 } }));
  writeFileSync(join(confDir, '20-contrail.conf'), '{not json');
  const stdin = { name: 'contrail-cni-plugin', type: 'contrail-cni-plugin', contrail: { mode: 'mesos', 'config-dir': join(fx.dir, 'ports'), 'outbox-dir': join(fx.dir, 'outbox') } };
  const add = await fx.run('ADD', stdin, id, ctr);
  t.is(add.exitCode, 0, add.stdout);
  t.is(JSON.parse(add.stdout).cniVersion, '0.4.0', "no cniVersion on stdin: the file's");
  t.is((await fx.run('DEL', stdin, id, ctr)).exitCode, 0);
  const bad = await fx.run('ADD', { ...stdin, contrail: { ...stdin.contrail, 'mesos-port': 16991 } }, uniq('lay'), ctr);
  t.is(bad.exitCode, 1);
  t.is(JSON.parse(bad.stdout).code, 7);
  t.regex(JSON.parse(bad.stdout).msg, /contrail\.mesos-port: expected a string like "6991"/);
  writeFileSync(join(confDir, '10-contrail.conf'), JSON.stringify({ contrail: { 'vrouter-port': '9091' } }));
  const badFile = await fx.run('ADD', stdin, uniq('lay'), ctr);
  t.regex(JSON.parse(badFile.stdout).msg, /contrail\.vrouter-port \(in .*10-contrail\.conf\): expected an integer/);
});
