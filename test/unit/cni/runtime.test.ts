// The runtime side over fake executables: the version a list runs with (cniVersion, cniVersions),
// the config each plugin gets (no `capabilities` key), disableCheck, disableGC, STATUS and GC.
import test from 'ava';
import { CniError } from '../../../lib/cni/errors.js';
import type { ExecResult, PluginExec } from '../../../lib/cni/invoke.js';
import { asList, checkList, gcList, listVersion, statusList, type Attachment } from '../../../lib/cni/runtime.js';

function fakeExec(answer: (type: string, env: Record<string, string>) => ExecResult = () => ({ stdout: '', stderr: '', exitCode: 0 })) {
  const seen: { type: string; env: Record<string, string>; conf: Record<string, unknown> }[] = [];
  const x: PluginExec = {
    async find(type) {
      return `/fake/${type}`;
    },
    async exec(file, env, stdin) {
      const type = file.slice('/fake/'.length);
      seen.push({ type, env, conf: JSON.parse(stdin) });
      return answer(type, env);
    },
    async ownType() {
      return undefined;
    },
  };
  return { x, seen };
}

const att: Attachment = { containerId: 'c1', netns: '/x', ifname: 'eth0', path: ['/p'], capabilityArgs: { portMappings: [{ hostPort: 1, containerPort: 2 }] } };

test('cniVersions: the highest version the runtime speaks, whichever key holds it; unknown ones skipped', (t) => {
  t.is(listVersion({ cniVersion: '0.4.0', cniVersions: ['1.0.0', '1.1.0', '9.9.9'] }), '1.1.0');
  t.is(listVersion({ cniVersions: ['0.3.1'] }), '0.3.1');
  t.is(listVersion({}), undefined);
  t.like(t.throws(() => listVersion({ cniVersions: ['9.9.9'] })), { code: 7 });
  t.like(t.throws(() => listVersion({ cniVersions: '1.1.0' })), { code: 7, message: 'cniVersions: expected an array of version strings, got "1.1.0"' });
  t.is(asList({ name: 'n', cniVersions: ['1.0.0', '1.1.0'], plugins: [{ type: 'a' }] }).cniVersion, '1.1.0');
  t.like(t.throws(() => asList({ name: 'n', disableGC: 'yes', plugins: [{ type: 'a' }] })), { code: 7, message: 'disableGC: expected true or false, got "yes"' });
});

test('each plugin gets name and version injected, runtimeConfig from its capabilities, and no capabilities key', async (t) => {
  const { x, seen } = fakeExec();
  const list = asList({ cniVersion: '1.1.0', name: 'net', plugins: [{ type: 'a', capabilities: { portMappings: true, ips: true } }, { type: 'b' }] });
  await checkList(list, att, { cniVersion: '1.1.0' }, { exec: x });
  t.deepEqual(seen[0]!.conf, { type: 'a', name: 'net', cniVersion: '1.1.0', prevResult: { cniVersion: '1.1.0' }, runtimeConfig: { portMappings: [{ hostPort: 1, containerPort: 2 }] } });
  t.false('capabilities' in seen[0]!.conf);
  t.false('runtimeConfig' in seen[1]!.conf, 'no capability declared, none given');
});

test('disableCheck: CHECK runs nothing', async (t) => {
  const { x, seen } = fakeExec(() => ({ stdout: '{"code":3,"msg":"gone"}', stderr: '', exitCode: 1 }));
  await checkList(asList({ cniVersion: '1.1.0', name: 'n', disableCheck: true, plugins: [{ type: 'a' }] }), att, undefined, { exec: x });
  t.is(seen.length, 0);
  await t.throwsAsync(checkList(asList({ cniVersion: '1.1.0', name: 'n', plugins: [{ type: 'a' }] }), att, undefined, { exec: x }), { instanceOf: CniError });
});

test('STATUS: every plugin in order with CNI_COMMAND and CNI_PATH only; nothing for a list older than 1.1.0; the first error thrown', async (t) => {
  const { x, seen } = fakeExec((type) => (type === 'b' ? { stdout: '{"code":50,"msg":"not ready"}', stderr: '', exitCode: 1 } : { stdout: '', stderr: '', exitCode: 0 }));
  await statusList(asList({ cniVersion: '1.0.0', name: 'n', plugins: [{ type: 'a' }] }), ['/p'], { exec: x, baseEnv: {} });
  t.is(seen.length, 0);
  const e = await t.throwsAsync(statusList(asList({ cniVersion: '1.1.0', name: 'n', plugins: [{ type: 'a' }, { type: 'b' }, { type: 'c' }] }), ['/p'], { exec: x, baseEnv: {} }));
  t.like(e, { code: 50, msg: 'not ready' });
  t.deepEqual(seen.map((s) => s.type), ['a', 'b']);
  t.deepEqual(seen[0]!.env, { CNI_COMMAND: 'STATUS', CNI_PATH: '/p' });
});

test('GC: every plugin gets the valid attachments, even after one fails; disableGC and old lists run nothing', async (t) => {
  const { x, seen } = fakeExec((type) => (type === 'a' ? { stdout: '{"code":100,"msg":"no"}', stderr: '', exitCode: 1 } : { stdout: '', stderr: '', exitCode: 0 }));
  const valid = [{ containerID: 'c1', ifname: 'eth0' }];
  await gcList(asList({ cniVersion: '1.1.0', name: 'n', disableGC: true, plugins: [{ type: 'a' }] }), ['/p'], valid, { exec: x });
  await gcList(asList({ cniVersion: '1.0.0', name: 'n', plugins: [{ type: 'a' }] }), ['/p'], valid, { exec: x });
  t.is(seen.length, 0);
  await t.throwsAsync(gcList(asList({ cniVersion: '1.1.0', name: 'n', plugins: [{ type: 'a' }, { type: 'b' }] }), ['/p'], valid, { exec: x, baseEnv: {} }), { message: 'no' });
  t.deepEqual(seen.map((s) => s.type), ['a', 'b']);
  t.deepEqual(seen[1]!.conf['cni.dev/valid-attachments'], valid);
  t.deepEqual(seen[1]!.env, { CNI_COMMAND: 'GC', CNI_PATH: '/p' });
});
