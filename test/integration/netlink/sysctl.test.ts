// Namespaced sysctl on real namespaces: writes land only in the target, per-interface keys for
// dotted interface names via the slash form, and the errors for bad and missing keys.
import { SpecError, SysctlError } from '../../../lib/native/index.js';
import { sysctl } from '../../../lib/netns/index.js';
import { namespaces, nsExec, rootTest, type TestNs } from '../../helpers/fixture.js';

// Harmless if it ever leaked: only decides which ports unprivileged processes may bind.
const KEY = 'net.ipv4.ip_unprivileged_port_start';

rootTest('set in a test namespace changes only that namespace', async (t) => {
  const [a, b] = (await namespaces(t, 2)) as [TestNs, TestNs];
  const here = await sysctl.get(undefined, KEY);
  const before = await sysctl.get(b.ns, KEY);
  const value = String((Number(here) % 1000) + 2000);
  await sysctl.set(a.ns, KEY, value);
  t.is(await sysctl.get(a.ns, KEY), value);
  t.is((await nsExec(a, ['cat', '/proc/sys/net/ipv4/ip_unprivileged_port_start'])).trim(), value, 'seen from inside the namespace');
  t.is(await sysctl.get(undefined, KEY), here, 'the current namespace is untouched');
  t.is(await sysctl.get(b.ns, KEY), before, 'another namespace is untouched');
  t.not(before, value);
});

rootTest('set accepts a number and writes it as text', async (t) => {
  const [a] = (await namespaces(t, 1)) as [TestNs];
  await sysctl.set(a.ns, 'net.ipv4.ip_forward', 1);
  t.is(await sysctl.get(a.ns, 'net.ipv4.ip_forward'), '1');
});

rootTest('per-interface keys: a dotted interface name needs the slash form', async (t) => {
  const [a] = (await namespaces(t, 1)) as [TestNs];
  await a.nl.link.add({ kind: 'veth', name: 'v.1', peer: { name: 'v.2' } });
  await sysctl.set(a.ns, 'net/ipv4/conf/v.1/forwarding', '1');
  await sysctl.set(a.ns, 'net/ipv6/conf/v.1/accept_dad', 0);
  t.is(await sysctl.get(a.ns, 'net/ipv4/conf/v.1/forwarding'), '1');
  t.is(await sysctl.get(a.ns, 'net/ipv4/conf/v.2/forwarding'), '0', 'the peer keeps its own value');
  t.is((await nsExec(a, ['cat', '/proc/sys/net/ipv4/conf/v.1/forwarding'])).trim(), '1');
  t.is((await nsExec(a, ['cat', '/proc/sys/net/ipv6/conf/v.1/accept_dad'])).trim(), '0');
  // The dotted form splits the name: it names a key that does not exist, never the wrong one.
  const e = await t.throwsAsync(sysctl.get(a.ns, 'net.ipv4.conf.v.1.forwarding'));
  t.true(e instanceof SysctlError);
  t.is((e as SysctlError).code, 'ENOENT');
});

rootTest('a malformed key is refused, naming the field', async (t) => {
  const [a] = (await namespaces(t, 1)) as [TestNs];
  const keys = ['kernel.hostname', 'net', 'net/../kernel/hostname', 'net/ipv4/../../kernel/hostname', 'net.ipv4.ip_forward;reboot', '/proc/sys/net/ipv4/ip_forward', 'net..ipv4'];
  for (const key of keys) {
    // Validation failures reject like kernel failures do.
    const e = await t.throwsAsync(sysctl.get(a.ns, key));
    t.true(e instanceof SpecError, key);
    t.is(e!.message, `sysctl: key: expected net.<a>.<b> (or net/<a>/<b> when a part holds dots), got ${JSON.stringify(key)}`);
  }
});

rootTest('a value that is not plain text is refused before any write, naming the field', async (t) => {
  const [a] = (await namespaces(t, 1)) as [TestNs];
  const v = await t.throwsAsync(sysctl.set(a.ns, KEY, "1\n2"));
  t.true(v instanceof SpecError);
  t.regex(v!.message, /^sysctl net\.ipv4\.ip_unprivileged_port_start: value: expected plain text/);
  t.is(await sysctl.get(a.ns, KEY), '1024');
});

rootTest('a missing key is an ENOENT SysctlError, read or written', async (t) => {
  const [a] = (await namespaces(t, 1)) as [TestNs];
  const e = await t.throwsAsync(sysctl.get(a.ns, 'net.ipv4.no_such_key'));
  t.true(e instanceof SysctlError);
  t.is((e as SysctlError).code, 'ENOENT');
  t.regex(e!.message, /^read sysctl net\/ipv4\/no_such_key: No such file or directory/);
  const w = await t.throwsAsync(sysctl.set(a.ns, 'net.ipv4.conf.nope0.forwarding', 1));
  t.is((w as SysctlError).code, 'ENOENT');
});

rootTest('a value the kernel refuses is a SysctlError with its EINVAL', async (t) => {
  const [a] = (await namespaces(t, 1)) as [TestNs];
  const inval = await t.throwsAsync(sysctl.set(a.ns, KEY, 'abc'));
  t.true(inval instanceof SysctlError);
  t.is((inval as SysctlError).code, 'EINVAL');
});
