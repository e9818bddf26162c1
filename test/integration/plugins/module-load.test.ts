// What a plugin process loads: an exec'd bridge ADD (host-local in-process, masquerade written) and
// its DEL load no Node module VERSION does not, in particular not node:crypto and the streams under
// it (3–5 ms of a fresh process, spent before the veth request went out; names and keys are
// hashed by the addon, lib/util/digest.ts), nor Node's recursive remover behind fs.rmSync.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { namespaces, rootTest, uniq } from '../../helpers/fixture.js';
import { callPlugin, ourBinDir, REFERENCE_DIR } from '../../helpers/cni.js';

// Node's own module names as process.moduleLoadList lists them: each one, and its internals.
const UNWANTED = ['crypto', 'internal/crypto/', 'stream', 'internal/streams/', 'internal/fs/rimraf', 'child_process', 'net', 'http'];
const unwanted = (m: string) => UNWANTED.some((u) => m === `NativeModule ${u}` || (u.endsWith('/') && m.startsWith(`NativeModule ${u}`)));

rootTest('an exec’d bridge ADD and DEL load no Node module beyond what VERSION loads (no crypto, streams, rimraf, child_process, net)', async (t) => {
  const [host, ctr] = await namespaces(t, 2, 'mld');
  const dir = await mkdtemp(join(tmpdir(), 'mcni-mld-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const preload = join(dir, 'preload.cjs');
  await writeFile(preload, "process.on('exit', () => require('node:fs').writeFileSync(process.env.MLD_OUT, process.moduleLoadList.join('\\n')));\n");
  const conf = { cniVersion: '1.1.0', name: 'mldnet', type: 'bridge', bridge: uniq('mldb'), isGateway: true, ipMasq: true, ipam: { type: 'host-local', subnet: '10.67.0.0/24', dataDir: dir } };
  const file = join(await ourBinDir(), 'bridge');
  const loaded = async (command: 'VERSION' | 'ADD' | 'DEL') => {
    const out = join(dir, `modules.${command}`);
    const r = await callPlugin(file, conf, { command, containerId: 'mld1', netns: ctr!.path, hostNs: host!.name, path: `${await ourBinDir()}:${REFERENCE_DIR}`, extraEnv: { NODE_OPTIONS: `--require ${preload}`, MLD_OUT: out } });
    t.is(r.exitCode, 0, `${command}: ${r.stdout}${r.stderr}`);
    return new Set((await readFile(out, 'utf8')).split('\n'));
  };
  const version = await loaded('VERSION');
  for (const command of ['ADD', 'DEL'] as const) {
    const extra = [...(await loaded(command))].filter((m) => !version.has(m) && !m.startsWith('Internal Binding'));
    t.deepEqual(extra.filter(unwanted), [], `${command} loaded: ${extra.join(', ')}`);
  }
});
