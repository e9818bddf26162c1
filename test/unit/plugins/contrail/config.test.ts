// contrail-cni-plugin config as data: upstream's defaults and types, the file layer, the two modes.
import test from 'ava';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../../../lib/plugins/contrail/config.js';
import { managerBody } from '../../../../lib/plugins/contrail/mesos/manager.js';
import { parseAnnotations } from '../../../../lib/plugins/contrail/mesos/vrouter.js';
import { tapName } from '../../../../lib/plugins/contrail/mesos/mode.js';

const none = { MESOS_CNI_CONTRAIL_CONF_DIR: '/nonexistent-contrail-conf-dir' };

test('defaults: local mode, upstream values for every key (poll 3 s x 20, port 9091, config-dir)', (t) => {
  const c = loadConfig({ type: 'contrail-cni-plugin' }, none);
  t.like(c, { mode: 'local', vrouterIp: '127.0.0.1', vrouterPort: 9091, configDir: '/var/lib/contrail/ports/vm', pollTimeoutS: 3, pollRetries: 20, clusterName: 'k8s', mtu: 1450, master: ['127.0.0.1:5055'], cniVersion: undefined });
});

test('mesos mode needs mesos-ip and mesos-port (a string); k8s mode is refused', (t) => {
  const base = { type: 'contrail-cni-plugin', contrail: { mode: 'mesos', 'mesos-ip': '10.0.0.1', 'mesos-port': '6991' } };
  t.like(loadConfig(base, none), { mode: 'mesos', mesosIp: '10.0.0.1', mesosPort: '6991', mtu: 1500 });
  t.throws(() => loadConfig({ ...base, contrail: { ...base.contrail, 'mesos-port': 6991 } }, none), { message: /^contrail\.mesos-port: expected a string like "6991"/ });
  t.throws(() => loadConfig({ ...base, contrail: { mode: 'mesos' } }, none), { message: /^contrail\.mesos-ip: expected the contrail-mesos-manager host/ });
  t.throws(() => loadConfig({ type: 'x', contrail: { mode: 'k8s' } }, none), { message: /^contrail\.mode: expected "mesos"/ });
  t.throws(() => loadConfig({ type: 'x', contrail: { 'poll-retries': '5' } }, none), { message: /^contrail\.poll-retries: expected an integer/ });
});

test('layers: the first *contrail.conf file (by name) under stdin; a missing directory is no file', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cconf-'));
  writeFileSync(join(dir, 'b-contrail.conf'), JSON.stringify({ contrail: { 'vrouter-port': 2 } }));
  writeFileSync(join(dir, 'a-contrail.conf'), JSON.stringify({ cniVersion: '0.3.1', contrail: { 'vrouter-port': 1, 'poll-retries': 7 } }));
  mkdirSync(join(dir, 'c-contrail.conf'));
  const env = { MESOS_CNI_CONTRAIL_CONF_DIR: dir };
  t.like(loadConfig({ type: 'x', contrail: { 'poll-retries': 9 } }, env), { vrouterPort: 1, pollRetries: 9, cniVersion: '0.3.1', file: join(dir, 'a-contrail.conf') });
  t.is(loadConfig({ type: 'x', cniVersion: '1.0.0' }, env).cniVersion, '1.0.0', "stdin's cniVersion wins");
  t.is(loadConfig({ type: 'x' }, { MESOS_CNI_CONTRAIL_CONF_DIR: join(dir, 'missing') }).file, undefined);
});

test('the manager body: {"args","cid","cmd"}, Go escaping of <, >, &', (t) => {
  t.is(managerBody('{"a":"<b>&"}', 'c1', 'ADD'), '{"args":"{\\"a\\":\\"\\u003cb\\u003e\\u0026\\"}","cid":"c1","cmd":"ADD"}');
});

test('annotations: "{key:value}" split at the first colon (values holding ":" kept whole)', (t) => {
  t.deepEqual(parseAnnotations(['{index:0/1}', '{network:default-domain:default:blue}', 'junk', 5]), { index: '0/1', network: 'default-domain:default:blue' });
});

test('tap name: tap + the first 11 characters of "<ifname>-<vm-uuid>"', (t) => {
  t.is(tapName('eth0', 'a1b2c3d4-e5f6'), 'tapeth0-a1b2c3');
  t.is(tapName('eth10', 'x'), 'tapeth10-x');
});
