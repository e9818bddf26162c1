// The bridge's MAC is the containers' gateway MAC: it must not follow its ports as they come and
// go (an unpinned bridge takes its lowest port MAC, and 00:00:00:00:00:00 once the last one leaves).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { ipJson, namespaces, nsExec, rootTest, uniq, type TestNs } from '../../helpers/fixture.js';
import { callPlugin, hasReference, ourBinDir, REFERENCE_DIR } from '../../helpers/cni.js';
import { PINNED_ALIAS } from '../../../lib/plugins/bridge/bridge.js';

async function dataDir(t: ExecutionContext): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'mcni-brmac-'));
  t.teardown(() => rm(d, { recursive: true, force: true }));
  return d;
}

interface Impl {
  file: () => Promise<string>;
  path: () => Promise<string>;
}
const ours: Impl = { file: async () => join(await ourBinDir(), 'bridge'), path: async () => `${await ourBinDir()}:${REFERENCE_DIR}` };
const reference: Impl = { file: async () => `${REFERENCE_DIR}/bridge`, path: async () => REFERENCE_DIR };

const conf = (dir: string, bridge: string) => ({
  cniVersion: '1.0.0',
  name: 'brmac',
  type: 'bridge',
  bridge,
  isGateway: true,
  ipam: { type: 'host-local', subnet: '10.67.0.0/24', dataDir: dir },
});

async function call(impl: Impl, host: TestNs, c: object, command: 'ADD' | 'DEL', ctr: TestNs, id: string) {
  const r = await callPlugin(await impl.file(), c, { command, containerId: id, netns: ctr.path, hostNs: host.name, path: await impl.path() });
  if (r.exitCode !== 0) throw new Error(`${command} ${id}: ${r.stdout}${r.stderr}`);
  return r;
}

const macOf = async (ns: TestNs, dev: string) => (await ipJson<{ address: string }[]>(ns, ['link', 'show', 'dev', dev]))[0]!.address;

async function gatewayNeigh(ctr: TestNs): Promise<string | undefined> {
  const n = await ipJson<{ dst: string; lladdr?: string }[]>(ctr, ['neigh', 'show', 'dev', 'eth0']);
  return n.find((e) => e.dst === '10.67.0.1')?.lladdr;
}

/** Attach 3, give the first one's host veth the lowest possible MAC, detach it, then the rest. */
async function churn(t: ExecutionContext, impl: Impl) {
  const [host, c1, c2, c3] = await namespaces(t, 4, 'bm');
  const bridge = uniq('bm');
  const c = conf(await dataDir(t), bridge);
  const ids = [uniq('id'), uniq('id'), uniq('id')];
  const ctrs = [c1!, c2!, c3!];
  for (const [i, ctr] of ctrs.entries()) await call(impl, host!, c, 'ADD', ctr, ids[i]!);
  const pinned = await macOf(host!, bridge);
  // The first container's host veth now holds the lowest MAC a port can have: an unpinned bridge
  // adopts it at once.
  const port1 = (await ipJson<{ ifname: string; link_index?: number }[]>(host!, ['link', 'show', 'master', bridge]))
    .map((l) => l.ifname);
  const c1Peer = (await ipJson<{ link_index: number }[]>(c1!, ['link', 'show', 'dev', 'eth0']))[0]!.link_index;
  const hostLinks = await ipJson<{ ifindex: number; ifname: string }[]>(host!, ['link', 'show']);
  const v1 = hostLinks.find((l) => l.ifindex === c1Peer)!.ifname;
  t.true(port1.includes(v1));
  await nsExec(host!, ['ip', 'link', 'set', 'dev', v1, 'address', '02:00:00:00:00:01']);
  t.is(await macOf(host!, bridge), pinned, 'a port with a lower MAC does not change the bridge MAC');

  await nsExec(c2!, ['ping', '-c', '1', '-W', '2', '10.67.0.1']);
  t.is(await gatewayNeigh(c2!), pinned, "the container's ARP entry holds the bridge MAC");

  await call(impl, host!, c, 'DEL', c1!, ids[0]!);
  t.is(await macOf(host!, bridge), pinned, 'the first port leaving does not change it');
  t.is(await gatewayNeigh(c2!), pinned, 'the ARP entry for the gateway is still the bridge MAC');
  await nsExec(c2!, ['ping', '-c', '1', '-W', '2', '10.67.0.1']);

  await call(impl, host!, c, 'DEL', c2!, ids[1]!);
  await call(impl, host!, c, 'DEL', c3!, ids[2]!);
  t.is(await macOf(host!, bridge), pinned, 'the last port leaving leaves the MAC, not 00:00:00:00:00:00');
}

rootTest('bridge MAC stays put as containers come and go (ours)', (t) => churn(t, ours));

(hasReference('bridge') ? rootTest : rootTest.skip)('bridge MAC stays put as containers come and go (reference plugin, the behaviour we match)', (t) =>
  churn(t, reference),
);

rootTest('an existing unpinned bridge is pinned to the MAC it has, once', async (t) => {
  const [host, c1, c2] = await namespaces(t, 3, 'bp');
  const bridge = uniq('bp');
  const c = conf(await dataDir(t), bridge);
  // A bridge made by someone else, with a port, so its MAC is that port's.
  await nsExec(host!, ['ip', 'link', 'add', bridge, 'type', 'bridge']);
  await nsExec(host!, ['ip', 'link', 'add', 'other0', 'address', '02:00:00:00:00:07', 'master', bridge, 'type', 'veth', 'peer', 'name', 'other1']);
  const before = await macOf(host!, bridge);
  t.is(before, '02:00:00:00:00:07');

  await call(ours, host!, c, 'ADD', c1!, uniq('id'));
  t.is(await macOf(host!, bridge), before, 'pinned to the MAC it had: existing ARP entries stay valid');
  t.is((await ipJson<{ ifalias?: string }[]>(host!, ['link', 'show', 'dev', bridge]))[0]!.ifalias, PINNED_ALIAS);
  await nsExec(host!, ['ip', 'link', 'del', 'other0']);
  t.is(await macOf(host!, bridge), before, 'its old lowest port leaving changes nothing');

  // Any MAC change, even to the same value, flushes the bridge's neighbour table: the next ADD
  // must not pin again.
  await nsExec(host!, ['ip', 'neigh', 'add', '10.67.0.99', 'lladdr', '02:00:00:00:00:99', 'dev', bridge]);
  await call(ours, host!, c, 'ADD', c2!, uniq('id'));
  const neigh = await ipJson<{ dst: string }[]>(host!, ['neigh', 'show', 'dev', bridge]);
  t.true(neigh.some((n) => n.dst === '10.67.0.99'), 'a second ADD left the neighbour table alone');
});

rootTest("an operator's alias on the bridge is kept (and the MAC still pinned)", async (t) => {
  const [host, c1] = await namespaces(t, 2, 'ba');
  const bridge = uniq('ba');
  await nsExec(host!, ['ip', 'link', 'add', bridge, 'type', 'bridge']);
  await nsExec(host!, ['ip', 'link', 'set', 'dev', bridge, 'alias', 'uplink bridge']);
  await call(ours, host!, conf(await dataDir(t), bridge), 'ADD', c1!, uniq('id'));
  const mac = await macOf(host!, bridge);
  t.is((await ipJson<{ ifalias?: string }[]>(host!, ['link', 'show', 'dev', bridge]))[0]!.ifalias, 'uplink bridge');
  await nsExec(host!, ['ip', 'link', 'add', 'low0', 'address', '02:00:00:00:00:01', 'master', bridge, 'type', 'veth', 'peer', 'name', 'low1']);
  t.is(await macOf(host!, bridge), mac);
});
