// dcos-l4lb ADD failing at each of its steps leaves nothing behind — not our links, lease, host route
// or checkpoint, and not the delegate's attachment (upstream left all of it for a DEL that may never
// come) — while whatever was there before stays untouched.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { nsExec, rootTest } from '../../helpers/fixture.js';
import { ourBinDir, REFERENCE_DIR } from '../../helpers/cni.js';
import { conf, LEASE, nothingLeft, recorder, run, setup } from './dcos-l4lb-fixture.js';

const msgOf = (stdout: string) => (JSON.parse(stdout) as { msg: string }).msg;

rootTest('a refused config and a failing delegate: nothing of ours is made, the delegate keeps its own error code', async (t) => {
  const s = await setup(t);
  const bad = await run(s, conf(s, { minuteman: { path: 'relative' } }), { command: 'ADD', netns: s.ctr.path });
  t.like(JSON.parse(bad.stdout), { code: 7, msg: 'minuteman.path: expected an absolute directory path, got "relative"' });
  await nothingLeft(t, s, { what: 'config refused' });

  const rec = await recorder(t);
  await rec.fail('ADD');
  const path = `${rec.dir}:${await ourBinDir()}:${REFERENCE_DIR}`;
  const r = await run(s, conf(s, { delegate: { type: 'recorder' } }), { command: 'ADD', netns: s.ctr.path, path });
  t.is(r.exitCode, 1);
  t.like(JSON.parse(r.stdout), { code: 11, msg: 'failed to invoke delegate plugin recorder: recorder refuses', details: 'on purpose' });
  t.deepEqual(await rec.calls(), ['ADD'], 'a delegate that failed is not sent DEL by us (it cleans up after itself)');
  await nothingLeft(t, s, { what: 'delegate failed' });

  // The real bridge failing (its name is taken by a veth): its own rollback, nothing of ours.
  await nsExec(s.host, ['ip', 'link', 'add', s.bridge, 'type', 'veth', 'peer', 'name', 'nb1']);
  const br = await run(s, conf(s), { command: 'ADD', netns: s.ctr.path });
  t.is(msgOf(br.stdout), `failed to invoke delegate plugin bridge: "${s.bridge}" already exists but is not a bridge`);
  await nsExec(s.host, ['ip', 'link', 'del', s.bridge]);
  await nothingLeft(t, s, { what: 'bridge failed' });
});

rootTest('spartan IPAM fails (its store is not a directory): the delegate attachment is undone', async (t) => {
  const s = await setup(t);
  await writeFile(s.spartanDir, 'not a directory');
  const r = await run(s, conf(s), { command: 'ADD', netns: s.ctr.path });
  t.is(r.exitCode, 1);
  t.regex(msgOf(r.stdout), /^spartan: failed to get IP address: /);
  await nothingLeft(t, s, { what: 'spartan IPAM' });
});

rootTest('spartan veth fails (the container already has a `spartan`): lease released, delegate undone, their link kept', async (t) => {
  const s = await setup(t);
  await nsExec(s.ctr, ['ip', 'link', 'add', 'spartan', 'type', 'veth', 'peer', 'name', 'sp1']);
  const r = await run(s, conf(s), { command: 'ADD', netns: s.ctr.path });
  t.is(msgOf(r.stdout), 'spartan: the container already has an interface named "spartan"');
  await nothingLeft(t, s, { what: 'spartan veth', ctrLinks: ['spartan', 'sp1'] });
});

rootTest('spartan container batch fails (a route to 198.51.100.2 exists already): veth, lease and delegate undone', async (t) => {
  const s = await setup(t);
  await nsExec(s.ctr, ['ip', 'link', 'add', 'x0', 'type', 'veth', 'peer', 'name', 'x1']);
  await nsExec(s.ctr, ['ip', 'link', 'set', 'x0', 'up']);
  await nsExec(s.ctr, ['ip', 'route', 'add', '198.51.100.2/32', 'dev', 'x0']);
  const r = await run(s, conf(s), { command: 'ADD', netns: s.ctr.path });
  t.is(msgOf(r.stdout), 'spartan: failed to configure the spartan interface: add route 198.51.100.2/32 dev spartan: File exists');
  await nothingLeft(t, s, { what: 'container batch', ctrLinks: ['x0', 'x1'] });
  t.regex(await nsExec(s.ctr, ['ip', 'route', 'show', '198.51.100.2/32']), /dev x0/, 'their route is kept');
});

rootTest('spartan host route fails (the host routes the lease elsewhere): veth, lease and delegate undone, their route kept', async (t) => {
  const s = await setup(t);
  await nsExec(s.host, ['ip', 'route', 'add', `${LEASE}/32`, 'dev', 'spartan']);
  const r = await run(s, conf(s), { command: 'ADD', netns: s.ctr.path });
  t.regex(msgOf(r.stdout), new RegExp(`^spartan: failed to configure the spartan interface: add route ${LEASE.replaceAll('.', '\\.')}/32 dev veth[0-9a-f]{8}: File exists$`));
  await nothingLeft(t, s, { what: 'host route', hostRoutes: [`${LEASE} spartan`] });
});

rootTest('minuteman link fails (the container already has a `minuteman`): spartan and delegate undone, no checkpoint', async (t) => {
  const s = await setup(t);
  await nsExec(s.ctr, ['ip', 'link', 'add', 'minuteman', 'type', 'veth', 'peer', 'name', 'mm1']);
  const r = await run(s, conf(s), { command: 'ADD', netns: s.ctr.path });
  t.is(msgOf(r.stdout), `minuteman: failed to create the minuteman interface in ${s.ctr.path}: add link minuteman type dummy: File exists`);
  await nothingLeft(t, s, { what: 'minuteman link', ctrLinks: ['minuteman', 'mm1'] });
});

rootTest('checkpoint fails (its directory is a file): the minuteman link, spartan and the delegate undone', async (t) => {
  const s = await setup(t);
  await writeFile(s.mmPath, 'not a directory');
  const r = await run(s, conf(s), { command: 'ADD', netns: s.ctr.path });
  t.regex(msgOf(r.stdout), new RegExp(`^minuteman: couldn't checkpoint the network namespace of container dummy in ${s.mmPath}: `));
  await nothingLeft(t, s, { what: 'checkpoint' });
});
