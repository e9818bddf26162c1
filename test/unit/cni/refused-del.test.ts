// Input that no ADD accepts, found by the reliability suite to fail its DEL (so a runtime retries
// that DEL forever): a malformed CNI_ARGS, a key host-local refuses, a plugin `type` no
// executable can have. ADD refuses each; a DEL of each succeeds (InputError).
import test from 'ava';
import { findInPath, handle, InputError, type Plugin } from '../../../lib/cni/index.js';
import { parseEnv } from '../../../lib/cni/env.js';
import { parseConfig } from '../../../lib/plugins/host-local/config.js';

const plugin: Plugin = { type: 'fake', add: async () => ({ cniVersion: '1.1.0', ips: [] }), del: async () => {} };
const conf = Buffer.from('{"cniVersion":"1.0.0","name":"n","type":"fake"}');
const env = (cmd: string, args: string) => ({ CNI_COMMAND: cmd, CNI_CONTAINERID: 'c1', CNI_IFNAME: 'eth0', CNI_PATH: '/nonexistent', CNI_NETNS: '/nonexistent/netns', CNI_ARGS: args });

for (const args of [';;;', '=;;=', 'a', 'IgnoreUnknown=1;;']) {
  test(`CNI_ARGS ${JSON.stringify(args)}: ADD refused with code 4, DEL succeeds`, async (t) => {
    const add = await handle(plugin, env('ADD', args), conf);
    t.is(add.exitCode, 1);
    t.like(JSON.parse(add.stdout), { code: 4 });
    t.deepEqual(await handle(plugin, env('DEL', args), conf), { stdout: '', exitCode: 0 });
  });
}

test("host-local: a CNI_ARGS key it does not know (without IgnoreUnknown) is refused input", (t) => {
  const e = parseEnv(env('DEL', 'FOO=1'));
  const err = t.throws(() => parseConfig({ cniVersion: '1.0.0', name: 'n', ipam: { type: 'host-local', subnet: '10.0.0.0/24', dataDir: '/nonexistent' } } as never, e));
  t.true(err instanceof InputError, String(err));
});

test('a plugin type no executable can have is refused input (a DEL through it succeeds)', async (t) => {
  for (const type of ['{}', '../bridge', '', 'a\nb', 'x'.repeat(200)]) {
    const err = await t.throwsAsync(findInPath(type, ['/nonexistent']));
    t.true(err instanceof InputError, `${JSON.stringify(type)}: ${String(err)}`);
  }
});
