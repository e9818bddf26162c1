// The Mesos agent's side as data: network_info as stout writes it, and the config it hands a plugin.
import test from 'ava';
import { mesosStdin, networkInfo } from '../../../lib/cni/mesos.js';

test('ip_addresses: protocol always written (the proto default IPv4; IPv6 for an IPv6 address), ip_address when asked for', (t) => {
  const info = networkInfo('n', {}, [], ['10.0.0.5', '', 'fd00::5']);
  t.deepEqual(info.ip_addresses, [{ ip_address: '10.0.0.5', protocol: 'IPv4' }, { protocol: 'IPv4' }, { ip_address: 'fd00::5', protocol: 'IPv6' }]);
  t.false('ip_addresses' in networkInfo('n'), 'none asked: the field is left out, as stout leaves an empty repeated field');
  t.is(
    mesosStdin({ type: 'bridge', name: 'n' }, networkInfo('n', {}, [], ['10.0.0.5'])),
    '{"args":{"org.apache.mesos":{"network_info":{"ip_addresses":[{"ip_address":"10.0.0.5","protocol":"IPv4"}],"name":"n"}}},"name":"n","type":"bridge"}',
  );
});

test("the reserved key and a non-object args are refused with the agent's texts", (t) => {
  t.like(t.throws(() => mesosStdin({ args: { 'org.apache.mesos': {} } }, networkInfo('n'))), { code: 7, message: "'org.apache.mesos' in 'args' should not be set in CNI network configuration file. It is reserved by Mesos" });
  t.like(t.throws(() => mesosStdin({ args: [] }, networkInfo('n'))), { code: 7, message: "Invalid 'args' found in CNI network configuration file" });
});
