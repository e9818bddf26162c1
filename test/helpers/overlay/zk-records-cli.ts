// Runs inside a test namespace: the ZooKeeper store's Contrail side under a root, read or written
// with the client the master uses (lib/overlay/master/store/zk-client.ts).
//   dump:  prints {records: {<znode>: data}, claims: {<claim znode>: data}, meta: version}
//   multi: applies a JSON list of ops (paths relative to the root) as one multi-op; prints
//          {ok: true} or {error, code} (a refused multi-op is an answer, not a failure)
import { CreateMode, Zk, ZkError, type MultiOp } from '../../../lib/overlay/master/store/zk-client.js';

const [servers, root, cmd, arg] = process.argv.slice(2);
const zk = Zk.create(servers!, 5000, 10_000);
const timer = setTimeout(() => (console.error('zk-records: no session in 20 s'), process.exit(2)), 20_000);

async function dump(): Promise<unknown> {
  const records: Record<string, unknown> = {};
  for (const n of await zk.getChildren(`${root}/records`)) records[n] = JSON.parse((await zk.getData(`${root}/records/${n}`)).data.toString());
  const claims: Record<string, string> = {};
  for (const n of await zk.getChildren(`${root}/claims/record`)) claims[n] = (await zk.getData(`${root}/claims/record/${n}`)).data.toString();
  return { records, claims, meta: (await zk.getData(`${root}/meta`)).stat.version };
}

type Op = { op: 'create'; path: string; data: unknown } | { op: 'remove'; path: string };

async function multi(ops: Op[]): Promise<unknown> {
  const text = (d: unknown) => Buffer.from(typeof d === 'string' ? d : JSON.stringify(d));
  const m: MultiOp[] = ops.map((o) => (o.op === 'create' ? { op: 'create', path: `${root}/${o.path}`, data: text(o.data), mode: CreateMode.PERSISTENT } : { op: 'remove', path: `${root}/${o.path}` }));
  try {
    await zk.multi(m);
    return { ok: true };
  } catch (e) {
    return { error: (e as Error).message, code: (e as ZkError).code ?? null };
  }
}

zk.client.once('connected', () => {
  (cmd === 'dump' ? dump() : multi(JSON.parse(arg!) as Op[])).then(
    (out) => {
      console.log(JSON.stringify(out));
      clearTimeout(timer);
      zk.close();
    },
    (e: unknown) => (console.error(`zk-records: ${String(e)}`), process.exit(1)),
  );
});
zk.client.connect();
