// Contrail labels as data: fq-names with defaults, subnets from three labels, network-ip as an
// address or a subnet, floating-IP entries, groups; every refusal names its label.
import test from 'ava';
import { localRequest, mesosLabels } from '../../../../lib/plugins/contrail/labels.js';
import type { NetConf } from '../../../../lib/cni/config.js';

const req = (l: Record<string, string>) => localRequest(new Map(Object.entries(l)));

test('networks: missing parts from domain-name / project-name, else default-domain:default; no label: default-network', (t) => {
  t.is(req({ networks: 'blue' }).network, 'default-domain:default:blue');
  t.is(req({ networks: 'blue', 'project-name': 'p', 'domain-name': 'd' }).network, 'd:p:blue');
  t.is(req({ networks: 'p2:blue', 'project-name': 'p' }).network, 'default-domain:p2:blue');
  t.is(req({ networks: 'x:y:blue' }).network, 'x:y:blue');
  t.is(req({}).network, 'default-domain:default:default-network');
});

test('subnets: network-subnets, pod-subnets (a CIDR, or the network itself as the IPAM fq-name), a CIDR network-ip; conflicts name the label', (t) => {
  t.deepEqual(req({ networks: 'b', 'network-subnets': '10.1.0.0/24' }).subnet, { cidr: '10.1.0.0/24', label: 'network-subnets' });
  t.deepEqual(req({ networks: 'b', 'pod-subnets': '10.1.0.0/24' }).subnet, { cidr: '10.1.0.0/24', label: 'pod-subnets' });
  t.is(req({ networks: 'b', 'pod-subnets': 'default-domain:default:b' }).subnet, undefined);
  t.deepEqual(req({ networks: 'b', 'network-ip': '10.1.0.0/24' }), { network: 'default-domain:default:b', subnet: { cidr: '10.1.0.0/24', label: 'network-ip' }, fips: [], groups: [] });
  t.deepEqual(req({ networks: 'b', 'network-ip': '10.1.0.9/24' }).ip, '10.1.0.9', 'a CIDR with host bits: subnet and address');
  t.is(req({ networks: 'b', 'network-ip': '10.1.0.9' }).ip, '10.1.0.9');
  t.throws(() => req({ networks: 'b', 'network-subnets': '10.1.0.0/24', 'pod-subnets': '10.2.0.0/24' }), { message: /^label pod-subnets: subnet 10\.2\.0\.0\/24 conflicts with 10\.1\.0\.0\/24 from label network-subnets/ });
  t.throws(() => req({ networks: 'b', 'pod-subnets': 'default-domain:default:other' }), { message: /^label pod-subnets: IPAM default-domain:default:other is not network default-domain:default:b's/ });
  t.throws(() => req({ 'network-subnets': '10.1.0.5/24' }), { message: /^label network-subnets: expected a subnet \(host bits clear\)/ });
  t.throws(() => req({ 'network-subnets': 'ten' }), { message: /^label network-subnets: expected an IPv4 subnet/ });
  t.throws(() => req({ 'network-ip': '10.1.0' }), { message: /^label network-ip: expected an IPv4 address/ });
});

test('floating-ips and security-groups: comma lists of fq-names, a fixed address in parentheses', (t) => {
  const r = req({ 'floating-ips': 'default-domain:default-project:__public__:__fip_pool_public__(10.66.77.123),default-domain:default-project:__public__:__fip_pool_public2__(10.33.44.11)', 'security-groups': 'default-domain:default-project:security_groups_mesos, web,' });
  t.deepEqual(r.fips, [
    { pool: 'default-domain:default-project:__public__:__fip_pool_public__', ip: '10.66.77.123' },
    { pool: 'default-domain:default-project:__public__:__fip_pool_public2__', ip: '10.33.44.11' },
  ]);
  t.deepEqual(r.groups, ['default-domain:default-project:security_groups_mesos', 'default-domain:default:web']);
  t.deepEqual(req({ 'floating-ips': 'pub:pool' }).fips, [{ pool: 'default-domain:default:pub:pool' }]);
  t.throws(() => req({ 'floating-ips': 'a:b:c:d(1.2.3)' }), { message: /^label floating-ips: expected an IPv4 address in the parentheses/ });
  t.throws(() => req({ 'floating-ips': 'a:b:c:d:e' }), { message: /^label floating-ips: expected domain:project:network:pool/ });
  t.throws(() => req({ 'security-groups': 'a:b:c:d' }), { message: /^label security-groups: expected domain:project:group/ });
  t.throws(() => req({ networks: 'a b' }), { message: /^label networks: expected/ });
  t.throws(() => req({ 'project-name': 'x:y' }), { message: /^label project-name: expected a name/ });
});

test('labels from network_info: later keys win, values that are not strings are left out', (t) => {
  const conf = { type: 'x', args: { 'org.apache.mesos': { network_info: { labels: { labels: [{ key: 'networks', value: 'a' }, { key: 'networks', value: 'b' }, { key: 'x', value: 1 }] } } } } } as unknown as NetConf;
  t.deepEqual([...mesosLabels(conf)], [['networks', 'b']]);
  t.deepEqual([...mesosLabels({ type: 'x' })], []);
});
