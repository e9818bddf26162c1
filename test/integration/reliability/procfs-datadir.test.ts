// A directory named by config that the kernel cannot make under a parent that exists (procfs:
// `/proc/self/x`) is refused at once by every plugin that makes one (host-local's dataDir, macvtap's
// dataDir, dcos-l4lb's minuteman.path), standalone and through the daemon, which goes on serving.
// Found by the reliability suite: Node's recursive mkdir spins forever on it.
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { execPlugin } from '../../../lib/cni/invoke.js';
import { namespaces, rootTest, uniq, type TestNs } from '../../helpers/fixture.js';
import { ourBinDir, REFERENCE_DIR } from '../../helpers/cni.js';
import { launcherDir, startDaemon, tempDir } from '../../helpers/daemon.js';
import { fakeHost, macvtapConf } from '../../helpers/macvtap.js';
import { oneDocument } from '../../helpers/reliability.js';

const PROC_DIR = '/proc/self/mcni-no-such-dir';

/** One ADD, killed after 10 s if it has not answered (exit 137). */
function add(host: TestNs, bin: string, type: string, conf: object, netns: string) {
  const env = { PATH: process.env.PATH!, CNI_COMMAND: 'ADD', CNI_CONTAINERID: uniq('pd'), CNI_NETNS: netns, CNI_IFNAME: 'eth0', CNI_PATH: `${bin}:${REFERENCE_DIR}` };
  return execPlugin('/usr/bin/timeout', env, JSON.stringify(conf), ['-s', 'KILL', '10', 'ip', 'netns', 'exec', host.name, join(bin, type)]);
}

async function refusedAtOnce(t: ExecutionContext, host: TestNs, bin: string, type: string, conf: object, netns: string) {
  const started = Date.now();
  const r = await add(host, bin, type, conf, netns);
  t.not(r.exitCode, 137, `${type}: no answer in 10 s`);
  t.true(Date.now() - started < 8000, `${type}: took ${Date.now() - started} ms`);
  t.is(oneDocument(t, r, type)?.code !== undefined, true, `${type}: an error document: ${r.stdout}`);
}

for (const path of ['standalone', 'daemon'] as const) {
  rootTest(`${path}: a dataDir or checkpoint path in procfs is refused at once (host-local, macvtap, dcos-l4lb)`, async (t) => {
    const f = await fakeHost(t, 1, 'pd');
    const dir = await tempDir(t, 'mcni-pd-');
    let bin = await ourBinDir();
    if (path === 'daemon') bin = await launcherDir(t, (await startDaemon(t, f.host.name)).socket);
    const ctr = f.ctrs[0]!.path;
    await refusedAtOnce(t, f.host, bin, 'host-local', { cniVersion: '1.0.0', name: 'pdnet', ipam: { type: 'host-local', subnet: '10.79.0.0/24', dataDir: PROC_DIR } }, ctr);
    await refusedAtOnce(t, f.host, bin, 'macvtap', { ...macvtapConf(f.dir, { hostrouteif: 'mvhost' }), dataDir: PROC_DIR }, ctr);
    const [l4host, l4ctr] = await namespaces(t, 2, 'pe');
    const l4 = {
      cniVersion: '0.3.1',
      name: 'pdl4',
      type: 'dcos-l4lb',
      spartan: false,
      minuteman: { path: PROC_DIR },
      delegate: { type: 'bridge', bridge: uniq('pdb'), ipam: { type: 'host-local', subnet: '10.78.0.0/24', dataDir: join(dir, 'ipam') } },
    };
    let l4bin = bin;
    if (path === 'daemon') l4bin = await launcherDir(t, (await startDaemon(t, l4host!.name)).socket);
    await refusedAtOnce(t, l4host!, l4bin, 'dcos-l4lb', l4, l4ctr!.path);
    // The daemon (or a plain run) still does its work.
    const ok = await add(f.host, bin, 'host-local', { cniVersion: '1.0.0', name: 'pdnet', ipam: { type: 'host-local', subnet: '10.79.0.0/24', dataDir: join(dir, 'ok') } }, ctr);
    t.is(ok.exitCode, 0, ok.stdout + ok.stderr);
  });
}
