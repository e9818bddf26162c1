// The master's Contrail state as data: attach allocates all or nothing, refusals name the label,
// networks never overlap, groups and pools in use stay, recovery refuses a duplicate claim.
import test from 'ava';
import { ContrailRecoveryError, ContrailState, type AttachRequest } from '../../../../lib/overlay/master/contrail/state.js';
import { endpointView } from '../../../../lib/overlay/contrail/view.js';
import { chainRules, endpointChains, meet } from '../../../../lib/overlay/contrail/rules.js';
import { renderRule } from '../../../../lib/iptables/index.js';
import { fromStored, toStored } from '../../../../lib/overlay/master/contrail/records.js';

const q = (over: Partial<AttachRequest> = {}): AttachRequest => ({ agent: '10.0.0.1', container_id: 'c1', ifname: 'eth0', network: 'd:p:red', subnet: { cidr: '10.5.0.0/29', label: 'network-subnets' }, fips: [], groups: [], ...over });

test('attach: the network made on first use, lowest free address after the gateway, a stable MAC; a repeated ADD gets the same', (t) => {
  const s = ContrailState.empty();
  const a = s.attach(q());
  t.like(a.endpoint, { ip: '10.5.0.2', network: 'd:p:red' });
  t.regex(a.endpoint.mac, /^02(:[0-9a-f]{2}){5}$/);
  t.like(a.view.network, { subnet: '10.5.0.0/29', gateway: '10.5.0.1', vni: 4096 });
  t.deepEqual(s.attach(q()).endpoint, a.endpoint);
  t.false(s.attach(q()).created);
  t.is(s.attach(q({ container_id: 'c2', subnet: undefined })).endpoint.ip, '10.5.0.3');
  for (const i of [4, 5, 6]) s.attach(q({ container_id: `c${i}` }));
  t.throws(() => s.attach(q({ container_id: 'c9' })), { message: 'label networks: network d:p:red (10.5.0.0/29) has no free address' });
  t.true(s.detach('c2', 'eth0'));
  t.is(s.attach(q({ container_id: 'c9' })).endpoint.ip, '10.5.0.3', 'a released address is handed out again');
});

test('refusals name the label and change nothing', (t) => {
  const s = ContrailState.empty();
  s.attach(q());
  s.putPool('d:p:pub:pool', '192.0.2.0/30', 'eth1');
  const before = JSON.stringify([...s.records]);
  const cases: [Partial<AttachRequest>, string][] = [
    [{ subnet: { cidr: '10.6.0.0/24', label: 'pod-subnets' } }, 'label pod-subnets: network d:p:red has subnet 10.5.0.0/29, not 10.6.0.0/24'],
    [{ network: 'd:p:blue', subnet: { cidr: '10.5.0.0/28', label: 'network-subnets' } }, "label network-subnets: subnet 10.5.0.0/28 overlaps network d:p:red's 10.5.0.0/29 (every host routes all networks in one table)"],
    [{ network: 'd:p:green', subnet: undefined }, 'label networks: network d:p:green does not exist and no subnet was given for it (label network-subnets, pod-subnets or a CIDR network-ip)'],
    [{ ip: '10.5.0.2' }, 'label network-ip: 10.5.0.2 is taken (by c1/eth0)'],
    [{ ip: '10.5.0.1' }, "label network-ip: 10.5.0.1 is network d:p:red's gateway"],
    [{ ip: '10.9.0.1' }, "label network-ip: 10.9.0.1 is not a host address of network d:p:red's 10.5.0.0/29"],
    [{ fips: [{ pool: 'd:p:pub:none' }] }, 'label floating-ips: no floating-IP pool d:p:pub:none'],
    [{ fips: [{ pool: 'd:p:pub:pool', ip: '192.0.2.9' }] }, 'label floating-ips: 192.0.2.9 is outside pool d:p:pub:pool (192.0.2.1-192.0.2.2)'],
    [{ fips: [{ pool: 'd:p:pub:pool' }, { pool: 'd:p:pub:pool' }, { pool: 'd:p:pub:pool' }] }, 'label floating-ips: pool d:p:pub:pool has no free address'],
    [{ groups: ['d:p:none'] }, 'label security-groups: no security group d:p:none'],
    [{ network: 'd:p:new', subnet: { cidr: '10.7.0.0/24', label: 'network-subnets' }, groups: ['d:p:none'] }, 'label security-groups: no security group d:p:none'],
  ];
  for (const [over, msg] of cases) {
    const c = s.clone();
    t.throws(() => c.attach(q({ container_id: 'x', ...over })), { message: msg });
    t.is(JSON.stringify([...c.records]), before, `${msg}: nothing changed`);
  }
});

test('groups: remote groups resolve to their members; in use or referenced cannot go; chains follow the rules', (t) => {
  const s = ContrailState.empty();
  s.putGroup({ fq: 'd:p:db', rules: [] });
  s.putGroup({ fq: 'd:p:web', rules: [{ direction: 'ingress', protocol: 'tcp', ports: '80', remote: { group: 'd:p:db' } }] });
  t.throws(() => s.putGroup({ fq: 'd:p:x', rules: [{ direction: 'ingress', protocol: 'any', remote: { group: 'd:p:nope' } }] }), { message: 'rules[0].remote.group: no security group d:p:nope' });
  const web = s.attach(q({ groups: ['d:p:web'] }));
  s.attach(q({ container_id: 'db1', subnet: undefined, groups: ['d:p:db'] }));
  const v = endpointView(s.x, web.endpoint);
  t.deepEqual(v.ingress, [{ protocol: 'tcp', ports: '80', remotes: ['10.5.0.3/32'] }]);
  t.deepEqual(v.egress, []);
  t.throws(() => s.deleteGroup('d:p:db'), { message: /still used by db1\/eth0/ });
  const c = endpointChains('c1', 'eth0');
  const rules = chainRules(c, v);
  t.deepEqual(rules.filter((r) => r.chain === c.ingress).map((r) => r.target.kind), ['RETURN', 'RETURN', 'DROP']);
  t.deepEqual(rules.filter((r) => r.chain === c.egress).map((r) => r.target.kind), ['RETURN', 'DROP'], 'no egress rule: egress dropped');
});

test('isolation: every other network is dropped both ways; recovery refuses two records holding one address', (t) => {
  const s = ContrailState.empty();
  const a = s.attach(q());
  s.attach(q({ container_id: 'b', network: 'd:p:blue', subnet: { cidr: '10.8.0.0/24', label: 'network-subnets' } }));
  const v = endpointView(s.x, a.endpoint);
  t.deepEqual(v.others, [{ subnet: '10.8.0.0/24', egress: [], ingress: [] }]);
  t.false(v.enforced);
  const recs = [...s.records.values()];
  t.notThrows(() => ContrailState.recover(s.cfg, recs));
  const dup = { ...(recs.find((r) => r.kind === 'endpoint' && r.container_id === 'b') as object), container_id: 'b2', ip: a.endpoint.ip };
  t.throws(() => ContrailState.recover(s.cfg, [...recs, dup as never]), { instanceOf: ContrailRecoveryError, message: /both hold ip\/10\.5\.0\.2/ });
});

const blue = (over: Partial<AttachRequest> = {}) => q({ container_id: 'b', network: 'd:p:blue', subnet: { cidr: '10.8.0.0/24', label: 'network-subnets' }, ...over });
const rendered = (s: ContrailState, id: string) => {
  const ep = [...s.x.endpoints.values()].find((e) => e.container_id === id)!;
  const c = endpointChains(id, 'eth0');
  return chainRules(c, endpointView(s.x, ep)).map((r) => {
    const w = renderRule(r, 4, 'filter');
    return `-A ${w.chain} ${w.args.join(' ')}`.replaceAll(c.egress, 'E').replaceAll(c.ingress, 'I');
  });
};

test('policies: a policy attached to both networks lets its rules cross, each way as it says; detached or deleted, isolation again', (t) => {
  const s = ContrailState.empty();
  s.attach(q());
  s.attach(blue());
  s.putNetwork('d:p:green', '10.9.0.0/24');
  s.putPolicy({ fq: 'd:p:web', networks: ['d:p:red', 'd:p:blue'], rules: [{ direction: '>', protocol: 'tcp', src: 'd:p:red', dst: 'd:p:blue', ports: '80' }, { direction: '<>', protocol: 'icmp', src: 'any', dst: 'd:p:blue' }] });
  t.deepEqual(rendered(s, 'c1'), [
    '-A E -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN',
    '-A E -d 10.8.0.0/24 -p tcp -m tcp --dport 80 -j RETURN',
    '-A E -d 10.8.0.0/24 -p icmp -j RETURN',
    '-A E -d 10.8.0.0/24 -j DROP',
    '-A E -d 10.9.0.0/24 -j DROP',
    '-A I -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN',
    '-A I -s 10.8.0.0/24 -p icmp -j RETURN',
    '-A I -s 10.8.0.0/24 -j DROP',
    '-A I -s 10.9.0.0/24 -j DROP',
  ], 'red → blue: tcp 80 and icmp; blue → red: icmp only (<>); green: isolated');
  t.deepEqual(rendered(s, 'b').filter((r) => r.includes('RETURN')), [
    '-A E -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN',
    '-A E -d 10.5.0.0/29 -p icmp -j RETURN',
    '-A I -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN',
    '-A I -s 10.5.0.0/29 -p tcp -m tcp --dport 80 -j RETURN',
    '-A I -s 10.5.0.0/29 -p icmp -j RETURN',
  ], "the other end's chains agree");
  s.putPolicy({ fq: 'd:p:web', networks: ['d:p:red'], rules: [] });
  t.false(rendered(s, 'c1').some((r) => r.includes('10.8.0.0/24 -p')), 'attached to one network only: nothing crosses');
  s.putPolicy({ fq: 'd:p:g', networks: ['d:p:green', 'd:p:red'], rules: [] });
  t.throws(() => s.deleteNetwork('d:p:green'), { message: 'network d:p:green is attached to policy d:p:g' });
  t.throws(() => s.putPolicy({ fq: 'd:p:x', networks: ['d:p:nope'], rules: [] }), { message: 'networks[0]: no network d:p:nope' });
  t.throws(() => s.putPolicy({ fq: 'd:p:x', networks: ['d:p:red'], rules: [{ direction: '>', protocol: 'any', src: 'd:p:red', dst: 'd:p:blue' }] }), {
    message: 'rules[0].dst: d:p:blue is not a network this policy is attached to (networks: d:p:red)',
  });
  t.true(s.deletePolicy('d:p:g'));
  t.true(s.deletePolicy('d:p:web'));
  t.false(s.deletePolicy('d:p:web'));
  t.false(rendered(s, 'c1').some((r) => r.includes(' -p ')), 'deleted: isolated again');
  const recs = [...s.records.values()];
  t.throws(() => ContrailState.recover(s.cfg, [...recs, { kind: 'policy', fq: 'd:p:z', networks: ['d:p:gone'], rules: [] }]), { instanceOf: ContrailRecoveryError, message: 'policy d:p:z: its network d:p:gone is not known' });
});

test('policies and security groups: traffic between networks passes only what both allow', (t) => {
  const s = ContrailState.empty();
  s.putGroup({ fq: 'd:p:sg', rules: [{ direction: 'egress', protocol: 'tcp', ports: '70-90' }, { direction: 'egress', protocol: 'udp' }, { direction: 'egress', protocol: 'any', remote: { cidr: '10.8.0.128/25' } }] });
  s.attach(q({ groups: ['d:p:sg'] }));
  s.attach(blue());
  s.putPolicy({ fq: 'd:p:p', networks: ['d:p:red', 'd:p:blue'], rules: [{ direction: '>', protocol: 'tcp', src: 'd:p:red', dst: 'd:p:blue', ports: '80-100' }] });
  t.deepEqual(rendered(s, 'c1').filter((r) => r.startsWith('-A E')), [
    '-A E -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN',
    '-A E -d 10.8.0.0/24 -p tcp -m tcp --dport 80:90 -j RETURN',
    '-A E -d 10.8.0.128/25 -p tcp -m tcp --dport 80:100 -j RETURN',
    '-A E -d 10.8.0.0/24 -j DROP',
    '-A E -p tcp -m tcp --dport 70:90 -j RETURN',
    '-A E -p udp -j RETURN',
    '-A E -d 10.8.0.128/25 -j RETURN',
    '-A E -j DROP',
  ], 'ports and remotes intersected; udp allowed by the group but not the policy: not to blue');
});

test('meet: protocols, port ranges and remotes intersect', (t) => {
  t.deepEqual(meet({ protocol: 'any' }, { protocol: 'tcp', ports: '80' }, '10.0.0.0/8'), { protocol: 'tcp', ports: '80', remotes: ['10.0.0.0/8'] });
  t.deepEqual(meet({ protocol: 'tcp', ports: '1-100' }, { protocol: 'any' }, '10.0.0.0/8'), { protocol: 'tcp', ports: '1-100', remotes: ['10.0.0.0/8'] });
  t.is(meet({ protocol: 'tcp' }, { protocol: 'udp' }, '10.0.0.0/8'), undefined);
  t.is(meet({ protocol: 'tcp', ports: '1-10' }, { protocol: 'tcp', ports: '11-20' }, '10.0.0.0/8'), undefined);
  t.deepEqual(meet({ protocol: 'icmp' }, { protocol: 'any', remotes: ['0.0.0.0/0', '10.1.2.3/32', '192.0.2.0/24'] }, '10.0.0.0/8'), { protocol: 'icmp', remotes: ['10.0.0.0/8', '10.1.2.3/32'] });
  t.is(meet({ protocol: 'any' }, { protocol: 'any', remotes: [] }, '10.0.0.0/8'), undefined, 'a remote group without members matches nothing');
});

test('stored records: claims must be what the value holds (the store guards uniqueness by them alone)', (t) => {
  const s = ContrailState.empty();
  const a = s.attach(q({ fips: [] }));
  const stored = toStored(a.endpoint);
  t.deepEqual(fromStored([stored]), [a.endpoint]);
  t.throws(() => fromStored([{ ...stored, claims: [] }]), { instanceOf: ContrailRecoveryError, message: 'stored record "endpoint/c1/eth0" claims [] but holds [ip/10.5.0.2]' });
  t.throws(() => fromStored([{ ...stored, key: 'endpoint/x/eth0' }]), { message: /is not a Contrail object of that key/ });
});
