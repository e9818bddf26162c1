// CNI environment rules per command.
import test from 'ava';
import { MAX_CONTAINER_ID, envVars, parseCniArgs, parseEnv } from '../../../lib/cni/index.js';
import { tag } from '../../../lib/plugins/port-mapper/rules.js';

const full = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', CNI_NETNS: '/var/run/netns/x', CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin:/usr/lib/cni' };

test('ADD needs containerid, netns, ifname and path', (t) => {
  const e = parseEnv(full);
  t.is(e.command, 'ADD');
  t.deepEqual(e.path, ['/opt/cni/bin', '/usr/lib/cni']);
  for (const v of ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_PATH'] as const) {
    const env = { ...full, [v]: undefined };
    const err = t.throws(() => parseEnv(env));
    t.is((err as { code?: number }).code, 4);
    t.is((err as { msg?: string }).msg, `required env variables [${v}] missing`);
  }
});

test('DEL does not need CNI_NETNS', (t) => {
  const e = parseEnv({ ...full, CNI_COMMAND: 'DEL', CNI_NETNS: undefined });
  t.is(e.netns, undefined);
});

test('missing or unknown CNI_COMMAND is code 4', (t) => {
  t.is((t.throws(() => parseEnv({})) as { code?: number }).code, 4);
  t.regex(t.throws(() => parseEnv({ CNI_COMMAND: 'FOO' }))!.message, /CNI_COMMAND: expected one of/);
});

test('container IDs are checked like libcni', (t) => {
  t.is((t.throws(() => parseEnv({ ...full, CNI_CONTAINERID: 'a"b' })) as { msg?: string }).msg, 'invalid characters in containerID');
  t.notThrows(() => parseEnv({ ...full, CNI_CONTAINERID: '2a7b-9c.child_1' }));
});

test('interface names are checked like libcni', (t) => {
  t.regex(t.throws(() => parseEnv({ ...full, CNI_IFNAME: 'a-very-long-name0' }))!.message, /too long/);
  t.regex(t.throws(() => parseEnv({ ...full, CNI_IFNAME: 'eth/0' }))!.message, /invalid character/);
});

test("an interface name with '%' is refused: the kernel would pick the name itself", (t) => {
  t.regex(t.throws(() => parseEnv({ ...full, CNI_IFNAME: 'eth%d' }))!.message, /invalid character/);
});

test('container IDs up to MAX_CONTAINER_ID characters are taken, longer ones refused with code 4', (t) => {
  t.is(MAX_CONTAINER_ID, 241);
  t.notThrows(() => parseEnv({ ...full, CNI_CONTAINERID: 'a'.repeat(MAX_CONTAINER_ID) }));
  const e = t.throws(() => parseEnv({ ...full, CNI_CONTAINERID: 'a'.repeat(MAX_CONTAINER_ID + 1) })) as { code?: number; msg?: string };
  t.is(e.code, 4);
  t.is(e.msg, 'CNI_CONTAINERID: expected at most 241 characters, got 242');
});

test("the port mapper's tag for the longest container ID fits an iptables comment", (t) => {
  t.is(tag('a'.repeat(MAX_CONTAINER_ID)).length, 255);
});

test('CNI_ARGS parses K=V pairs, each split at its first "="', (t) => {
  t.deepEqual(parseCniArgs('IP=10.0.0.2;K8S_POD=a=b'), [['IP', '10.0.0.2'], ['K8S_POD', 'a=b']]);
});

test('absent CNI_ARGS parses to no pairs', (t) => {
  t.deepEqual(parseCniArgs(undefined), []);
});

test('a CNI_ARGS pair without "=" is code 4', (t) => {
  const e = t.throws(() => parseCniArgs('IP'));
  t.is((e as { code?: number }).code, 4);
});

test('envVars rebuilds the variables for a delegate, without CNI_NETNS when absent', (t) => {
  const e = parseEnv({ ...full, CNI_COMMAND: 'DEL', CNI_NETNS: undefined, CNI_ARGS: 'IP=1.2.3.4' });
  t.deepEqual(envVars(e), { CNI_COMMAND: 'DEL', CNI_CONTAINERID: 'c1', CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin:/usr/lib/cni', CNI_ARGS: 'IP=1.2.3.4' });
});

test("the interface names 'all' and 'default' are refused: the kernel reserves them", (t) => {
  for (const name of ['all', 'default']) t.regex(t.throws(() => parseEnv({ ...full, CNI_IFNAME: name }))!.message, /reserved by the kernel/);
});
