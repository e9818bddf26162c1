// Launcher + daemon against the plain executables: every plugin's answers, results and errors,
// byte for byte (stdout and exit status), from the same namespaces, the same state and the same
// CNI_PATH (errors name the delegate's path). Each scenario runs through our Node launchers, state
// is reset and the same bin dir re-installed with native launchers, then it runs again, served by
// a daemon in the same fake host. The only masked bytes are MACs and veth names, which differ
// between any two ADDs of the same config.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { execPlugin, type ExecResult } from '../../../lib/cni/invoke.js';
import { mesosStdin, networkInfo } from '../../../lib/cni/mesos.js';
import { PLUGIN_TYPES } from '../../../lib/plugins/registry.js';
import { namespaces, nsExec, rootTest, uniq, type TestNs } from '../../helpers/fixture.js';
import { REFERENCE_DIR } from '../../helpers/cni.js';
import { maskRandom, startDaemon, tempDir } from '../../helpers/daemon.js';
import { install } from '../../../lib/cli/install.js';

interface Step {
  type: string;
  command: string;
  /** The config; a function gets this side's earlier outputs (a CHECK's prevResult). */
  stdin: string | ((earlier: ExecResult[]) => string);
  containerId?: string;
  /** false: no CNI_NETNS; a string: that path; default the container namespace. */
  netns?: string | false;
  ifname?: string;
  /** CNI_PATH; default the side's own bin dir, then the reference plugins. */
  path?: string;
}

interface Env {
  host: TestNs;
  ctr: TestNs;
  data: string;
  bin: string;
  socket: string;
  log: () => Promise<string>;
}

async function setup(t: ExecutionContext): Promise<Env> {
  const [host, ctr] = await namespaces(t, 2, 'dp');
  const d = await startDaemon(t, host!.name);
  const data = await tempDir(t);
  return { host: host!, ctr: ctr!, data, bin: join(data, 'bin'), socket: d.socket, log: d.logText };
}

function run(e: Env, bin: string, s: Step, earlier: ExecResult[]): Promise<ExecResult> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', CNI_COMMAND: s.command, CNI_IFNAME: s.ifname ?? 'eth0' };
  env.CNI_PATH = s.path ?? `${bin}:${REFERENCE_DIR}`;
  if (s.containerId !== undefined) env.CNI_CONTAINERID = s.containerId;
  if (s.netns !== false) env.CNI_NETNS = s.netns ?? e.ctr.path;
  return execPlugin('/usr/sbin/ip', env, typeof s.stdin === 'string' ? s.stdin : s.stdin(earlier), ['netns', 'exec', e.host.name, join(bin, s.type)]);
}

/** Run `steps` both ways; returns the plain side's outcomes after asserting the daemon's equal. */
async function parity(t: ExecutionContext, e: Env, steps: Step[], mask = (s: string) => s): Promise<ExecResult[]> {
  const outcomes: Record<string, { stdout: string; exitCode: number }[]> = {};
  for (const side of ['plain', 'daemon'] as const) {
    await rm(join(e.data, 'ipam'), { recursive: true, force: true });
    await install(e.bin, undefined, side === 'daemon' ? { socket: e.socket } : undefined);
    const bin = e.bin;
    outcomes[side] = [];
    const raw: ExecResult[] = [];
    for (const s of steps) {
      const r = await run(e, bin, s, raw);
      raw.push(r);
      outcomes[side]!.push({ stdout: mask(r.stdout), exitCode: r.exitCode });
    }
  }
  t.deepEqual(outcomes.daemon, outcomes.plain);
  // The daemon really served them (a launcher that fell back would pass the comparison too).
  const served = (await e.log()).split('\n').filter((l) => l.includes('"mode":"daemon"')).length;
  t.true(served >= steps.length, `daemon served ${served} of ${steps.length}`);
  return outcomes.plain as ExecResult[];
}

rootTest('every plugin: VERSION and the CNI skel errors, byte for byte', async (t) => {
  const e = await setup(t);
  const steps: Step[] = PLUGIN_TYPES.flatMap((type): Step[] => [
    { type, command: 'VERSION', stdin: '{"cniVersion":"0.4.0"}' },
    { type, command: 'VERSION', stdin: '' },
    { type, command: 'ADD', stdin: '{"cniVersion":"1.0.0",', containerId: 'c1' },
    { type, command: 'ADD', stdin: JSON.stringify({ cniVersion: '1.0.0', name: 'n', type }) },
    { type, command: 'ADD', stdin: JSON.stringify({ cniVersion: '9.9.9', name: 'n', type }), containerId: 'c1' },
    { type, command: 'ADD', stdin: JSON.stringify({ cniVersion: '1.0.0', name: 'n', type }), containerId: 'c1', netns: '/nonexistent/netns' },
    { type, command: 'FROB', stdin: JSON.stringify({ cniVersion: '1.0.0', name: 'n', type }), containerId: 'c1' },
  ]);
  const out = await parity(t, e, steps);
  t.true(out.filter((o) => o.exitCode === 1).length >= PLUGIN_TYPES.length * 5, 'the error steps did fail');
});

rootTest('host-local: ADD, CHECK, exhausted range, bad config, DEL twice and without netns, 0.2.0 form', async (t) => {
  const e = await setup(t);
  const conf = (extra: object = {}, v = '1.0.0') =>
    JSON.stringify({ cniVersion: v, name: 'hl', type: 'host-local', ipam: { type: 'host-local', subnet: '10.77.0.0/30', dataDir: join(e.data, 'ipam'), ...extra } });
  const steps: Step[] = [
    { type: 'host-local', command: 'ADD', stdin: conf(), containerId: 'a' },
    { type: 'host-local', command: 'CHECK', stdin: conf(), containerId: 'a' },
    { type: 'host-local', command: 'CHECK', stdin: conf(), containerId: 'nobody' },
    { type: 'host-local', command: 'ADD', stdin: conf(), containerId: 'b' },
    { type: 'host-local', command: 'ADD', stdin: conf({ subnet: 'nonsense' }), containerId: 'b' },
    { type: 'host-local', command: 'ADD', stdin: conf({ subnet: undefined }), containerId: 'b' },
    { type: 'host-local', command: 'DEL', stdin: conf(), containerId: 'a' },
    { type: 'host-local', command: 'DEL', stdin: conf(), containerId: 'a' },
    { type: 'host-local', command: 'DEL', stdin: conf(), containerId: 'a', netns: false },
    { type: 'host-local', command: 'ADD', stdin: conf({}, '0.2.0'), containerId: 'b' },
    { type: 'host-local', command: 'DEL', stdin: conf({}, '0.2.0'), containerId: 'b', netns: false },
  ];
  const out = await parity(t, e, steps);
  t.deepEqual(out.map((o) => o.exitCode), [0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0]);
  t.regex(out[9]!.stdout, /"ip4":\{"ip":"10\.77\.0\.2\/30"/);
});

rootTest('bridge + host-local: ADD per version, CHECK, DEL twice and without netns, missing delegate, bad netns', async (t) => {
  const e = await setup(t);
  const bridge = uniq('dbr');
  const conf = (v: string | undefined, extra: object = {}) =>
    JSON.stringify({ ...(v ? { cniVersion: v } : {}), name: 'dbr', type: 'bridge', bridge, isGateway: true, ipMasq: true, ipam: { type: 'host-local', subnet: '10.78.0.0/24', dataDir: join(e.data, 'ipam') }, ...extra });
  const steps: Step[] = [];
  for (const v of [undefined, '0.3.1', '1.0.0']) {
    steps.push({ type: 'bridge', command: 'ADD', stdin: conf(v), containerId: 'br1' });
    if (v === '1.0.0') {
      const at = steps.length - 1;
      const check = (earlier: ExecResult[]) => JSON.stringify({ ...JSON.parse(conf(v)), prevResult: JSON.parse(earlier[at]!.stdout) });
      steps.push({ type: 'bridge', command: 'CHECK', stdin: check, containerId: 'br1' });
      steps.push({ type: 'bridge', command: 'CHECK', stdin: conf(v), containerId: 'br1' }); // no prevResult
    }
    steps.push({ type: 'bridge', command: 'ADD', stdin: conf(v), containerId: 'br1' }); // eth0 exists already
    steps.push({ type: 'bridge', command: 'DEL', stdin: conf(v), containerId: 'br1' });
    steps.push({ type: 'bridge', command: 'DEL', stdin: conf(v), containerId: 'br1' });
    steps.push({ type: 'bridge', command: 'DEL', stdin: conf(v), containerId: 'br1', netns: false });
  }
  steps.push({ type: 'bridge', command: 'ADD', stdin: conf('1.0.0', { ipam: { type: 'nope' } }), containerId: 'br2', path: `${REFERENCE_DIR}:/nonexistent` });
  steps.push({ type: 'bridge', command: 'ADD', stdin: conf('1.0.0'), containerId: 'br3', netns: '/nonexistent/netns' });
  const out = await parity(t, e, steps, maskRandom);
  t.deepEqual(out.map((o) => o.exitCode), [0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 1, 1]);
  t.regex(out[0]!.stdout, /"ip4":\{"ip":"10\.78\.0\.2\/24"/);
  t.notRegex(await nsExec(e.host, ['iptables-save', '-t', 'nat']), /CNI-|dbr/);
});

rootTest('mesos-cni-port-mapper → bridge → host-local the Mesos way: ADD with mappings, DEL twice, config and delegate errors', async (t) => {
  const e = await setup(t);
  const bridge = uniq('dpm');
  const conf = (extra: object = {}) => ({
    name: 'dpm',
    type: 'mesos-cni-port-mapper',
    chain: 'MESOS-DTEST',
    delegate: { type: 'bridge', bridge, isGateway: true, ipMasq: true, ipam: { type: 'host-local', subnet: '10.79.0.0/24', dataDir: join(e.data, 'ipam') } },
    ...extra,
  });
  const maps = [
    { host_port: 18080, container_port: 80, protocol: 'tcp' },
    { host_port: 18443, container_port: 443, protocol: 'tcp' },
  ];
  const stdin = mesosStdin(conf(), networkInfo('dpm', {}, maps));
  const steps: Step[] = [
    { type: 'mesos-cni-port-mapper', command: 'ADD', stdin, containerId: 'pm1' },
    { type: 'mesos-cni-port-mapper', command: 'DEL', stdin, containerId: 'pm1' },
    { type: 'mesos-cni-port-mapper', command: 'DEL', stdin, containerId: 'pm1', netns: false },
    { type: 'mesos-cni-port-mapper', command: 'ADD', stdin: mesosStdin(conf({ chain: undefined }), networkInfo('dpm', {}, maps)), containerId: 'pm2' },
    { type: 'mesos-cni-port-mapper', command: 'ADD', stdin: mesosStdin(conf({ delegate: { type: 'nope' } }), networkInfo('dpm', {}, maps)), containerId: 'pm2', path: `${REFERENCE_DIR}:/nonexistent` },
    { type: 'mesos-cni-port-mapper', command: 'ADD', stdin: JSON.stringify(conf()), containerId: 'pm2' }, // no network_info: no mappings
    { type: 'mesos-cni-port-mapper', command: 'DEL', stdin: JSON.stringify(conf()), containerId: 'pm2' },
  ];
  const out = await parity(t, e, steps, maskRandom);
  t.deepEqual(out.map((o) => o.exitCode), [0, 0, 0, 1, 1, 0, 0]);
  // Mesos' form, as upstream printed it: stout's sorted keys at every level.
  t.regex(out[0]!.stdout, /"ip4":\{"gateway":"10\.79\.0\.1","ip":"10\.79\.0\.2\/24"/);
  t.notRegex(await nsExec(e.host, ['iptables-save', '-t', 'nat']), /18080|-A MESOS-DTEST/);
});
