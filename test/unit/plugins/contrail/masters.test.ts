// contrail.master in local mode: the overlay agent's forms and parser (host:port, a list, zk://,
// file://), the stored form port records keep (no credentials), every malformed value code 7 naming
// the field, and a ZooKeeper that does not answer code 11 naming it, within the bound, with nothing
// left open. (ZooKeeper with masters, and without a leader: test/integration/overlay/master-zk-contrail.test.ts.)
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CniError, InputError } from '../../../../lib/cni/errors.js';
import { parseMaster } from '../../../../lib/overlay/agent/config.js';
import { loadConfig } from '../../../../lib/plugins/contrail/config.js';
import { MasterLookup, masterTargets, parseMasters } from '../../../../lib/plugins/contrail/local/masters.js';

const none = { MESOS_CNI_CONTRAIL_CONF_DIR: '/nonexistent-contrail-conf-dir' };
const load = (master: unknown) => loadConfig({ type: 'contrail-cni-plugin', contrail: { master } }, none);
/** Nothing listens on port 1: ZooKeeper "unreachable" without waiting for a network timeout. */
const DOWN = 'zk://127.0.0.1:1/x';

test('host:port, a comma list (IPv6 in brackets), zk:// with or without a path: the agent\'s forms', (t) => {
  t.like(load('10.0.0.1:5055'), { master: ['10.0.0.1:5055'], masterSpec: { kind: 'static', addrs: ['10.0.0.1:5055'] } });
  t.deepEqual(load(' a:1, [fd00::1]:5055 ').master, ['a:1', '[fd00::1]:5055']);
  const zk = load('zk://ctl:secret@10.0.0.1:2181,10.0.0.2:2181/mesos');
  t.deepEqual(zk.master, ['zk://10.0.0.1:2181,10.0.0.2:2181/mesos'], 'what port records keep: no credentials');
  t.like(zk.masterSpec, { kind: 'zk', display: 'zk://***@10.0.0.1:2181,10.0.0.2:2181/mesos', zk: { servers: '10.0.0.1:2181,10.0.0.2:2181', root: '/mesos/overlay-master', auth: 'ctl:secret' } });
  t.deepEqual(load('zk://z:2181').master, ['zk://z:2181']);
  t.like(load('zk://z:2181/').masterSpec, { zk: { root: '/overlay-master' } });
});

test('file://: its content is one of the other forms (read when the config is)', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cmaster-'));
  writeFileSync(join(dir, 'zk'), 'zk://10.0.0.9:2181/mesos\n');
  writeFileSync(join(dir, 'list'), '10.0.0.1:5055,10.0.0.2:5055');
  t.deepEqual(load(`file://${join(dir, 'zk')}`).master, ['zk://10.0.0.9:2181/mesos']);
  t.deepEqual(load(`file://${join(dir, 'list')}`).master, ['10.0.0.1:5055', '10.0.0.2:5055']);
});

test('the same parser as the agent: every form gives the agent\'s MasterSpec', async (t) => {
  for (const v of ['m:5055', 'a:1,b:2', '[::1]:5055', 'zk://u:p@h1:2181,h2:2181/a/b', 'zk://h:2181']) {
    t.deepEqual(parseMasters(v, 'contrail.master').spec, await parseMaster(v), v);
  }
});

test('a malformed value: code 7 naming contrail.master and what was expected', (t) => {
  const cases: [unknown, RegExp][] = [
    ['master@10.0.0.1', /^contrail\.master: expected "host:port", a comma-separated list of them, "zk:\/\/host:port\[,host:port\.\.\.\]\/path" or "file:\/\/PATH", got "master@10\.0\.0\.1"$/],
    ['', /^contrail\.master: expected "host:port", .* got ""$/],
    ['a:1,', /^contrail\.master: expected "host:port", .* got "a:1,"$/],
    ['a:0', /^contrail\.master: expected "host:port", .* got "a:0"$/],
    ['http://a:1', /^contrail\.master: expected "host:port", .* got "http:\/\/a:1"$/],
    ['zk://', /^contrail\.master: Error parsing ZooKeeper URL: expected zk:\/\/\[user:password@\]host:port\[,host:port\.\.\.\]\[\/path\], got "zk:\/\/"$/],
    ['zk://h/mesos', /^contrail\.master: Error parsing ZooKeeper URL: expected zk:\/\//],
    ['zk://h:2181/a/@b', /^contrail\.master: Error parsing ZooKeeper URL: bad path "\/a\/@b"$/],
    [5055, /^contrail\.master: expected a string, got 5055$/],
  ];
  for (const [v, re] of cases) {
    const e = t.throws(() => load(v), { message: re }, JSON.stringify(v));
    t.true(e instanceof InputError, `${JSON.stringify(v)}: an input error (a DEL with it succeeds)`);
    t.is((e as CniError).code, 7, JSON.stringify(v));
  }
});

test('file:// whose file cannot be read: code 5 naming contrail.master, not an input error (a DEL must not answer success for it)', (t) => {
  const e = t.throws(() => load('file:///nonexistent/master'), { message: /^contrail\.master: Error reading master configuration file '\/nonexistent\/master': ENOENT/ });
  t.is((e as CniError).code, 5);
  t.false(e instanceof InputError);
});

test('a list is called as it is: no ZooKeeper', async (t) => {
  const m = parseMasters('a:1,b:2', 'contrail.master');
  t.deepEqual(await new MasterLookup(m.spec, 100).targets(m.stored), ['a:1', 'b:2']);
  t.deepEqual(await masterTargets('a:1', { timeoutMs: 100 }), ['a:1']);
});

test('ZooKeeper not answering: code 11 naming contrail.master, after http-timeout, asked once per run', async (t) => {
  const m = parseMasters(DOWN, 'contrail.master');
  const lookup = new MasterLookup(m.spec, 1000);
  const t0 = performance.now();
  const e = await t.throwsAsync(lookup.targets(m.stored));
  const ms = performance.now() - t0;
  t.true(e instanceof CniError);
  t.like(e, { code: 11, msg: 'contrail.master: ZooKeeper at zk://127.0.0.1:1/x: no session within 1000 ms' });
  t.true(ms >= 990 && ms < 3000, `${ms} ms`);
  const t1 = performance.now();
  await t.throwsAsync(lookup.targets(m.stored), { message: /^contrail\.master: ZooKeeper at/ });
  t.true(performance.now() - t1 < 500, 'the same answer, not a second wait');
});

test('a stored target that is not a ZooKeeper URL any more: code 7 naming contrail.master', async (t) => {
  const lookup = new MasterLookup(parseMasters('a:1', 'contrail.master').spec, 100);
  const e = await t.throwsAsync(lookup.targets(['zk://nohost/x']), { message: /^contrail\.master: Error parsing ZooKeeper URL/ });
  t.is((e as CniError).code, 7);
});

test('for `mesos-cni contrail --master`: the same forms and errors, naming --master', async (t) => {
  await t.throwsAsync(masterTargets('bogus', { timeoutMs: 100 }), { message: /^--master: expected "host:port"/ });
  await t.throwsAsync(masterTargets(DOWN, { timeoutMs: 200 }), { message: '--master: ZooKeeper at zk://127.0.0.1:1/x: no session within 200 ms' });
});

test('the lookup leaves nothing open: a process that only failed to look up ends at once', async (t) => {
  const mod = fileURLToPath(new URL('../../../../lib/plugins/contrail/local/masters.js', import.meta.url));
  const code = `import { masterTargets } from ${JSON.stringify(mod)};\nconst t0 = Date.now();\nmasterTargets(${JSON.stringify(DOWN)}, { timeoutMs: 300 }).catch((e) => console.log(e.code));\nprocess.on('exit', () => console.log(Date.now() - t0));`;
  const r = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', code], { timeout: 10_000 });
  const [errCode, ms] = r.stdout.trim().split('\n');
  t.is(errCode, '11');
  t.true(Number(ms) < 1500, `the process ended ${ms} ms after it started (bound 300 ms)`);
});
