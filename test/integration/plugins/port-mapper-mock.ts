// Shared pieces of the port-mapper integration tests: a stand-in delegate (like the mock plugin of
// Mesos' own port-mapper test) that records every call, the nat table it saw at DEL, and answers ADD
// with an address chosen by the container ID; and a way to run the port mapper as a runtime does.
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { execPlugin } from '../../../lib/cni/invoke.js';
import { nsExec, type TestNs } from '../../helpers/fixture.js';
import { ourBinDir } from '../../helpers/cni.js';

// IDs: fail-* → error 100 "Bad IP address"; noip-* → a result without addresses; v6-<n> → a 1.0.0
// result with 10.0.0.<n>/24 and fd00::<n>/64; anything else ending in -<n> → 0.2 ip4 10.0.0.<n>/24
// (or the address in the file ip.<id>, to change it between ADDs).
const MOCK = `#!/bin/sh
dir=$(dirname "$0")
in=$(cat)
echo "$CNI_COMMAND $CNI_CONTAINERID \${CNI_NETNS:-none} \${CNI_ARGS:-noargs}" >> "$dir/calls.log"
printf '%s' "$in" > "$dir/stdin.$CNI_COMMAND.$CNI_CONTAINERID"
[ "$CNI_COMMAND" = DEL ] && iptables-save -t nat > "$dir/nat-at-del.$CNI_CONTAINERID"
case "$CNI_CONTAINERID" in
  fail*) echo '{"cniVersion":"0.2.0","code":100,"msg":"Bad IP address"}'; exit 100;;
esac
[ "$CNI_COMMAND" = ADD ] || exit 0
n=\${CNI_CONTAINERID##*-}
if [ -f "$dir/ip.$CNI_CONTAINERID" ]; then echo "{\\"ip4\\":{\\"ip\\":\\"$(cat "$dir/ip.$CNI_CONTAINERID")\\"}}"; exit 0; fi
case "$CNI_CONTAINERID" in
  noip*) echo '{"cniVersion":"0.2.0","dns":{}}';;
  v6*) echo "{\\"cniVersion\\":\\"1.0.0\\",\\"ips\\":[{\\"address\\":\\"10.0.0.$n/24\\"},{\\"address\\":\\"fd00::$n/64\\"}]}";;
  *) echo "{\\"ip4\\":{\\"ip\\":\\"10.0.0.$n/24\\"},\\"dns\\":{}}";;
esac
`;

export interface Mock {
  dir: string;
  calls(): Promise<string[]>;
  stdin(command: string, id: string): Promise<string>;
  natAtDel(id: string): Promise<string>;
  setIp(id: string, cidr: string): Promise<void>;
}

/** A CNI bin dir holding the mock delegate as `mock`. */
export async function mockDelegate(t: ExecutionContext): Promise<Mock> {
  const dir = await mkdtemp(join(tmpdir(), 'mcni-pm-mock-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'mock'), MOCK);
  await chmod(join(dir, 'mock'), 0o755);
  const read = (f: string) => readFile(join(dir, f), 'utf8').catch(() => '');
  return {
    dir,
    calls: async () => (await read('calls.log')).split('\n').filter(Boolean),
    stdin: (command, id) => read(`stdin.${command}.${id}`),
    natAtDel: (id) => read(`nat-at-del.${id}`),
    setIp: (id, cidr) => writeFile(join(dir, `ip.${id}`), cidr),
  };
}

export const CHAIN = 'MESOS-TEST-PORT-MAPPER-CHAIN';

export function mockConf(extra: Record<string, unknown> = {}, ports: [number, number, string?][] = [[8080, 80]]): Record<string, unknown> {
  return {
    name: '__MESOS_TEST__portMapper',
    type: 'mesos-cni-port-mapper',
    chain: CHAIN,
    excludeDevices: ['mesos-cni0'],
    args: { 'org.apache.mesos': { network_info: { name: '__MESOS_TEST__portMapper', port_mappings: ports.map(([h, c, p]) => ({ host_port: h, container_port: c, ...(p ? { protocol: p } : {}) })) } } },
    delegate: { type: 'mock', some: 'setting' },
    ...extra,
  };
}

export interface Run {
  command: 'ADD' | 'DEL' | 'CHECK' | 'VERSION';
  id?: string;
  netns?: string;
  path?: string;
  env?: Record<string, string | undefined>;
}

/** Exec the installed port mapper inside `host` with exactly the env Mesos gives (plus `env`). */
export async function runPm(host: TestNs, conf: unknown, r: Run) {
  const file = join(await ourBinDir(), 'mesos-cni-port-mapper');
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', CNI_COMMAND: r.command, CNI_IFNAME: 'eth0' };
  if (r.id !== undefined) env.CNI_CONTAINERID = r.id;
  if (r.netns !== undefined) env.CNI_NETNS = r.netns;
  if (r.path !== undefined) env.CNI_PATH = r.path;
  for (const [k, v] of Object.entries(r.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  const stdin = typeof conf === 'string' ? conf : JSON.stringify(conf);
  const res = await execPlugin('/usr/sbin/ip', env, stdin, ['netns', 'exec', host.name, file]);
  return { ...res, json: res.stdout.trim() ? (JSON.parse(res.stdout) as Record<string, unknown>) : undefined };
}

/** `iptables -t nat -S [chain]` lines in the namespace (family 6: ip6tables). */
export async function natRules(ns: TestNs, chain?: string, family: 4 | 6 = 4): Promise<string[]> {
  const bin = family === 6 ? 'ip6tables' : 'iptables';
  try {
    return (await nsExec(ns, [bin, '-w', '-t', 'nat', '-S', ...(chain ? [chain] : [])])).split('\n').filter(Boolean);
  } catch {
    return []; // no such chain
  }
}
