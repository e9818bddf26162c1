// The desired data plane from agents' records: dcos-net's per-peer tuple for each of the other
// agents (dcos_overlay_SUITE: 3 agents, each programs exactly the 2 others), IPv6, overlays not
// shared, agents without a backend.
import test from 'ava';
import { desiredPlane, VXLAN_PORT } from '../../../../../lib/overlay/agent/dataplane/plane.js';
import type { AgentInfo } from '../../../../../lib/overlay/master/types.js';
import { agent } from '../../../../helpers/overlay/agents.js';

/** dcos-net's test tuple: [AgentIP, "vtep1024", VtepIP, VtepMAC, Subnet]. */
function tuples(self: AgentInfo, all: AgentInfo[]) {
  const p = desiredPlane(self, all);
  return [...p.routes]
    .filter(([dst]) => !dst.includes(':'))
    .map(([subnet, vtep]) => {
      const mac = p.neigh.get(vtep)!;
      const fdb = [...p.fdb].find((k) => k.startsWith(`${mac}>`))!;
      const agentIp = fdb.split('>')[1]!;
      t42(p.routes42.get(`${agentIp}/32`) === vtep);
      return [agentIp, p.vtep!.name, vtep, mac, subnet];
    })
    .sort();
}
let t42 = (_ok: boolean) => {};

test('3 agents: each programs exactly the other two (dcos_overlay_SUITE:dcos_overlay_test)', (t) => {
  const all = [agent(1), agent(2), agent(3)];
  t42 = (ok) => t.true(ok, 'table 42 holds the peer agent IP via its VTEP');
  t.deepEqual(tuples(all[0]!, all), [
    ['10.0.0.2', 'vtep1024', '44.128.0.2', '70:b3:d5:80:00:02', '9.0.2.0/24'],
    ['10.0.0.3', 'vtep1024', '44.128.0.3', '70:b3:d5:80:00:03', '9.0.3.0/24'],
  ]);
  t.deepEqual(tuples(all[2]!, all).map((x) => x[0]), ['10.0.0.1', '10.0.0.2']);
  const p = desiredPlane(all[0]!, all);
  t.deepEqual(p.vtep, { name: 'vtep1024', vni: 1024, port: VXLAN_PORT, mac: '70:b3:d5:80:00:01' });
  t.deepEqual([...p.addrs], ['44.128.0.1/20']);
  t.deepEqual([...p.rules], ['9.0.0.0/8']);
  t.deepEqual([...p.fdb].sort(), ['70:b3:d5:80:00:02>10.0.0.2', '70:b3:d5:80:00:03>10.0.0.3']);
});

test('IPv6: VTEP address, neighbour and route by vtep_ip6 (no table 42, no rule); the FDB entry either way', (t) => {
  const all = [agent(1, { v6: true, overlays: ['dcos', 'dcos6'] }), agent(2, { v6: true, overlays: ['dcos6'] })];
  const p = desiredPlane(all[0]!, all);
  t.deepEqual([...p.addrs], ['44.128.0.1/20', 'fd01:a::1/64']);
  t.deepEqual([...p.routes], [['fd01:b:0:0:2::/80', 'fd01:a::2']]);
  t.deepEqual([...p.neigh], [['fd01:a::2', '70:b3:d5:80:00:02']]);
  t.deepEqual([...p.fdb], ['70:b3:d5:80:00:02>10.0.0.2']);
  t.is(p.routes42.size, 0);
  t.deepEqual([...p.rules], ['9.0.0.0/8'], 'rules only for IPv4 overlays');
  // Without a VTEP IPv6 of our own, IPv6 peers are unreachable: not programmed.
  const p4 = desiredPlane(agent(1, { overlays: ['dcos6'] }), all);
  t.is(p4.routes.size + p4.neigh.size + p4.fdb.size, 0);
});

test('only overlays both agents hold count; no overlay of our own: nothing, not even a VTEP; MTU from the master', (t) => {
  const mine = agent(1, { overlays: ['dcos'], mtu: 1450 });
  const other = agent(2, { overlays: ['other'] });
  const p = desiredPlane(mine, [mine, other]);
  t.is(p.routes.size + p.neigh.size + p.fdb.size + p.routes42.size, 0);
  t.is(p.vtep!.mtu, 1450);
  t.is(desiredPlane({ ip: '10.0.0.1', overlays: [] }, [other]).vtep, undefined);
  t.is(desiredPlane(undefined, [other]).vtep, undefined);
  // A peer without an allocated subnet (allocate_subnet false) gets no route, neighbour or FDB entry.
  const bare = { ...agent(3), overlays: agent(3).overlays.map(({ subnet: _s, ...o }) => o) };
  t.is(desiredPlane(mine, [mine, bare]).fdb.size, 0);
});
