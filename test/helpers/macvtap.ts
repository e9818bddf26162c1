// A fake Mesos agent host for the macvtap and mesos plugin tests: a veth end `p0` as the macvtap
// master (never the machine's NIC), the operator's spare macvtap `mvhost` on it for hostrouteif,
// the agent addresses (IPv4 on lo, IPv6 on mvhost), and the network config of the upstream README (lab addresses kept).
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { ipJson, namespaces, nsExec, type TestNs } from './fixture.js';
import { callPlugin, ourBinDir, type CniCall } from './cni.js';

export const AGENT_IP = '192.168.10.22';
export const AGENT_IP6 = 'fd00:10::22';

export interface FakeHost {
  host: TestNs;
  ctrs: TestNs[];
  /** Temp dir for the IPAM leases and the host-route records. */
  dir: string;
}

/** A host namespace with master p0 (UP, its peer p1 UP), spare macvtap mvhost, and `n` containers. */
export async function fakeHost(t: ExecutionContext, n: number, prefix = 'mq'): Promise<FakeHost> {
  const [host, ...ctrs] = await namespaces(t, 1 + n, prefix);
  const dir = await mkdtemp(join(tmpdir(), 'mcni-mvt-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await host!.nl.link.add({ kind: 'veth', name: 'p0', up: true, peer: { name: 'p1' } });
  await host!.nl.link.set({ name: 'p1', up: true });
  // The operator's `ip link add link eth1 name macvtap1 type macvtap mode bridge` (macvtap-routing.md).
  await host!.nl.link.add({ kind: 'macvtap', name: 'mvhost', link: 'p0', mode: 'bridge' });
  await host!.nl.request([
    { op: 'link.set', spec: { name: 'lo', up: true } },
    { op: 'addr.add', spec: { dev: 'lo', address: `${AGENT_IP}/32` } },
    // IPv6 answers neighbour solicitations only for addresses of the receiving interface (ARP
    // answers for any local one), so the agent's IPv6 address sits on hostrouteif itself.
    { op: 'addr.add', spec: { dev: 'mvhost', address: `${AGENT_IP6}/128` } },
  ]);
  return { host: host!, ctrs, dir };
}

/** The macvtap network of the README: host-local on 192.168.122.171-179, a route to the agent. */
export function macvtapConf(dir: string, extra: Record<string, unknown> = {}, ipamExtra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'mvnet',
    type: 'macvtap',
    master: 'p0',
    dataDir: join(dir, 'state'),
    ipam: {
      type: 'host-local',
      subnet: '192.168.122.0/24',
      rangeStart: '192.168.122.171',
      rangeEnd: '192.168.122.179',
      dataDir: join(dir, 'ipam'),
      routes: [{ dst: `${AGENT_IP}/32`, gw: '0.0.0.0' }],
      ...ipamExtra,
    },
    ...extra,
  };
}

/** Run one of our installed plugins inside the fake host, as the agent would. */
export async function runIn(host: TestNs, type: string, conf: object, call: Omit<CniCall, 'hostNs' | 'path'>, path?: string) {
  const bin = await ourBinDir();
  return callPlugin(join(bin, type), conf, { ...call, hostNs: host.name, path: path ?? bin });
}

/** Addresses host-local holds for network `name`. */
export async function leases(dir: string, name = 'mvnet'): Promise<string[]> {
  try {
    return (await readdir(join(dir, 'ipam', name))).filter((f) => /^[0-9a-f]/.test(f) && (f.includes('.') || f.includes(':')) && !f.startsWith('last_'));
  } catch {
    return [];
  }
}

/** Host-route records left in the macvtap dataDir. */
export async function records(dir: string, name = 'mvnet'): Promise<string[]> {
  try {
    return await readdir(join(dir, 'state', name));
  } catch {
    return [];
  }
}

/** Interface names in a namespace. */
export async function linkNames(ns: TestNs): Promise<string[]> {
  return (await ipJson<{ ifname: string }[]>(ns, ['link', 'show'])).map((l) => l.ifname).sort();
}

/** Destinations of the routes through mvhost that someone added (main table, both families). */
export async function hostRoutesVia(host: TestNs, dev = 'mvhost'): Promise<string[]> {
  const v4 = await ipJson<{ dst: string; protocol?: string }[]>(host, ['-4', 'route', 'show', 'dev', dev]);
  const v6 = await ipJson<{ dst: string; protocol?: string }[]>(host, ['-6', 'route', 'show', 'dev', dev]);
  // The kernel's own routes (fe80::/64, the prefix route of the agent's address) are not ours.
  return [...v4, ...v6].filter((r) => r.protocol !== 'kernel').map((r) => r.dst);
}

/** Nothing of the attachment is left: no macvtap in the container, no lease, route or record. */
export async function nothingLeft(t: ExecutionContext, f: FakeHost, ctr: TestNs, what = ''): Promise<void> {
  t.deepEqual(await linkNames(ctr), ['lo'], `${what} container links`);
  t.deepEqual(await leases(f.dir), [], `${what} leases`);
  t.deepEqual(await hostRoutesVia(f.host), [], `${what} host routes`);
  t.deepEqual(await records(f.dir), [], `${what} records`);
}

export function ping(ns: TestNs, ip: string, count = 1): Promise<string> {
  return nsExec(ns, ['ping', '-c', String(count), '-i', '0.2', '-W', '2', ip]);
}
