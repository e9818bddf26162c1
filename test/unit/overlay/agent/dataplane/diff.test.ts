// Plane diffs as netlink ops: replaces for what is missing or different, deletes only when
// authoritative, deletes first, gateways' addresses before routes.
import test from 'ava';
import { diffPlanes } from '../../../../../lib/overlay/agent/dataplane/diff.js';
import { desiredPlane, emptyPlane } from '../../../../../lib/overlay/agent/dataplane/plane.js';
import { agent } from '../../../../helpers/overlay/agents.js';

const all = [agent(1), agent(2), agent(3)];

test('from nothing: the address, then neighbours, FDB, routes, table 42, the rule; nothing to delete', (t) => {
  const ops = diffPlanes(emptyPlane(), desiredPlane(all[0]!, all), 7, true);
  t.deepEqual(
    ops.map((o) => o.op),
    ['addr.replace', 'neigh.replace', 'neigh.replace', 'neigh.replace', 'neigh.replace', 'route.replace', 'route.replace', 'route.replace', 'route.replace', 'rule.add'],
  );
  t.deepEqual(ops[0], { op: 'addr.replace', spec: { dev: 7, address: '44.128.0.1/20' } });
  t.deepEqual(ops[1], { op: 'neigh.replace', spec: { dev: 7, address: '44.128.0.2', lladdr: '70:b3:d5:80:00:02', state: 'permanent' } });
  t.deepEqual(ops[3], { op: 'neigh.replace', spec: { family: 'bridge', dev: 7, lladdr: '70:b3:d5:80:00:02', dst: '10.0.0.2', self: true, state: 'permanent' } });
  t.deepEqual(ops[5], { op: 'route.replace', spec: { dst: '9.0.2.0/24', gw: '44.128.0.2', dev: 7, family: 4 } });
  t.deepEqual(ops[7], { op: 'route.replace', spec: { dst: '10.0.0.2/32', gw: '44.128.0.2', dev: 7, table: 42 } });
  t.deepEqual(ops[9], { op: 'rule.add', spec: { from: '9.0.0.0/8', table: 42 } });
  t.deepEqual(diffPlanes(desiredPlane(all[0]!, all), desiredPlane(all[0]!, all), 7, true), [], 'converged: nothing');
});

test('a peer leaves: its route, table-42 route, FDB entry and neighbour are deleted, first; only when authoritative', (t) => {
  const before = desiredPlane(all[0]!, all);
  const after = desiredPlane(all[0]!, all.slice(0, 2));
  t.deepEqual(diffPlanes(before, after, 7, true), [
    { op: 'route.del', spec: { dst: '10.0.0.3/32', gw: '44.128.0.3', dev: 7, table: 42 } },
    { op: 'route.del', spec: { dst: '9.0.3.0/24', gw: '44.128.0.3', dev: 7 } },
    { op: 'neigh.del', spec: { family: 'bridge', dev: 7, lladdr: '70:b3:d5:80:00:03', dst: '10.0.0.3' } },
    { op: 'neigh.del', spec: { dev: 7, address: '44.128.0.3' } },
  ]);
  t.deepEqual(diffPlanes(before, after, 7, false), [], 'a stale view never withdraws anything');
});

test('a peer moves to another agent IP: the old FDB remote goes before the new one is written', (t) => {
  const moved = { ...all[2]!, ip: '10.0.0.33' };
  const ops = diffPlanes(desiredPlane(all[0]!, all), desiredPlane(all[0]!, [all[0]!, all[1]!, moved]), 7, true);
  const fdb = ops.filter((o) => o.op.startsWith('neigh') && (o.spec as { family?: string }).family === 'bridge');
  t.deepEqual(fdb.map((o) => [o.op, (o.spec as { dst: string }).dst]), [['neigh.del', '10.0.0.3'], ['neigh.replace', '10.0.0.33']]);
  t.true(ops.some((o) => o.op === 'route.replace' && (o.spec as { dst: string }).dst === '10.0.0.33/32'));
});
