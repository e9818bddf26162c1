// A/B of two builds of the daemon in one run: `node dist/bench/daemon-ab.js` with AB_OTHER_DIST=<the
// dist/ of another checkout, built with tsc> (and AB_N containers per build, default 40). Both
// daemons serve the port-mapper chain in one fake host, each with its own bridge, subnet and host
// ports, in blocks of 5 containers back to back per build with a 100 ms pause before each block
// (as bench/daemon.ts), so both see the same phase of the machine: on this VM the same build
// varies by ±30% from one run to the next, more than most single changes. The first ADD of a block
// is reported apart (nothing pending in the kernel). The other build uses this checkout's addon.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { install } from '../lib/cli/install.js';
import { DAEMON_NODE_FLAGS } from '../lib/daemon/server.js';
import { mesosStdin, networkInfo } from '../lib/cni/mesos.js';
import { exec, mappings, ourConfig } from './port-mapper.js';
import { benchDir, removeBenchDir } from './attach.js';
import { fakeHost, removeHosts } from './fakehost.js';
import { median } from './stats.js';
const N = Number(process.env.AB_N ?? 40);
const other = process.env.AB_OTHER_DIST;
if (!other || !existsSync(join(other, 'bin', 'mesos-cni.js'))) {
  console.error('AB_OTHER_DIST: expected the dist/ directory of another checkout (with bin/mesos-cni.js)');
  process.exit(2);
}
const dir = benchDir('mcni-ab-');
const host = await fakeHost('abh', 'abc', 2 * N);
const ways = [
  { name: `other (${other})`, cli: join(other, 'bin', 'mesos-cni.js'), bridge: 'mcnabA', subnet: '10.213.0.0/16', base: 10000 },
  { name: 'this checkout', cli: new URL('../bin/mesos-cni.js', import.meta.url).pathname, bridge: 'mcnabB', subnet: '10.214.0.0/16', base: 30000 },
];
const daemons: ChildProcess[] = [];
try {
  const setups: { w: (typeof ways)[number]; bin: string; conf: Record<string, unknown> }[] = [];
  for (const [k, w] of ways.entries()) {
    const socket = join(dir, `run${k}`, 'daemon.sock');
    await mkdir(join(dir, `run${k}`), { mode: 0o700 });
    const bin = join(dir, `bin${k}`);
    await install(bin, ['mesos-cni-port-mapper', 'bridge', 'host-local'], { socket });
    daemons.push(spawn('ip', ['netns', 'exec', 'abh', process.execPath, ...DAEMON_NODE_FLAGS, w.cli, 'daemon', '--socket', socket, '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'inherit'] }));
    for (let i = 0; i < 200; i++) { if (await readFile(socket).catch(() => false)) break; await sleep(25); }
    const conf = ourConfig(join(dir, `ipam${k}`)) as { delegate: { bridge: string; ipam: { subnet: string } } };
    conf.delegate.bridge = w.bridge; conf.delegate.ipam.subnet = w.subnet;
    setups.push({ w, bin, conf: conf as unknown as Record<string, unknown> });
  }
  const res = setups.map(() => ({ add: [] as number[], del: [] as number[], idle: [] as number[] }));
  const step = (s: (typeof setups)[number], cmd: string, i: number, c: number) => exec(host.ns, join(s.bin, 'mesos-cni-port-mapper'), { CNI_COMMAND: cmd, CNI_CONTAINERID: `ab${i}`, CNI_NETNS: host.ctrs[c]!, CNI_IFNAME: 'eth0', CNI_PATH: s.bin }, mesosStdin(s.conf, networkInfo('benchpm', {}, mappings(i, s.w.base))), `${s.w.name} ${cmd} ${i}`);
  const B = 5;
  for (let blk = 0; blk < Math.ceil(N / B); blk++) {
    for (const [k, s] of setups.entries()) {
      await sleep(100);
      for (let j = 0; j < B + 1; j++) {
        const i = blk * (B + 1) + j, c = k * N + (i % N);
        const a = await step(s, 'ADD', i, c);
        const d = await step(s, 'DEL', i, c);
        if (j > 0) { res[k]!.add.push(a.ms); res[k]!.del.push(d.ms); } else res[k]!.idle.push(a.ms);
      }
    }
  }
  console.log(`daemon A/B, port-mapper chain, ${N} containers per build, medians:`);
  for (const [k, s] of setups.entries()) {
    const r = res[k]!;
    console.log(`${s.w.name}: ADD ${median(r.add).toFixed(2)} ms (${r.add.length}), ADD with nothing pending ${median(r.idle).toFixed(2)} ms (${r.idle.length}), DEL ${median(r.del).toFixed(2)} ms`);
  }
} finally {
  for (const d of daemons) d.kill('SIGTERM');
  await sleep(300);
  await removeHosts([host]);
  removeBenchDir(dir);
}
