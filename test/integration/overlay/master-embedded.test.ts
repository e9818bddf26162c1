// The master's HTTP API for real on the embedded store (a master process on a loopback port):
// upstream's endpoints and codes, the agent protocol, watches, restart recovery (upstream
// ROOT_checkMasterRecovery), kill -9 at random points of a write, and a conflicting state refused.
import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { parseMasterConfig } from '../../../lib/overlay/master/config.js';
import { startMaster, type RunningMaster } from '../../../lib/overlay/master/server.js';
import { readSnapshot } from '../../../lib/overlay/master/store/embedded.js';
import { fixtureNetwork } from '../../helpers/overlay/master.js';
import { record } from '../../helpers/overlay/writer.js';

const log = pino({ level: 'silent' });

async function master(t: import('ava').ExecutionContext, dir: string, network = fixtureNetwork()): Promise<RunningMaster> {
  const m = await startMaster(await parseMasterConfig({ network, replicated_log_dir: dir, listen: '127.0.0.1:0' }), log);
  t.teardown(() => m.stop());
  return m;
}

function tmp(t: import('ava').ExecutionContext): string {
  const d = mkdtempSync(join(tmpdir(), 'om-emb-'));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

async function call(m: RunningMaster, method: string, path: string, body?: unknown) {
  const r = await fetch(`http://127.0.0.1:${m.port}${path}`, { method, ...(body !== undefined && { body: typeof body === 'string' ? body : JSON.stringify(body) }) });
  const text = await r.text();
  return { status: r.status, headers: r.headers, text, json: () => JSON.parse(text) };
}

test('upstream checkMasterAgentComm / checkMasterAgentDeletion over HTTP: state, register, status, delete codes', async (t) => {
  const m = await master(t, tmp(t));
  const s0 = await call(m, 'GET', '/overlay-master/state');
  t.is(s0.status, 200);
  t.is(s0.headers.get('content-type'), 'application/json');
  t.deepEqual(s0.json(), { network: { vtep_subnet: '44.128.0.0/16', vtep_mac_oui: '70:B3:D5:00:00:00', overlays: [{ name: 'mz-overlay', subnet: '192.168.0.0/16', prefix: 24, subnet6: 'fd02::/64', prefix6: 80, enabled: true }], vtep_subnet6: 'fd03::/64' }, agents: [] });
  t.is((await call(m, 'GET', '/overlay-master/state?jsonp=cb')).text.slice(0, 3), 'cb(');
  const reg = await call(m, 'POST', '/overlay-master/agents/register', { ip: '10.0.0.1', network_config: { mesos_bridge: false, docker_bridge: false } });
  t.is(reg.status, 200);
  const info = reg.json();
  t.is(info.overlays[0].subnet, '192.168.0.0/24');
  t.is(info.overlays[0].subnet6, 'fd02::/80');
  t.is((await call(m, 'POST', '/overlay-master/agents/status', { ip: '10.0.0.1', overlays: [{ info: { name: 'mz-overlay' }, state: { status: 'STATUS_OK' } }] })).status, 200);
  const s1 = (await call(m, 'GET', '/overlay-master/state')).json();
  t.deepEqual(s1.agents[0].overlays[0].state, { status: 'STATUS_OK' });
  // Bad inputs: each a clear 4xx, the daemon unharmed.
  t.regex((await call(m, 'POST', '/overlay-master/agents/register', '{')).json().error, /^body: not valid JSON/);
  t.is((await call(m, 'POST', '/overlay-master/agents/register', { ip: 'fd00::1' })).status, 400);
  t.is((await call(m, 'POST', '/overlay-master/agents/register', { ip: '10.0.0.2', network_config: { mesos_bridge: 'yes' } })).json().error, 'network_config.mesos_bridge: expected true or false, got "yes"');
  t.is((await call(m, 'POST', '/overlay-master/agents/status', { ip: '10.9.9.9', overlays: [] })).status, 404);
  t.is((await call(m, 'POST', '/overlay-master/agents/status', { ip: '10.0.0.1', overlays: [{ info: { name: 'nope' }, state: { status: 'STATUS_OK' } }] })).status, 400);
  t.is((await call(m, 'POST', '/overlay-master/agents/status', { ip: '10.0.0.1', overlays: [{ info: { name: 'mz-overlay' }, state: { status: 'GOOD' } }] })).status, 400);
  t.is((await call(m, 'GET', '/nope')).status, 404);
  // agents/delete: 405 (Allow: POST), 400 for every malformed body, 200 with the new state.
  const g = await call(m, 'GET', '/overlay-master/agents/delete');
  t.is(g.status, 405);
  t.is(g.headers.get('allow'), 'POST');
  for (const b of ['{', '{}', '{"agents":"10.0.0.1"}', '{"agents":[1]}', '{"agents":["fd00::1"]}', '[]']) t.is((await call(m, 'POST', '/overlay-master/agents/delete', b)).status, 400, b);
  for (let k = 0; k < 2; k++) {
    const d = await call(m, 'POST', '/overlay-master/agents/delete', { agents: ['10.0.0.1'] });
    t.is(d.status, 200);
    t.deepEqual(d.json().agents, []);
  }
  const again = await call(m, 'POST', '/overlay-master/agents/register', { ip: '10.0.0.1', network_config: { mesos_bridge: false, docker_bridge: false } });
  t.deepEqual(again.json(), info);
  t.regex((await call(m, 'GET', '/metrics')).text, /overlay_master_agents 1\n/);
});

test('watch: a change reaches parked watchers as a delta of that agent only; an unknown epoch gets everything', async (t) => {
  const m = await master(t, tmp(t));
  for (let i = 1; i <= 20; i++) await call(m, 'POST', '/overlay-master/agents/register', { ip: `10.0.0.${i}` });
  const full = (await call(m, 'GET', '/overlay-master/watch')).json();
  t.true(full.full);
  t.is(full.agents.length, 20);
  const parked = Array.from({ length: 50 }, () => call(m, 'GET', `/overlay-master/watch?epoch=${full.epoch}&version=${full.version}&timeout_ms=20000`));
  // Their failure (if this test fails first) is this test's, not an unhandled rejection.
  const settled = Promise.allSettled(parked);
  t.teardown(() => settled.then(() => {}));
  // Every watch parked (under a loaded test run, connecting takes a while).
  for (let k = 0; k < 200 && m.master.watch.watchers < 50; k++) await new Promise((r) => setTimeout(r, 50));
  t.is(m.master.watch.watchers, 50);
  await call(m, 'POST', '/overlay-master/agents/register', { ip: '10.0.1.1' });
  for (const p of await Promise.all(parked)) {
    const d = p.json();
    t.false(d.full);
    t.is(d.version, full.version + 1);
    t.deepEqual(d.agents.map((a: { ip: string }) => a.ip), ['10.0.1.1']);
  }
  await call(m, 'POST', '/overlay-master/agents/delete', { agents: ['10.0.0.3'] });
  const del = (await call(m, 'GET', `/overlay-master/watch?epoch=${full.epoch}&version=${full.version + 1}`)).json();
  t.deepEqual(del.deleted, ['10.0.0.3']);
  const idle = await call(m, 'GET', `/overlay-master/watch?epoch=${full.epoch}&version=${del.version}&timeout_ms=100`);
  t.deepEqual(idle.json().agents, []);
  t.is((await call(m, 'GET', '/overlay-master/watch?version=x')).status, 400);
});

test('upstream ROOT_checkMasterRecovery: a restarted master serves the same allocation', async (t) => {
  const dir = tmp(t);
  const m1 = await master(t, dir);
  const before = (await call(m1, 'POST', '/overlay-master/agents/register', { ip: '10.0.0.7' })).json();
  await m1.stop();
  const m2 = await master(t, dir);
  t.deepEqual((await call(m2, 'GET', '/overlay-master/state')).json().agents, [before]);
  t.deepEqual((await call(m2, 'POST', '/overlay-master/agents/register', { ip: '10.0.0.7' })).json(), before);
});

test('a stored state that conflicts with the config is refused (503 with the reason), never overwritten', async (t) => {
  const dir = tmp(t);
  const m1 = await master(t, dir);
  await call(m1, 'POST', '/overlay-master/agents/register', { ip: '10.0.0.7' });
  await m1.stop();
  const { readFileSync } = await import('node:fs');
  const file = join(dir, 'overlay-master.json');
  const text = readFileSync(file, 'utf8');
  const m2 = await master(t, dir, fixtureNetwork({ overlays: [{ name: 'other', subnet: '9.0.0.0/8', prefix: 24 }] }));
  const r = await call(m2, 'POST', '/overlay-master/agents/register', { ip: '10.0.0.8' });
  t.is(r.status, 503);
  t.is(r.json().error, "refusing to serve: recover agent 10.0.0.7: holds overlay 'mz-overlay', which is no longer configured");
  t.is(readFileSync(file, 'utf8'), text);
});

test('kill -9 at random points of a write: the file holds the old state or the new one, never a torn one', async (t) => {
  const dir = tmp(t);
  const writer = fileURLToPath(new URL('../../helpers/overlay/writer.js', import.meta.url));
  for (let round = 0; round < 12; round++) {
    const p = spawn(process.execPath, [writer, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    let last = 0;
    let start = -1;
    let first!: () => void;
    const started = new Promise<void>((r) => (first = r));
    p.stdout!.on('data', (d: Buffer) => {
      for (const m of d.toString().matchAll(/committed (\d+)/g)) last = Number(m[1]);
      if (start < 0) start = last - 1;
      first();
    });
    const exit = new Promise((r) => p.once('close', r)); // its last "committed" line read too
    // Kill at a random moment once it writes (its start-up time varies with the machine's load).
    await Promise.race([started, exit]);
    await new Promise((r) => setTimeout(r, Math.random() * 150));
    p.kill('SIGKILL');
    await exit;
    const snap = await readSnapshot(dir);
    t.truthy(snap, `round ${round}`);
    const v = snap!.version;
    // Old or new: the last acknowledged write, or the one in flight when the kill came.
    t.true(v === last || v === last + 1, `round ${round}: version ${v}, last acknowledged ${last}`);
    t.deepEqual(snap!.agents, Array.from({ length: Math.min(v, 300) }, (_, j) => record(j + 1, v)), `round ${round}: content of version ${v}`);
    t.true(last > start, `round ${round}: the writer made progress`);
  }
  writeFileSync(join(dir, 'overlay-master.json'), '{"format":"mesos-overlay-master/1","version":1,"agents":[');
  await t.throwsAsync(readSnapshot(dir), { message: /not valid JSON/ });
});
