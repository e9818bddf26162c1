// Delegation: the same delegate gives byte-identical results and errors whether it is exec'd or,
// being one of ours, called in-process; and the in-process path really skips the exec.
import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDelegator } from '../../../lib/cni/invoke.js';
import { parseEnv } from '../../../lib/cni/env.js';
import type { InProcess } from '../../../lib/cni/invoke.js';
import { inProcess } from '../../../lib/plugins/registry.js';
import { ourBinDir } from '../../helpers/cni.js';

async function run(useInProcess: boolean, calls: string[]) {
  const dir = await mkdtemp(join(tmpdir(), 'mcni-inv-'));
  try {
    const env = parseEnv({ CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'inv1', CNI_NETNS: '/x', CNI_IFNAME: 'eth0', CNI_PATH: await ourBinDir() });
    const counted: InProcess = async (type) => (calls.push(type), inProcess(type));
    const d = createDelegator(env, useInProcess ? { inProcess: counted } : {});
    const conf = { cniVersion: '0.4.0', name: 'inv', type: 'host-local', ipam: { type: 'host-local', subnet: '10.44.0.0/24', dataDir: dir } };
    const ok = await d.add(conf);
    const dup = await d.add(conf).catch((e: Error) => e);
    const bad = await d.add({ ...conf, ipam: { ...conf.ipam, subnet: 'bogus' } }).catch((e: Error) => e);
    await d.del(conf);
    return { ok, dup: { ...(dup as object), message: (dup as Error).message }, bad: { ...(bad as object), message: (bad as Error).message } };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('in-process and exec delegation give identical results and errors', async (t) => {
  const inCalls: string[] = [];
  const exCalls: string[] = [];
  const inProc = await run(true, inCalls);
  const exec = await run(false, exCalls);
  t.deepEqual(inProc, exec);
  t.like(inProc.ok, { cniVersion: '0.4.0', ips: [{ version: '4', address: '10.44.0.2/24', gateway: '10.44.0.1' }] });
  t.like(inProc.dup, { code: 112 });
  t.like(inProc.bad, { code: 7, msg: 'ipam.subnet: expected an address with an optional /prefix (e.g. 10.0.0.1/24), got "bogus"' });
  t.true(inCalls.length >= 4, 'the in-process path resolved our plugin');
  t.deepEqual(exCalls, []);
});

test('MESOS_CNI_INPROCESS=0 forces the exec path', async (t) => {
  const env = parseEnv({ CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'inv2', CNI_NETNS: '/x', CNI_IFNAME: 'eth0', CNI_PATH: await ourBinDir() });
  const calls: string[] = [];
  const d = createDelegator(env, { inProcess: async (ty) => (calls.push(ty), inProcess(ty)), baseEnv: { ...process.env, MESOS_CNI_INPROCESS: '0' } });
  const dir = await mkdtemp(join(tmpdir(), 'mcni-inv-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await d.add({ cniVersion: '1.0.0', name: 'inv', type: 'host-local', ipam: { type: 'host-local', subnet: '10.44.0.0/24', dataDir: dir } });
  t.deepEqual(calls, []);
});

test('a delegate missing from CNI_PATH is a clear code-7 error', async (t) => {
  const env = parseEnv({ CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'inv3', CNI_NETNS: '/x', CNI_IFNAME: 'eth0', CNI_PATH: '/nonexistent:/also-not' });
  const e = await t.throwsAsync(createDelegator(env).add({ type: 'nothere' }));
  t.like(e, { code: 7, msg: 'failed to find plugin "nothere" in path [/nonexistent /also-not]' });
});
