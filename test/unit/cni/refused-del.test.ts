// Input that no ADD accepts, found by the reliability suite to fail its DEL (so a runtime retries
// that DEL forever): a malformed CNI_ARGS, a key host-local refuses, a plugin `type` no
// executable can have. ADD refuses each; a DEL of each succeeds (InputError).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

test('dcos-l4lb: a delegate type no executable can have, or none, is refused input through its wrapper (its DEL succeeds)', async (t) => {
  const { plugin: l4lb } = await import('../../../lib/plugins/dcos-l4lb/index.js');
  const dir = mkdtempSync(join(tmpdir(), 'mcni-rd-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const type of ['\t', '{}', undefined]) {
    const conf = Buffer.from(JSON.stringify({ cniVersion: '1.1.0', name: 'n', type: 'dcos-l4lb', spartan: false, minuteman: { path: join(dir, 'mm') }, delegate: { type, bridge: 'b' } }));
    const env = { CNI_COMMAND: 'DEL', CNI_CONTAINERID: 'c1', CNI_IFNAME: 'eth0', CNI_PATH: '/nonexistent' };
    t.deepEqual(await handle(l4lb, env, conf), { stdout: '', exitCode: 0 }, JSON.stringify(type));
  }
});
