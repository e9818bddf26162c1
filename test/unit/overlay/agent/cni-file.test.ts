// The CNI config file of an overlay's Mesos network, byte for byte upstream's (reference §6.2).
import test from 'ava';
import { cniConfig, cniConfigPath } from '../../../../lib/overlay/agent/cni-file.js';
import { AGENT_NETWORK_DEFAULTS, type AgentOverlayInfo } from '../../../../lib/overlay/master/types.js';

const dcos: AgentOverlayInfo = {
  info: { name: 'dcos', subnet: '9.0.0.0/8', prefix: 24, enabled: true },
  subnet: '9.0.0.0/24',
  mesos_bridge: { name: 'm-dcos', ip: '9.0.0.0/25' },
  docker_bridge: { name: 'd-dcos', ip: '9.0.0.128/25' },
  backend: { vxlan: { vni: 1024, vtep_name: 'vtep1024', vtep_ip: '44.128.0.1/20', vtep_mac: '70:b3:d5:80:00:01' } },
};

test("DC/OS's dcos overlay: upstream's exact bytes (field order, compact, no cniVersion, no newline)", (t) => {
  t.is(
    cniConfig(dcos, AGENT_NETWORK_DEFAULTS, '/var/run/dcos/cni/networks'),
    '{"name":"dcos","type":"mesos-cni-port-mapper","excludeDevices":["m-dcos"],"chain":"M-DCOS",' +
      '"delegate":{"type":"bridge","bridge":"m-dcos","isGateway":true,"ipMasq":false,"hairpinMode":true,"mtu":1420,' +
      '"ipam":{"type":"host-local","dataDir":"/var/run/dcos/cni/networks","subnet":"9.0.0.0/25","routes":[{"dst":"0.0.0.0/0"}]}}}',
  );
  t.is(cniConfigPath('/opt/cni', 'dcos'), '/opt/cni/dcos.conf');
});

test('without cni_data_dir there is no dataDir; the MTU is overlay_mtu (upstream OverlayTest fixture)', (t) => {
  const mz: AgentOverlayInfo = { ...dcos, info: { name: 'mz-overlay', subnet: '192.168.0.0/16', prefix: 24, enabled: true }, mesos_bridge: { name: 'm-mz-overlay', ip: '192.168.0.0/25' } };
  const c = JSON.parse(cniConfig(mz, { ...AGENT_NETWORK_DEFAULTS, overlay_mtu: 9000 }, undefined));
  t.is(c.name, 'mz-overlay');
  t.is(c.chain, 'M-MZ-OVERLAY');
  t.false(c.delegate.ipMasq);
  t.is(c.delegate.mtu, 9000);
  t.is(c.delegate.ipam.subnet, '192.168.0.0/25');
  t.deepEqual(Object.keys(c.delegate.ipam), ['type', 'subnet', 'routes']);
  t.false('cniVersion' in c);
});
