// bridge + host-local ADD and DEL per container: our plugins exec'd as a runtime execs them
// (launchers from `mesos-cni install`; our bridge calls our host-local in-process) against the
// reference Go plugins, same config, each in its own fake host, interleaved call by call.
import { join } from 'node:path';
import * as netns from '../lib/netns/index.js';
import { install } from '../lib/cli/install.js';
import { fakeHost, removeHosts, type FakeHost } from './fakehost.js';
import { median, ms, p95, since, table } from './stats.js';
import { benchDir, removeBenchDir } from './attach.js';

const REFERENCE_DIR = '/usr/lib/cni';

interface Impl {
  name: string;
  bin: string;
  path: string;
  conf: string;
  host?: FakeHost;
  add: number[];
  del: number[];
}

export interface PluginBench {
  rows: string[][];
  addRatio: number;
  delRatio: number;
}

function conf(dataDir: string): string {
  return JSON.stringify({
    cniVersion: '1.0.0',
    name: 'benchnet',
    type: 'bridge',
    bridge: 'mcnib0',
    isGateway: true,
    ipMasq: true,
    ipam: { type: 'host-local', subnet: '10.210.0.0/16', dataDir },
  });
}

async function call(impl: Impl, command: 'ADD' | 'DEL', i: number): Promise<number> {
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', CNI_COMMAND: command, CNI_CONTAINERID: `bench${i}`, CNI_NETNS: impl.host!.ctrs[i]!, CNI_IFNAME: 'eth0', CNI_PATH: impl.path };
  const t = performance.now();
  const r = await netns.execInNetns(impl.host!.ns, impl.bin, [], { stdin: impl.conf, env, check: false });
  const took = since(t);
  if (r.status !== 0) throw new Error(`${impl.name} ${command} bench${i}: ${r.stdout}${r.stderr}`);
  return took;
}

/** Attach then detach `n` containers with each implementation, alternating which goes first. */
export async function benchPlugins(prefix: string, n: number): Promise<PluginBench> {
  const dir = benchDir('mcni-bench-plugins-');
  const ours: Impl = { name: 'ours (exec per call)', bin: join(dir, 'bin', 'bridge'), path: join(dir, 'bin'), conf: conf(join(dir, 'ipam-ours')), add: [], del: [] };
  const ref: Impl = { name: 'reference Go plugins', bin: `${REFERENCE_DIR}/bridge`, path: REFERENCE_DIR, conf: conf(join(dir, 'ipam-ref')), add: [], del: [] };
  const impls = [ours, ref];
  try {
    await install(join(dir, 'bin'), ['bridge', 'host-local']);
    for (const [k, impl] of impls.entries()) impl.host = await fakeHost(`${prefix}h${k}`, `${prefix}c${k}x`, n);
    for (const command of ['ADD', 'DEL'] as const) {
      for (let i = 0; i < n; i++) {
        for (const impl of i % 2 === 0 ? impls : [...impls].reverse()) {
          (command === 'ADD' ? impl.add : impl.del).push(await call(impl, command, i));
        }
      }
    }
    const addRatio = median(ours.add) / median(ref.add);
    const delRatio = median(ours.del) / median(ref.del);
    const rows = [
      [`bridge + host-local, per container (N=${n})`, 'ADD median', 'ADD p95', 'DEL median', 'DEL p95'],
      ...impls.map((x) => [x.name, ms(median(x.add)), ms(p95(x.add)), ms(median(x.del)), ms(p95(x.del))]),
      ['ratio ours / reference', addRatio.toFixed(2), (p95(ours.add) / p95(ref.add)).toFixed(2), delRatio.toFixed(2), (p95(ours.del) / p95(ref.del)).toFixed(2)],
    ];
    return { rows, addRatio, delRatio };
  } finally {
    await removeHosts(impls.map((x) => x.host));
    removeBenchDir(dir);
  }
}

export function pluginTable(b: PluginBench): string {
  return table(b.rows);
}
