// Shared pieces of the dcos-l4lb integration tests: upstream's fixture (a fake host whose `spartan`
// link holds the spartan addresses, a container, the bridge delegate of upstream's test), a
// stand-in delegate that records what it was sent, and the "nothing left behind" oracle.
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import * as netns from '../../../lib/netns/index.js';
import { addStandalone } from '../../../lib/plugins/shared/standalone.js';
import { ipJson, namespaces, nsExec, uniq, type TestNs } from '../../helpers/fixture.js';
import { callPlugin, ourBinDir, REFERENCE_DIR, type CniCall } from '../../helpers/cni.js';

export const CID = 'dummy'; // upstream's test container ID
export const LEASE = '198.51.100.10'; // the first address of the spartan range

export interface L4 {
  host: TestNs;
  ctr: TestNs;
  dir: string;
  bridge: string;
  /** Where minuteman checkpoints go (never /var/run/dcos in a test). */
  mmPath: string;
  /** host-local's store for spartan-network (never the machine's /var/lib/cni). */
  spartanDir: string;
  ipamDir: string;
}

export async function tempDir(t: ExecutionContext, prefix = 'mcni-l4-'): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), prefix));
  t.teardown(() => rm(d, { recursive: true, force: true }));
  return d;
}

/** The fake host: lo up, `spartan` (a dummy, or its stand-in here) UP holding 198.51.100.1-3/32. */
export async function spartanHost(host: TestNs): Promise<void> {
  await host.nl.link.set({ name: 'lo', up: true });
  await addStandalone(host.nl, { name: 'spartan', up: true, mtu: 1500 });
  for (const i of [1, 2, 3]) await host.nl.addr.add({ dev: 'spartan', address: `198.51.100.${i}/32` });
}

export async function setup(t: ExecutionContext): Promise<L4> {
  const [host, ctr] = await namespaces(t, 2, 'l4');
  await spartanHost(host!);
  const dir = await tempDir(t);
  return { host: host!, ctr: ctr!, dir, bridge: uniq('l4b'), mmPath: join(dir, 'l4lb'), spartanDir: join(dir, 'spartan'), ipamDir: join(dir, 'ipam') };
}

/** A container namespace of its own (no handle kept open), for tests that destroy it. */
export async function disposableNs(t: ExecutionContext): Promise<string> {
  const path = await netns.add(uniq('l4x'));
  t.teardown(() => netns.del(path));
  return path;
}

/**
 * Upstream's test config: bridge delegate `ipMasq`, `mtu 5000`, host-local 10.1.2.0/24 with a
 * default route. `version` null: no cniVersion at all (what Mesos' own configs often are).
 */
export function conf(s: L4, extra: Record<string, unknown> = {}, version: string | null = '0.2.0'): Record<string, unknown> {
  return {
    ...(version ? { cniVersion: version } : {}),
    name: 'spartan-net',
    type: 'dcos-l4lb',
    spartan: { dataDir: s.spartanDir },
    minuteman: { path: s.mmPath },
    delegate: {
      type: 'bridge',
      bridge: s.bridge,
      isGateway: true,
      ipMasq: true,
      mtu: 5000,
      ipam: { type: 'host-local', subnet: '10.1.2.0/24', dataDir: s.ipamDir, routes: [{ dst: '0.0.0.0/0' }] },
    },
    ...extra,
  };
}

export const ourPath = async () => `${await ourBinDir()}:${REFERENCE_DIR}`;

/** Run our dcos-l4lb inside the fake host, as the agent would. */
export async function run(s: L4, c: object, call: Omit<CniCall, 'hostNs'>) {
  return callPlugin(join(await ourBinDir(), 'dcos-l4lb'), c, { containerId: CID, path: await ourPath(), ...call, hostNs: s.host.name });
}

export async function linkNames(ns: TestNs): Promise<string[]> {
  return (await ipJson<{ ifname: string }[]>(ns, ['link', 'show'])).map((l) => l.ifname).sort();
}

/** Lease files of a host-local store for one network (empty when the store does not exist). */
export async function leases(dataDir: string, network: string): Promise<string[]> {
  try {
    return (await readdir(join(dataDir, network))).filter((f) => /^\d/.test(f));
  } catch {
    return [];
  }
}

export async function checkpoint(s: L4, id = CID): Promise<string | undefined> {
  try {
    return await readFile(join(s.mmPath, id), 'utf8');
  } catch {
    return undefined;
  }
}

/** Host routes to the spartan subnet other than the host's own `spartan` link's. */
export async function spartanHostRoutes(host: TestNs): Promise<string[]> {
  const routes = await ipJson<{ dst: string; dev: string }[]>(host, ['route', 'show', 'table', 'main']);
  return routes.filter((r) => r.dst.startsWith('198.51.100.')).map((r) => `${r.dst} ${r.dev.startsWith('veth') ? 'veth' : r.dev}`);
}

/**
 * Nothing of an attachment remains: the container holds only what it had, the host no veth and no
 * spartan route, no lease in either store, no checkpoint, no masquerade rule.
 */
export async function nothingLeft(t: ExecutionContext, s: L4, o: { ctrLinks?: string[]; hostRoutes?: string[]; what?: string } = {}): Promise<void> {
  const what = o.what ?? '';
  t.deepEqual(await linkNames(s.ctr), ['lo', ...(o.ctrLinks ?? [])].sort(), `${what}: container links`);
  t.deepEqual((await ipJson<{ ifname: string }[]>(s.host, ['link', 'show', 'type', 'veth'])).map((l) => l.ifname), [], `${what}: host veths`);
  t.deepEqual(await spartanHostRoutes(s.host), o.hostRoutes ?? [], `${what}: host routes to the spartan subnet`);
  t.deepEqual(await leases(s.spartanDir, 'spartan-network'), [], `${what}: spartan leases`);
  t.deepEqual(await leases(s.ipamDir, 'spartan-net'), [], `${what}: delegate leases`);
  t.is(await checkpoint(s), undefined, `${what}: checkpoint`);
  t.notRegex(await nsExec(s.host, ['iptables-save', '-t', 'nat']), /CNI-|spartan-net/, `${what}: masquerade rules`);
}

// The stand-in delegate: records each call's command, env and stdin; a file `fail-<COMMAND>` next
// to it makes that command fail with code 11; ADD answers a fixed 0.3.1 result.
const RECORDER = `#!/bin/sh
dir=$(dirname "$0")
cat > "$dir/stdin.$CNI_COMMAND"
echo "$CNI_COMMAND" >> "$dir/calls"
env | grep '^CNI_' | sort > "$dir/env.$CNI_COMMAND"
if [ -e "$dir/fail-$CNI_COMMAND" ]; then
  echo '{"cniVersion":"0.3.1","code":11,"msg":"recorder refuses","details":"on purpose"}'; exit 1
fi
[ "$CNI_COMMAND" = ADD ] && echo '{"cniVersion":"0.3.1","ips":[{"version":"4","address":"10.9.9.9/24","gateway":"10.9.9.1"}],"routes":[{"dst":"0.0.0.0/0"}],"dns":{"nameservers":["198.51.100.1"]}}'
exit 0
`;

export interface Recorder {
  dir: string;
  calls(): Promise<string[]>;
  stdin(command: string): Promise<Record<string, unknown>>;
  env(command: string): Promise<Record<string, string>>;
  fail(command: string): Promise<void>;
  reset(): Promise<void>;
}

export async function recorder(t: ExecutionContext): Promise<Recorder> {
  const dir = await tempDir(t, 'mcni-l4-rec-');
  await writeFile(join(dir, 'recorder'), RECORDER);
  await chmod(join(dir, 'recorder'), 0o755);
  const read = async (f: string) => readFile(join(dir, f), 'utf8').catch(() => '');
  return {
    dir,
    calls: async () => (await read('calls')).split('\n').filter(Boolean),
    stdin: async (c) => JSON.parse(await read(`stdin.${c}`)),
    env: async (c) => Object.fromEntries((await read(`env.${c}`)).split('\n').filter(Boolean).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)])),
    fail: (c) => writeFile(join(dir, `fail-${c}`), ''),
    reset: async () => {
      for (const f of await readdir(dir)) if (f !== 'recorder') await rm(join(dir, f));
    },
  };
}

