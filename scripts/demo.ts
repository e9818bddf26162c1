// `npm run demo`: a fake host and a container namespace wired with the library (never the
// machine's own namespace), pings both ways over IPv4 and IPv6, then everything is removed —
// also on failure and on Ctrl-C.
import { netns, netlink } from '../lib/index.js';

const { NetlinkHandle } = netlink;
const tag = `mcd${process.pid.toString(36)}`;
const HOST = `${tag}-host`;
const CTR = `${tag}-ctr`;
const created: string[] = [];
const handles: { close(): void }[] = [];

const HOST_V4 = '10.99.0.1';
const CTR_V4 = '10.99.0.2';
const HOST_V6 = 'fd00:99::1';
const CTR_V6 = 'fd00:99::2';

let t0 = performance.now();
function step(what: string): void {
  const now = performance.now();
  console.log(`  ${(now - t0).toFixed(2).padStart(7)} ms  ${what}`);
  t0 = now;
}

async function cleanup(): Promise<void> {
  for (const h of handles.splice(0)) h.close();
  // Deleting the container's namespace destroys eth0, and with it the host's end of the pair.
  for (const name of created.splice(0).reverse()) await netns.del(name).catch((e: Error) => console.error(`cleanup ${name}: ${e.message}`));
}

let interrupted = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (interrupted) return;
    interrupted = true;
    console.error(`\n${sig}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  });
}

async function ping(from: netns.Netns, label: string, to: string): Promise<void> {
  const r = await netns.execInNetns(from, 'ping', ['-c', '3', '-i', '0.2', '-W', '2', to], { timeoutMs: 10_000, check: false });
  const loss = /(\d+(?:\.\d+)?)% packet loss/.exec(r.stdout)?.[1];
  const rtt = /= [\d.]+\/([\d.]+)\//.exec(r.stdout)?.[1];
  if (r.status !== 0) throw new Error(`ping ${label} ${to} failed (exit ${r.status}):\n${r.stdout}${r.stderr}`);
  step(`ping ${label} → ${to}: 3 sent, ${loss ?? '?'}% loss, avg rtt ${rtt ?? '?'} ms`);
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the demo creates network namespaces: run it as root');
  const start = performance.now();
  console.log(`mesos-cni demo: host "${HOST}" and container "${CTR}" (fake namespaces; the machine's own is not touched)\n`);

  created.push(await netns.add(HOST));
  created.push(await netns.add(CTR));
  const hostNs = await netns.open(HOST);
  const ctrNs = await netns.open(CTR);
  handles.push(hostNs, ctrNs);
  step(`netns add ${HOST}, ${CTR} (as \`ip netns add\`: bind mounts under /var/run/netns)`);

  const host = await NetlinkHandle.open(hostNs);
  const ctr = await NetlinkHandle.open(ctrNs);
  handles.unshift(host, ctr);
  step('netlink handles opened inside each namespace (no thread of this process switched)');

  await host.link.add({ kind: 'veth', name: 'vh0', up: true, peer: { name: 'eth0', netns: ctrNs } });
  step('ip link add vh0 up type veth peer name eth0 netns <ctr>: one request, peer born in the container');

  await host.request([
    { op: 'addr.add', spec: { dev: 'vh0', address: `${HOST_V4}/24` } },
    { op: 'addr.add', spec: { dev: 'vh0', address: `${HOST_V6}/64` } },
  ]);
  step(`host batch: ${HOST_V4}/24 and ${HOST_V6}/64 (no DAD) on vh0`);

  // The kernel refuses IFF_UP on a veth peer inside the create request (ENOTCONN), so the peer
  // comes up here, in the container's own batch: one round trip for all of it, undone on error.
  await ctr.request(
    [
      { op: 'link.set', spec: { name: 'lo', up: true } },
      { op: 'addr.add', spec: { dev: 'eth0', address: `${CTR_V4}/24` } },
      { op: 'addr.add', spec: { dev: 'eth0', address: `${CTR_V6}/64` } },
      { op: 'link.set', spec: { name: 'eth0', up: true } },
      { op: 'route.add', spec: { dst: 'default', gw: HOST_V4, dev: 'eth0' } },
      { op: 'route.add', spec: { dst: 'default', gw: HOST_V6, dev: 'eth0' } },
    ],
    { rollback: true },
  );
  step(`container batch (one round trip): lo up, ${CTR_V4}/24 + ${CTR_V6}/64 on eth0, eth0 up, default routes via the host`);

  const addrs = (await ctr.addr.list({ dev: 'eth0' })).map((a) => a.address).join(', ');
  const routes = (await ctr.route.list({}))
    .filter((r) => !r.dst.startsWith('fe80:'))
    .map((r) => `${r.dst}${r.gw ? ` via ${r.gw}` : ''}`)
    .join(', ');
  step(`container state read back: eth0 ${addrs}; routes ${routes}`);

  await ping(ctrNs, 'container', HOST_V4);
  await ping(hostNs, 'host', CTR_V4);
  await ping(ctrNs, 'container', HOST_V6);
  await ping(hostNs, 'host', CTR_V6);

  await cleanup();
  step(`netns del ${CTR}, ${HOST} (the veth pair goes with the container's namespace)`);
  console.log(`\ndone in ${(performance.now() - start).toFixed(1)} ms; nothing left behind.`);
}

main().catch(async (e: unknown) => {
  console.error(`demo failed: ${e instanceof Error ? e.message : String(e)}`);
  await cleanup();
  process.exit(1);
});
