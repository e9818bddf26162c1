// dummy links and the standalone-link fallback (lib/plugins/shared/standalone.ts): on a kernel
// without the dummy driver (this VM), addStandalone makes a port-less bridge, which must serve local addresses like a dummy does
// (what dcos-l4lb's spartan and minuteman devices are for).
import { spawn, type ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { SpecError } from '../../../../lib/native/index.js';
import { isUnknownKind } from '../../../../lib/netlink/index.js';
import { addStandalone, dummySupported, ensureStandalone } from '../../../../lib/plugins/shared/standalone.js';
import { ipJson, namespaces, nsExec, rootTest, type TestNs } from '../../../helpers/fixture.js';
import type { ExecutionContext } from 'ava';

const execFileP = promisify(execFile);

/** The kernel's own answer to `ip link add X type dummy`, through our verb and through iproute2. */
async function kernelHasDummy(t: ExecutionContext, ns: TestNs): Promise<boolean> {
  const ours = await ns.nl.link.add({ kind: 'dummy', name: 'probe0' }).then(
    () => undefined,
    (e: unknown) => e as Error & { code?: string; detail?: string },
  );
  const iproute = await execFileP('ip', ['-n', ns.name, 'link', 'add', 'probe1', 'type', 'dummy']).then(
    () => true,
    () => false,
  );
  t.is(ours === undefined, iproute, 'our verb and iproute2 agree about the dummy driver');
  if (ours !== undefined) {
    t.is(ours.code, 'EOPNOTSUPP');
    t.is(ours.detail, 'Unknown device type');
    t.is(ours.message, 'add link probe0 type dummy: Operation not supported: Unknown device type');
    t.true(isUnknownKind(ours));
  } else {
    t.is((await ns.nl.link.get('probe0')).kind, 'dummy');
  }
  return ours === undefined;
}

rootTest('detection: addStandalone uses dummy exactly when the kernel has it, and caches the answer', async (t) => {
  const [a, b] = (await namespaces(t, 2)) as [TestNs, TestNs];
  const hasDummy = await kernelHasDummy(t, a);
  const link = await addStandalone(b.nl, { name: 'spartan', up: true });
  t.is(link.kind, hasDummy ? 'dummy' : 'bridge');
  t.is(dummySupported(), hasDummy);
  // The second call follows the cached answer and makes the same kind.
  const again = await addStandalone(b.nl, { name: 'minuteman', up: true });
  t.is(again.kind, link.kind);
});

/** Listen on ADDR:53 over TCP and UDP in `ns` from a separate process; resolves once it is bound. */
async function listener(t: ExecutionContext, ns: TestNs, addr: string): Promise<ChildProcess> {
  const script = `
    const net = require('node:net'), dgram = require('node:dgram');
    net.createServer((s) => s.end('tcp-ok')).listen(53, '${addr}', () => {
      const u = dgram.createSocket('udp4');
      u.on('message', (m, r) => u.send('udp-ok', r.port, r.address));
      u.bind(53, '${addr}', () => console.log('ready'));
    });`;
  const child = spawn('ip', ['netns', 'exec', ns.name, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => {
    child.kill();
  });
  await new Promise<void>((resolve, reject) => {
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
    child.on('exit', (code) => reject(new Error(`listener exited ${code}: ${err}`)));
  });
  return child;
}

/** From another process in `ns`: one TCP connection and one UDP round trip to ADDR:53. */
async function probe(ns: TestNs, addr: string): Promise<string> {
  const script = `
    const net = require('node:net'), dgram = require('node:dgram');
    const out = [];
    const c = net.connect(53, '${addr}');
    c.on('data', (d) => out.push(d.toString()));
    c.on('end', () => {
      const u = dgram.createSocket('udp4');
      const timer = setTimeout(() => { console.log(out.join(' ') + ' udp-timeout'); process.exit(1); }, 2000);
      u.on('message', (m) => { clearTimeout(timer); out.push(m.toString()); console.log(out.join(' ')); u.close(); });
      u.send('q', 53, '${addr}');
    });
    c.on('error', (e) => { console.log('tcp-error ' + e.code); process.exit(1); });`;
  return (await nsExec(ns, [process.execPath, '-e', script])).trim();
}

rootTest('the standalone link is born in the target namespace, holds 198.51.100.1/32, is UP and serves local TCP and UDP', async (t) => {
  const [host, ctr] = (await namespaces(t, 2)) as [TestNs, TestNs];
  const link = await addStandalone(host.nl, { name: 'spartan', up: true, mtu: 1400, netns: ctr.ns });
  t.like(link, { name: 'spartan', up: true, mtu: 1400 });
  t.is(await host.nl.link.find('spartan'), undefined, 'nothing in the handle namespace');
  // Local traffic, even to spartan's address, goes through lo.
  await ctr.nl.link.set({ name: 'lo', up: true });
  await ctr.nl.addr.add({ dev: 'spartan', address: '198.51.100.1/32' });
  const [shown] = await ipJson<{ flags: string[]; addr_info: { local: string; prefixlen: number }[] }[]>(ctr, ['addr', 'show', 'spartan']);
  t.true(shown!.flags.includes('UP'));
  t.deepEqual(shown!.addr_info.filter((a) => a.local === '198.51.100.1').map((a) => a.prefixlen), [32]);
  await listener(t, ctr, '198.51.100.1');
  t.is(await probe(ctr, '198.51.100.1'), 'tcp-ok udp-ok');
  if (link.kind === 'bridge') {
    // A port-less bridge here starts with carrier on; once a port has come and gone it reports
    // NO-CARRIER. Local delivery does not depend on carrier: still reachable.
    await ctr.nl.link.add({ kind: 'veth', name: 'tmp0', master: 'spartan', peer: { name: 'tmp1' } });
    await ctr.nl.link.del('tmp0');
    const [after] = await ipJson<{ flags: string[] }[]>(ctr, ['link', 'show', 'spartan']);
    t.true(after!.flags.includes('NO-CARRIER'), after!.flags.join(','));
    t.is(await probe(ctr, '198.51.100.1'), 'tcp-ok udp-ok');
  } else {
    t.is(link.kind, 'dummy');
  }
});

rootTest('addStandalone refuses a taken name; ensureStandalone returns the existing link or names the clash', async (t) => {
  const [ns] = (await namespaces(t, 1)) as [TestNs];
  const first = await ensureStandalone(ns.nl, { name: 'minuteman', up: true });
  const second = await ensureStandalone(ns.nl, { name: 'minuteman', up: true });
  t.is(second.index, first.index);
  const e = await t.throwsAsync(addStandalone(ns.nl, { name: 'minuteman' }));
  t.is((e as { code?: string }).code, 'EEXIST');
  t.regex(e!.message, /^add link minuteman type (dummy|bridge): File exists/);
  await ns.nl.link.add({ kind: 'veth', name: 'v0', peer: { name: 'v1' } });
  const clash = await t.throwsAsync(ensureStandalone(ns.nl, { name: 'v0' }));
  t.true(clash instanceof SpecError);
  t.is(clash!.message, 'ensure link v0: exists with kind veth, expected dummy or bridge');
  const bad = await t.throwsAsync(addStandalone(ns.nl, { name: 'bad/name' }));
  t.regex(bad!.message, /^link\.name: expected an interface name/);
});
