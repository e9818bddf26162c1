// Runs inside a test namespace: prints what the ZooKeeper store holds under a root, as JSON
// ({agents: {ip: record}, claims: {kind: [names]}}), read with the same client the master uses.
import zookeeper from 'node-zookeeper-client';

const [servers, root] = process.argv.slice(2);
const c = zookeeper.createClient(servers!, { sessionTimeout: 5000 });
const call = <T>(fn: (cb: (e: unknown, v: T) => void) => void) => new Promise<T>((res, rej) => fn((e, v) => (e ? rej(e) : res(v))));
const timer = setTimeout(() => (console.error('zk-dump: no answer in 20 s'), process.exit(2)), 20_000);
async function dump(): Promise<void> {
  const out: { agents: Record<string, unknown>; claims: Record<string, string[]> } = { agents: {}, claims: {} };
  for (const ip of await call<string[]>((cb) => c.getChildren(`${root}/agents`, cb))) {
    const data = await call<Buffer>((cb) => c.getData(`${root}/agents/${ip}`, cb));
    out.agents[ip] = JSON.parse(data.toString());
  }
  for (const k of ['vtep', 'vtep6', 'mac', 'subnet', 'subnet6']) out.claims[k] = await call<string[]>((cb) => c.getChildren(`${root}/claims/${k}`, cb));
  console.log(JSON.stringify(out));
  clearTimeout(timer);
  c.close();
}
c.once('connected', () => {
  dump().catch((e: unknown) => (console.error(`zk-dump: ${String(e)}`), process.exit(1)));
});
c.connect();
