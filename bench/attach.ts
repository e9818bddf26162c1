// Attaching N containers to a bridge in a fake host namespace: the library (one Node process)
// against the kernel-tool floor (iproute2 batch files driven by a bash loop). Both do exactly:
//   host netns (made once per run, not timed): bridge br0 up with 10.200.0.1/16
//   per container i, timed:
//     1. create network namespace c<i> (bind-mounted under /var/run/netns, as `ip netns add`)
//     2. veth vb<i> in the host, enslaved to br0 and up, with its peer eth0 created directly in c<i>
//     3. in c<i>: lo up, 10.200.x.y/16 on eth0, eth0 up, default route via 10.200.0.1
// ip path per container: `ip netns add c<i>`; `ip -n HOST -batch` (the link add); `ip -n c<i> -batch`
// (the 4 container lines) — three execs, the minimum for iproute2 (`netns add` inside `ip -n`
// lands in ip's private mount namespace and vanishes).
// library path per container: netns.add + netns.open; one link.add on the host handle (ifindexes
// pinned so no lookup is needed); one 4-op nl.request on a handle opened in c<i>.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as netns from '../lib/netns/index.js';
import { NetlinkHandle } from '../lib/netlink/index.js';

const execFileP = promisify(execFile);

export const GATEWAY = '10.200.0.1';
const HOST_INDEX_BASE = 10_000;

export interface AttachRun {
  method: 'library' | 'ip -batch';
  /** Per-container wall time, ms. */
  samples: number[];
  /** Wall time for all N, ms. */
  totalMs: number;
}

/** Namespaces this process created and has not deleted yet (for SIGINT/failure cleanup). */
export const live = new Set<string>();
/**
 * Child processes the SIGINT/SIGTERM handler kills (by process group: spawn them detached) before
 * its cleanup, so none can make a namespace after it or outlive it: the ip-path shell, the daemon.
 */
export const children = new Set<ChildProcess>();

/** Set by the SIGINT/SIGTERM handler: from then on addNs refuses, so nothing escapes its cleanup. */
export let stopping = false;

/** On SIGINT/SIGTERM (CI runs the bench under `timeout`): kill `children`, remove `live`, exit 130. */
export function cleanupOnSignals(): void {
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      if (stopping) return;
      stopping = true;
      for (const c of children) {
        try {
          if (c.pid) process.kill(-c.pid, 'SIGKILL');
        } catch {
          // exited already
        }
      }
      console.error(`\n${sig}: removing ${live.size} namespace(s) ...`);
      void cleanup([...live]).finally(() => process.exit(130));
    });
  }
}

/** `netns.add(name)`, registered in `live` first. Not async: the attach loop times it. */
export function addNs(name: string): Promise<string> {
  if (stopping) return Promise.reject(new Error(`netns ${name}: not made, stopping`));
  live.add(name);
  return netns.add(name);
}

function containerAddr(i: number): string {
  return `10.200.${1 + Math.floor(i / 250)}.${2 + (i % 250)}`;
}

/** Temporary directories of the benchmarks (batch files, bin dirs, leases), removed by cleanup too. */
const tmpDirs = new Set<string>();

/** A temporary directory that a signalled run's cleanup removes as well. */
export function benchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tmpDirs.add(dir);
  return dir;
}

/** Remove a benchDir at the end of its benchmark. */
export function removeBenchDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  tmpDirs.delete(dir);
}

/** Delete namespaces (children first), ignoring ones already gone, and any batch-file directory. */
export async function cleanup(names: Iterable<string>): Promise<void> {
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
  tmpDirs.clear();
  const all = [...names];
  for (const n of all.filter((x) => !x.endsWith('h'))) {
    await netns.del(n).catch(() => undefined);
    live.delete(n);
  }
  for (const n of all.filter((x) => x.endsWith('h'))) {
    await netns.del(n).catch(() => undefined);
    live.delete(n);
  }
}

interface Host {
  name: string;
  nl: NetlinkHandle;
  bridge: number;
}

async function makeHost(prefix: string): Promise<Host> {
  const name = `${prefix}h`;
  await addNs(name);
  const nl = await NetlinkHandle.open(name);
  await nl.link.add({ kind: 'bridge', name: 'br0', up: true });
  const bridge = (await nl.link.get('br0')).index;
  await nl.addr.add({ dev: bridge, address: `${GATEWAY}/16` });
  return { name, nl, bridge };
}

/** After a run: a few containers must have their address and reach the gateway. */
async function verify(host: Host, names: string[]): Promise<void> {
  const picks = [0, Math.floor(names.length / 2), names.length - 1];
  for (const i of picks) {
    const c = names[i]!;
    const { stdout } = await execFileP('ip', ['-n', c, '-j', 'route', 'show', 'default']);
    const routes = JSON.parse(stdout) as { gateway?: string }[];
    if (routes[0]?.gateway !== GATEWAY) throw new Error(`verify ${c}: no default route via ${GATEWAY}: ${stdout}`);
    await execFileP('ip', ['netns', 'exec', c, 'ping', '-c', '1', '-W', '2', '-q', GATEWAY]).catch((e: Error) => {
      throw new Error(`verify ${c}: cannot ping the gateway: ${e.message}`);
    });
  }
  const ports = await host.nl.link.list({ master: host.bridge });
  if (ports.length !== names.length) throw new Error(`verify: br0 has ${ports.length} ports, expected ${names.length}`);
}

/** The library path, sequentially, in this process. */
export async function runLibrary(prefix: string, n: number): Promise<AttachRun> {
  const host = await makeHost(prefix);
  const names: string[] = [];
  const samples: number[] = [];
  try {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const name = `${prefix}c${i}`;
      const t = performance.now();
      const path = await addNs(name);
      names.push(name);
      const ns = await netns.open(path);
      try {
        // The host end is pinned to a known index, which lets the kernel honour the peer's pinned
        // index 2 (lo is 1 in a fresh namespace): the container batch needs no lookup.
        await host.nl.link.add({
          kind: 'veth',
          name: `vb${i}`,
          index: HOST_INDEX_BASE + i,
          master: host.bridge,
          up: true,
          peer: { name: 'eth0', index: 2, netns: ns },
        });
        const nl = await NetlinkHandle.open(ns);
        try {
          await nl.request(
            [
              { op: 'link.set', spec: { index: 1, up: true } },
              { op: 'addr.add', spec: { dev: 2, address: `${containerAddr(i)}/16` } },
              { op: 'link.set', spec: { index: 2, up: true } },
              { op: 'route.add', spec: { dst: 'default', gw: GATEWAY, dev: 2 } },
            ],
            { rollback: true },
          );
        } finally {
          nl.close();
        }
      } finally {
        ns.close();
      }
      samples.push(performance.now() - t);
    }
    const totalMs = performance.now() - t0;
    await verify(host, names);
    return { method: 'library', samples, totalMs };
  } finally {
    host.nl.close();
    await cleanup([...names, host.name]);
  }
}

/** The iproute2 path: batch files written beforehand, a bash loop timing each container. */
export async function runIp(prefix: string, n: number): Promise<AttachRun> {
  const host = await makeHost(prefix);
  const dir = benchDir('mesos-cni-bench-');
  const names = Array.from({ length: n }, (_, i) => `${prefix}c${i}`);
  try {
    for (let i = 0; i < n; i++) {
      writeFileSync(join(dir, `h${i}`), `link add vb${i} master br0 up type veth peer name eth0 netns ${names[i]}\n`);
      writeFileSync(
        join(dir, `c${i}`),
        [`link set lo up`, `addr add ${containerAddr(i)}/16 dev eth0`, `link set eth0 up`, `route add default via ${GATEWAY}`, ''].join('\n'),
      );
    }
    // bash's fork+exec is cheaper than Node's spawn: this favours ip, which is the point of a floor.
    const script = [
      'set -e',
      `cd ${dir}`,
      `T0=$EPOCHREALTIME`,
      `for ((i=0;i<${n};i++)); do`,
      `  t=$EPOCHREALTIME`,
      `  ip netns add ${prefix}c$i`,
      `  ip -n ${host.name} -batch h$i`,
      `  ip -n ${prefix}c$i -batch c$i`,
      `  echo "$t $EPOCHREALTIME"`,
      'done',
      `echo "total $T0 $EPOCHREALTIME"`,
    ].join('\n');
    if (stopping) throw new Error('ip path: not started, stopping'); // it would outlive the cleanup
    for (const nm of names) live.add(nm);
    const out = await new Promise<string>((resolve, reject) => {
      // Its own process group, so a SIGINT cleanup can kill the loop and the ip it is running.
      const p = spawn('bash', ['-c', script], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      children.add(p);
      let o = '';
      let e = '';
      p.stdout.on('data', (d: Buffer) => (o += d.toString()));
      p.stderr.on('data', (d: Buffer) => (e += d.toString()));
      p.on('error', reject);
      p.on('close', (code) => {
        children.delete(p);
        if (code === 0) resolve(o);
        else reject(new Error(`ip path failed (exit ${code}): ${e.trim()}`));
      });
    });
    const samples: number[] = [];
    let totalMs = NaN;
    for (const line of out.trim().split('\n')) {
      const parts = line.split(' ');
      const [a, b] = parts.slice(-2).map((x) => Number(x) * 1000) as [number, number];
      if (parts[0] === 'total') totalMs = b - a;
      else samples.push(b - a);
    }
    await verify(host, names);
    return { method: 'ip -batch', samples, totalMs };
  } finally {
    host.nl.close();
    rmSync(dir, { recursive: true, force: true });
    await cleanup([...names, host.name]);
  }
}
