// mesos-cni-port-mapper called exactly as the Mesos agent calls it (`mesos-cni exec --mesos`:
// network_info port_mappings in args, stout JSON, no CNI_ARGS, 0.2 result, DEL replays the
// checkpoint), delegating to our bridge and to the reference Go bridge: upstream's
// ROOT_IPTABLES_NC_PortMapper test, with real TCP through the host port from the host itself
// (OUTPUT) and from a machine outside it (PREROUTING). Then snat: a container reaching itself.
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ExecutionContext } from 'ava';
import { execPlugin } from '../../../lib/cni/invoke.js';
import { install } from '../../../lib/cli/install.js';
import { namespaces, nsExec, rootTest, uniq, type TestNs } from '../../helpers/fixture.js';
import { hasReference, ourBinDir, REFERENCE_DIR } from '../../helpers/cni.js';
import { fetchTcp, serveTcp } from '../../helpers/traffic.js';
import { natRules } from './port-mapper-mock.js';

const cli = fileURLToPath(new URL('../../../bin/mesos-cni.js', import.meta.url));
const CHAIN = 'MESOS-TEST-PORT-MAPPER-CHAIN';
const GW = '10.92.0.1';

interface Setup {
  host: TestNs;
  outside: TestNs;
  ctrs: TestNs[];
  dir: string;
  conf: string;
  bridge: string;
}

async function setup(t: ExecutionContext, nCtrs: number, extra: Record<string, unknown> = {}, delegateExtra: Record<string, unknown> = {}): Promise<Setup> {
  const [host, outside, ...ctrs] = await namespaces(t, 2 + nCtrs, 'pmt');
  const dir = await mkdtemp(join(tmpdir(), 'mcni-pm-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const bridge = uniq('pmb');
  const conf = join(dir, 'pmnet.conf');
  await writeFile(
    conf,
    JSON.stringify({
      name: 'pmnet',
      type: 'mesos-cni-port-mapper',
      chain: CHAIN,
      excludeDevices: [bridge],
      delegate: { type: 'bridge', bridge, isGateway: true, isDefaultGateway: true, ipMasq: true, ipam: { type: 'host-local', subnet: '10.92.0.0/24', dataDir: join(dir, 'ipam') }, ...delegateExtra },
      ...extra,
    }),
  );
  // A machine outside the host, on a link of its own.
  const [hv, ov] = [uniq('pmh'), uniq('pmo')];
  await nsExec(host!, ['ip', 'link', 'add', hv, 'type', 'veth', 'peer', 'name', ov, 'netns', outside!.name]);
  await nsExec(host!, ['ip', 'addr', 'add', '172.30.0.1/24', 'dev', hv]);
  await nsExec(host!, ['ip', 'link', 'set', hv, 'up']);
  await nsExec(host!, ['ip', 'link', 'set', 'lo', 'up']);
  await nsExec(outside!, ['ip', 'addr', 'add', '172.30.0.2/24', 'dev', ov]);
  await nsExec(outside!, ['ip', 'link', 'set', ov, 'up']);
  return { host: host!, outside: outside!, ctrs, dir, conf, bridge };
}

/** `mesos-cni exec <command> --mesos` inside the fake host, as the agent would run the plugin. */
async function mesos(s: Setup, cniPath: string, args: string[], env: Record<string, string> = {}) {
  return execPlugin('/usr/sbin/ip', { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', ...env }, '', [
    'netns', 'exec', s.host.name, process.execPath, cli, 'exec', ...args, '--config', s.conf, '--cni-path', cniPath, '--cache-dir', join(s.dir, 'cache'), '--mesos',
  ]);
}

const randomPorts = (n: number) => {
  const host = new Set<number>();
  while (host.size < n) host.add(20000 + Math.floor(Math.random() * 20000));
  return [...host].map((h, i) => ({ host: h, ctr: 1024 + Math.floor(Math.random() * 8000) + i }));
};

async function threeContainers(t: ExecutionContext, cniPath: string, env: Record<string, string> = {}) {
  const s = await setup(t, 3);
  const ports = randomPorts(3);
  const ids = s.ctrs.map(() => randomUUID());
  const ips: string[] = [];
  for (const [i, ctr] of s.ctrs.entries()) {
    const add = await mesos(s, cniPath, ['add', '--container-id', ids[i]!, '--netns', ctr.path, '--port-mapping', `${ports[i]!.host}:${ports[i]!.ctr}/tcp`], env);
    t.is(add.exitCode, 0, add.stdout + add.stderr);
    const result = JSON.parse(add.stdout) as { ip4: { ip: string } };
    t.deepEqual(Object.keys(result).filter((k) => k !== 'dns'), ['ip4'], 'Mesos reads one ip4');
    ips.push(result.ip4.ip.split('/')[0]!);
    await serveTcp(t, ctr, ports[i]!.ctr, `hello ${i}`);
  }
  t.deepEqual(
    await natRules(s.host, CHAIN),
    [
      `-N ${CHAIN}`,
      ...ids.map((id, i) => `-A ${CHAIN} ! -i ${s.bridge} -p tcp -m tcp --dport ${ports[i]!.host} -m comment --comment "container_id: ${id}" -j DNAT --to-destination ${ips[i]}:${ports[i]!.ctr}`),
    ],
  );
  for (const i of [0, 1, 2]) {
    t.is(await fetchTcp(s.host, GW, ports[i]!.host), `hello ${i}`, `host → ${GW}:${ports[i]!.host} (OUTPUT)`);
    t.is(await fetchTcp(s.outside, '172.30.0.1', ports[i]!.host), `hello ${i}`, `outside → 172.30.0.1:${ports[i]!.host} (PREROUTING)`);
  }
  // The bridge is excluded: a container using the host port reaches the host, not the mapping.
  t.is(await fetchTcp(s.ctrs[0]!, GW, ports[1]!.host), '', 'traffic from the excluded bridge is not mapped');
  for (const [i, ctr] of s.ctrs.entries()) {
    const del = await mesos(s, cniPath, ['del', '--container-id', ids[i]!, '--netns', ctr.path], env);
    t.is(del.exitCode, 0, del.stdout + del.stderr);
    t.is(await fetchTcp(s.outside, '172.30.0.1', ports[i]!.host), '', 'unmapped after DEL');
  }
  // Upstream's final assertion: `iptables -w -t nat -S CHAIN | wc -l` is 1 (the chain stays).
  t.deepEqual(await natRules(s.host, CHAIN), [`-N ${CHAIN}`]);
  t.is((await natRules(s.host)).filter((l) => l.endsWith(`-j ${CHAIN}`)).length, 2, 'the jumps stay too');
}

rootTest('Mesos-style: three containers behind our bridge, each reached through its random host port; DEL leaves only the chain', async (t) => {
  await threeContainers(t, `${await ourBinDir()}:${REFERENCE_DIR}`);
});

(hasReference('bridge') ? rootTest : rootTest.skip)(
  'Mesos-style with the reference Go bridge as delegate (port mapper exec\'d, not in-process): same traffic, same end state',
  async (t) => {
    const bin = await mkdtemp(join(tmpdir(), 'mcni-pm-bin-'));
    t.teardown(() => rm(bin, { recursive: true, force: true }));
    await install(bin, ['mesos-cni-port-mapper']); // our port mapper only: `bridge` is the Go one
    await threeContainers(t, `${bin}:${REFERENCE_DIR}`, { MESOS_CNI_INPROCESS: '0' });
  },
);

rootTest('a bridge delegate without ipMasq (as a DC/OS overlay): DEL removes the rules and releases the address, with no rule of the bridge to share a commit with', async (t) => {
  const s = await setup(t, 1, {}, { ipMasq: false });
  const [p] = randomPorts(1);
  const path = `${await ourBinDir()}:${REFERENCE_DIR}`;
  const id = randomUUID();
  const add = await mesos(s, path, ['add', '--container-id', id, '--netns', s.ctrs[0]!.path, '--port-mapping', `${p!.host}:${p!.ctr}`]);
  t.is(add.exitCode, 0, add.stdout + add.stderr);
  const ip = (JSON.parse(add.stdout) as { ip4: { ip: string } }).ip4.ip.split('/')[0]!;
  t.true((await readdir(join(s.dir, 'ipam', 'pmnet'))).includes(ip));
  const del = await mesos(s, path, ['del', '--container-id', id, '--netns', s.ctrs[0]!.path]);
  t.is(del.exitCode, 0, del.stdout + del.stderr);
  t.deepEqual(await natRules(s.host, CHAIN), [`-N ${CHAIN}`]);
  t.false((await readdir(join(s.dir, 'ipam', 'pmnet'))).includes(ip), 'the lease is gone');
});

rootTest('snat: with it a container reaches itself through its host port; without it that hairpin fails', async (t) => {
  for (const snat of [true, false]) {
    // With br_netfilter (bridge-nf-call-iptables=1) the DNATed packet is bridged straight back
    // out of the port it came in on, which takes the bridge's hairpin mode.
    const s = await setup(t, 1, { excludeDevices: [], snat }, { hairpinMode: true });
    const [p] = randomPorts(1);
    const path = `${await ourBinDir()}:${REFERENCE_DIR}`;
    const id = randomUUID();
    const add = await mesos(s, path, ['add', '--container-id', id, '--netns', s.ctrs[0]!.path, '--port-mapping', `${p!.host}:${p!.ctr}`]);
    t.is(add.exitCode, 0, add.stdout + add.stderr);
    await serveTcp(t, s.ctrs[0]!, p!.ctr, 'me');
    t.is(await fetchTcp(s.ctrs[0]!, GW, p!.host), snat ? 'me' : '', `snat ${snat}: container → ${GW}:${p!.host} → itself`);
    t.is(await fetchTcp(s.outside, '172.30.0.1', p!.host), 'me', 'outside clients are mapped either way');
    const post = (await natRules(s.host)).filter((l) => l.startsWith('-A POSTROUTING'));
    t.is(post[0]?.includes(`"container_id: ${id}"`) ?? false, snat, 'the SNAT rule heads POSTROUTING, ahead of the bridge\'s masquerade');
    t.is((await mesos(s, path, ['del', '--container-id', id, '--netns', s.ctrs[0]!.path])).exitCode, 0);
    t.false((await natRules(s.host)).some((l) => l.includes(id)), 'DEL removes the SNAT rule too');
  }
});
