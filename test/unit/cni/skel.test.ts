// The plugin main loop as data: env + stdin in, one JSON document out.
import test from 'ava';
import { CniError, handle, type Plugin } from '../../../lib/cni/index.js';

const calls: string[] = [];
const plugin: Plugin = {
  type: 'fake',
  async add(ctx) {
    calls.push(`ADD ${ctx.env.containerId}`);
    return { cniVersion: '1.1.0', ips: [{ address: '10.0.0.2/24', gateway: '10.0.0.1' }], routes: [{ dst: '0.0.0.0/0' }] };
  },
  async del(ctx) {
    calls.push(`DEL ${ctx.env.containerId}`);
  },
};
const failing: Plugin = {
  type: 'failing',
  async add() {
    throw new Error('boom');
  },
  async del() {},
};

const env = (cmd: string) => ({ CNI_COMMAND: cmd, CNI_CONTAINERID: 'c1', CNI_IFNAME: 'eth0', CNI_PATH: '/nonexistent' });

test('VERSION answers without a config', async (t) => {
  const a = await handle(plugin, { CNI_COMMAND: 'VERSION' }, Buffer.alloc(0));
  t.is(a.exitCode, 0);
  t.deepEqual(JSON.parse(a.stdout), { cniVersion: '1.1.0', supportedVersions: ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] });
});

test('VERSION answers with the config version when given', async (t) => {
  const b = await handle(plugin, { CNI_COMMAND: 'VERSION' }, Buffer.from('{"cniVersion":"0.4.0"}'));
  t.is(JSON.parse(b.stdout).cniVersion, '0.4.0');
});

test('DEL without netns dispatches and prints nothing', async (t) => {
  const r = await handle(plugin, env('DEL'), Buffer.from('{"cniVersion":"1.0.0","name":"n","type":"fake"}'));
  t.deepEqual(r, { stdout: '', exitCode: 0 });
  t.true(calls.includes('DEL c1'));
});

const addEnv = { ...env('ADD'), CNI_NETNS: '/nonexistent/netns' };

test('bad JSON on stdin is code 6', async (t) => {
  const a = await handle(plugin, addEnv, Buffer.from('{nope'));
  t.is(a.exitCode, 1);
  t.like(JSON.parse(a.stdout), { code: 6, msg: 'error decoding network config from stdin' });
});

test('a config that is not a JSON object is code 7', async (t) => {
  const b = await handle(plugin, addEnv, Buffer.from('[1]'));
  t.like(JSON.parse(b.stdout), { code: 7 });
});

test('an unsupported config version is code 1 with the supported list', async (t) => {
  const r = await handle({ ...plugin, supportedVersions: ['0.3.1'] }, addEnv, Buffer.from('{"cniVersion":"1.0.0","type":"fake"}'));
  t.like(JSON.parse(r.stdout), { code: 1, msg: 'incompatible CNI versions; config is "1.0.0", plugin supports ["0.3.1"]' });
});

// What ADD refuses for what it is can never have been attached: its DEL succeeds, doing nothing.
const refusedInputs: [string, Record<string, string>, string][] = [
  ['bad JSON', {}, '{nope'],
  ['a non-object config', {}, '[1]'],
  ['an unsupported config version', {}, '{"cniVersion":"9.9.9","type":"fake"}'],
  ['a container ID with a quote', { CNI_CONTAINERID: 'a"b' }, '{"type":"fake"}'],
  ['a container ID of 242 characters', { CNI_CONTAINERID: 'a'.repeat(242) }, '{"type":"fake"}'],
  ["an interface name with '%'", { CNI_IFNAME: 'eth%d' }, '{"type":"fake"}'],
  ['an interface name of 16 characters', { CNI_IFNAME: 'x'.repeat(16) }, '{"type":"fake"}'],
  ['a config the plugin refuses', {}, '{"type":"fake","bad":true}'],
];
/** A plugin that refuses `bad: true` in its config and counts every call that reaches it. */
function picky(): { plugin: Plugin; reached: () => number } {
  let reached = 0;
  const p: Plugin = {
    type: 'picky',
    validate(conf) {
      if (conf.bad) throw new CniError(7, 'bad: expected nothing');
    },
    add: async () => (reached++, { cniVersion: '1.1.0' }),
    del: async () => void reached++,
  };
  return { plugin: p, reached: () => reached };
}
for (const [what, vars, stdin] of refusedInputs) {
  test(`DEL of ${what} succeeds without running the plugin`, async (t) => {
    const p = picky();
    t.deepEqual(await handle(p.plugin, { ...env('DEL'), ...vars }, Buffer.from(stdin)), { stdout: '', exitCode: 0 });
    t.is(p.reached(), 0, 'DEL did not reach the plugin');
  });

  test(`ADD of ${what} is refused without running the plugin`, async (t) => {
    const p = picky();
    const add = await handle(p.plugin, { ...addEnv, ...vars }, Buffer.from(stdin));
    t.is(add.exitCode, 1);
    t.true(JSON.parse(add.stdout).code > 0);
    t.is(p.reached(), 0, 'ADD did not reach the plugin');
  });
}

test('a DEL missing a required variable is still an error (the call is malformed, not its input)', async (t) => {
  const { CNI_CONTAINERID: _, ...noId } = env('DEL');
  const r = await handle(plugin, noId, Buffer.from('{"type":"fake"}'));
  t.like(JSON.parse(r.stdout), { code: 4, msg: 'required env variables [CNI_CONTAINERID] missing' });
});

test('CHECK is refused for configs older than 0.4.0', async (t) => {
  const old = await handle(plugin, { ...env('CHECK'), CNI_NETNS: '/x' }, Buffer.from('{"cniVersion":"0.3.1","type":"fake"}'));
  t.like(JSON.parse(old.stdout), { code: 1, msg: 'config version does not allow CHECK' });
});

test('errors are one JSON document {cniVersion, code, msg} with exit status 1', async (t) => {
  const r = await handle(failing, { ...env('ADD'), CNI_NETNS: '/nonexistent/ns' }, Buffer.from('{"cniVersion":"1.0.0","type":"failing"}'));
  t.is(r.exitCode, 1);
  const doc = JSON.parse(r.stdout);
  t.deepEqual(Object.keys(doc).sort(), ['cniVersion', 'code', 'details', 'msg']);
  t.is(doc.cniVersion, '1.0.0');
  t.is(doc.code, 4);
  t.is(r.stdout.trim().split('\n').length, 1);
});

const strict: Plugin = {
  ...plugin,
  preflight(env) {
    if (!env.CNI_CONTAINERID) throw new CniError(101, "Unable to find environment variable 'CNI_CONTAINERID'");
  },
};

test('a plugin preflight answers bad input before the generic checks', async (t) => {
  const r = await handle(strict, { CNI_COMMAND: 'ADD' }, Buffer.from('{}'));
  t.like(JSON.parse(r.stdout), { code: 101, msg: "Unable to find environment variable 'CNI_CONTAINERID'" });
});

test('VERSION needs no preflight', async (t) => {
  const v = await handle(strict, { CNI_COMMAND: 'VERSION' }, Buffer.alloc(0));
  t.is(v.exitCode, 0, 'VERSION needs no preflight');
});

test('no CNI_COMMAND: the about text and versions on stderr, nothing on stdout, exit 0 (libcni skel)', async (t) => {
  const r = await handle(plugin, {}, Buffer.alloc(0));
  t.is(r.exitCode, 0);
  t.is(r.stdout, '');
  t.regex(r.stderr!, /^CNI fake plugin \(mesos-cni\)\nCNI protocol versions supported: 0\.1\.0, .*1\.1\.0\n$/);
});

test('STATUS and GC of a plugin without handlers succeed (libcni skel); they need a 1.1.0 config; GC hands the plugin the valid attachments', async (t) => {
  const conf = (v: string, extra = {}) => Buffer.from(JSON.stringify({ cniVersion: v, name: 'n', type: 'fake', ...extra }));
  t.deepEqual(await handle(plugin, { CNI_COMMAND: 'STATUS' }, conf('1.1.0')), { stdout: '', exitCode: 0 });
  t.deepEqual(await handle(plugin, { CNI_COMMAND: 'GC', CNI_PATH: '/p' }, conf('1.1.0')), { stdout: '', exitCode: 0 });
  t.like(JSON.parse((await handle(plugin, { CNI_COMMAND: 'STATUS' }, conf('1.0.0'))).stdout), { code: 1 });
  let seen: unknown = 'unset';
  const collector: Plugin = { ...plugin, type: 'collector', async gc(ctx) { seen = ctx.validAttachments?.list; } };
  await handle(collector, { CNI_COMMAND: 'GC', CNI_PATH: '/p' }, conf('1.1.0'));
  t.is(seen, undefined, 'no list: the plugin is told nothing');
  await handle(collector, { CNI_COMMAND: 'GC', CNI_PATH: '/p' }, conf('1.1.0', { 'cni.dev/valid-attachments': [{ containerID: 'c', ifname: 'eth0' }] }));
  t.deepEqual(seen, [{ containerID: 'c', ifname: 'eth0' }]);
  const bad = await handle(collector, { CNI_COMMAND: 'GC', CNI_PATH: '/p' }, conf('1.1.0', { 'cni.dev/valid-attachments': 'all' }));
  t.like(JSON.parse(bad.stdout), { code: 7 });
  const failing: Plugin = { ...plugin, type: 'down', async status() { throw new CniError(50, 'not ready'); } };
  t.like(JSON.parse((await handle(failing, { CNI_COMMAND: 'STATUS' }, conf('1.1.0'))).stdout), { code: 50, msg: 'not ready' });
});

test('CNI_ARGS a plugin does not read cannot fail it; cniArgs() refuses them where read (code 4)', async (t) => {
  const r = await handle(plugin, { ...env('DEL'), CNI_ARGS: 'not-a-pair' }, Buffer.from('{"cniVersion":"1.0.0","name":"n","type":"fake"}'));
  t.is(r.exitCode, 0, r.stdout);
});
