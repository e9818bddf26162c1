// A stand-in Contrail cluster for Contrail-mode tests, built from the spec (reference §3, §5): the
// contrail-mesos-manager (POST /add_cni_info, /del_cni_info) and the vRouter agent's port API
// (GET /vm-cfg/<name>, POST /vm, GET /vm/<uuid>, DELETE /vm/<uuid>). Run inside a test host's
// namespace: `node fake-cluster.js <dir> <managerPort> <vrouterPort>`. What it answers comes from
// <dir>/behavior.json (read per request, so a test changes it between calls); every request is
// appended to <dir>/requests.jsonl. Prints "ready" once both listen.
import { appendFileSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';

export interface FakeInterface {
  vmi: string;
  mac: string;
  ip: string;
  plen: number;
  gateway: string;
  dns: string;
  vn: string;
  /** Annotations as the agent sends them ("{key:value}"); default {index:i/N}. */
  annotations?: string[];
}

export interface Behavior {
  manager?: { status?: number; delayMs?: number };
  /** Per container name (CNI_CONTAINERID). */
  containers?: Record<string, { vmUuid: string; interfaces: FakeInterface[]; /** /vm-cfg answers with one interface fewer this many times. */ partial?: number; vmCfgStatus?: number; vmStatus?: number }>;
  postVmStatus?: number;
  deleteVmStatus?: number;
}

const [dir, managerPort, vrouterPort] = process.argv.slice(2) as [string, string, string];
const behavior = (): Behavior => {
  try {
    return JSON.parse(readFileSync(join(dir, 'behavior.json'), 'utf8')) as Behavior;
  } catch {
    return {};
  }
};
const seen = new Map<string, number>();
const posted = new Set<string>();

function read(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let b = '';
    req.setEncoding('utf8');
    req.on('data', (d) => (b += d));
    req.on('end', () => resolve(b));
  });
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(text);
}

const entry = (vmUuid: string, f: FakeInterface, i: number, n: number) => ({
  'vm-uuid': vmUuid,
  'network-label': f.vn,
  'ip-address': f.ip,
  plen: f.plen,
  gateway: f.gateway,
  'dns-server': f.dns,
  'mac-address': f.mac,
  'vlan-id': 65535,
  'vn-id': `vn-${f.vn}`,
  'vn-name': `default-domain:default:${f.vn}`,
  id: f.vmi,
  annotations: f.annotations ?? [`{index:${i}/${n}}`, '{cluster:mesos}', '{kind:Pod}'],
});

function serve(port: string, name: string, handle: (req: IncomingMessage, body: string, res: ServerResponse) => void) {
  return new Promise<void>((resolve) => {
    createServer((req, res) => {
      void read(req).then((body) => {
        appendFileSync(join(dir, 'requests.jsonl'), JSON.stringify({ server: name, method: req.method, path: req.url, type: req.headers['content-type'], body }) + '\n');
        handle(req, body, res);
      });
    }).listen(Number(port), '127.0.0.1', resolve);
  });
}

await serve(managerPort, 'manager', (req, body, res) => {
  const m = behavior().manager ?? {};
  setTimeout(() => {
    if ((m.status ?? 200) !== 200) return reply(res, m.status!, { error: 'refused by the test' });
    // The manager echoes the request object (cni_request_server.py).
    reply(res, 200, JSON.parse(body || '{}'));
  }, m.delayMs ?? 0);
});

await serve(vrouterPort, 'vrouter', (req, body, res) => {
  const b = behavior();
  const path = req.url ?? '/';
  const cfg = /^\/vm-cfg\/([^/]+)$/.exec(path);
  if (cfg && req.method === 'GET') {
    const c = b.containers?.[decodeURIComponent(cfg[1]!)];
    if (!c) return reply(res, 404, {});
    if ((c.vmCfgStatus ?? 200) !== 200) return reply(res, c.vmCfgStatus!, {});
    const n = (seen.get(cfg[1]!) ?? 0) + 1;
    seen.set(cfg[1]!, n);
    const all = c.interfaces.map((f, i) => entry(c.vmUuid, f, i, c.interfaces.length));
    return reply(res, 200, n <= (c.partial ?? 0) ? all.slice(0, -1) : all);
  }
  if (path === '/vm' && req.method === 'POST') {
    if ((b.postVmStatus ?? 200) !== 200) return reply(res, b.postVmStatus!, {});
    posted.add((JSON.parse(body) as { 'vmi-uuid': string })['vmi-uuid']);
    return reply(res, 201, {});
  }
  const vm = /^\/vm\/([^/]+)$/.exec(path);
  if (vm && req.method === 'GET') {
    const c = Object.values(b.containers ?? {}).find((x) => x.vmUuid === decodeURIComponent(vm[1]!));
    if (!c || !c.interfaces.every((f) => posted.has(f.vmi))) return reply(res, 404, {});
    if ((c.vmStatus ?? 200) !== 200) return reply(res, c.vmStatus!, {});
    return reply(res, 200, c.interfaces.map((f, i) => entry(c.vmUuid, f, i, c.interfaces.length)));
  }
  if (vm && req.method === 'DELETE') return reply(res, b.deleteVmStatus ?? 200, {});
  reply(res, 404, {});
});
console.log('ready');
