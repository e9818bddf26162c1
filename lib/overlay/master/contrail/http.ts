// The master's Contrail endpoints (local mode): networks, policies, pools and groups managed by operators
// (`mesos-cni contrail …`), attach/detach called by the plugin, and the whole state for reading.
// Served only while leading, like every other endpoint (a follower redirects, 503 otherwise).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError, readBody, send } from '../http-util.js';
import type { OverlayMaster } from '../master.js';
import { parseJson } from '../protocol.js';
import { fqField, parseAttachBody, parseDetachBody, parseGroupBody, parseNetworkBody, parsePolicyBody, parsePoolBody } from './protocol.js';

export const CONTRAIL_PREFIX = '/contrail/';

type Handler = (req: IncomingMessage, res: ServerResponse, rest: string) => Promise<void>;

const body = async (req: IncomingMessage) => parseJson(await readBody(req));

/** `/contrail/<kind>` (GET list, POST create) and `/contrail/<kind>/<fq>` (DELETE). */
function collection(master: OverlayMaster, kind: 'networks' | 'pools' | 'groups' | 'policies', put: (b: unknown) => Promise<unknown>, del: (fq: string) => Promise<boolean>): Handler {
  const parts = kind === 'pools' ? 4 : 3;
  return async (req, res, rest) => {
    if (rest === '') {
      if (req.method === 'GET') {
        const x = master.serving().contrail.x;
        return send(res, 200, [...x[kind].values()]);
      }
      if (req.method !== 'POST' && req.method !== 'PUT') throw new HttpError(405, `${req.method} not allowed: use GET, POST or PUT`, { Allow: 'GET, POST, PUT' });
      master.serving();
      return send(res, 200, await put(await body(req)));
    }
    if (req.method !== 'DELETE') throw new HttpError(405, `${req.method} not allowed: use DELETE`, { Allow: 'DELETE' });
    master.serving();
    const fq = fqField(decodeURIComponent(rest), parts, 'path', kind === 'policies' ? 'policy' : kind.slice(0, -1));
    send(res, 200, { deleted: await del(fq) });
  };
}

export function contrailRoute(master: OverlayMaster): (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void> {
  const handlers: Record<string, Handler> = {
    networks: collection(
      master,
      'networks',
      (b) => {
        const n = parseNetworkBody(b);
        return master.contrail((c) => c.putNetwork(n.fq, n.subnet));
      },
      (fq) => master.contrail((c) => c.deleteNetwork(fq)),
    ),
    pools: collection(
      master,
      'pools',
      (b) => {
        const p = parsePoolBody(b);
        return master.contrail((c) => c.putPool(p.fq, p.subnet, p.interface, p.first, p.last));
      },
      (fq) => master.contrail((c) => c.deletePool(fq)),
    ),
    groups: collection(
      master,
      'groups',
      (b) => {
        const g = parseGroupBody(b);
        return master.contrail((c) => c.putGroup(g));
      },
      (fq) => master.contrail((c) => c.deleteGroup(fq)),
    ),
    policies: collection(
      master,
      'policies',
      (b) => {
        const p = parsePolicyBody(b);
        return master.contrail((c) => c.putPolicy(p));
      },
      (fq) => master.contrail((c) => c.deletePolicy(fq)),
    ),
    state: async (req, res) => {
      if (req.method !== 'GET') throw new HttpError(405, `${req.method} not allowed: use GET`, { Allow: 'GET' });
      const x = master.serving().contrail.x;
      send(res, 200, { networks: [...x.networks.values()], pools: [...x.pools.values()], groups: [...x.groups.values()], policies: [...x.policies.values()], endpoints: [...x.endpoints.values()] });
    },
    attach: async (req, res) => {
      if (req.method !== 'POST') throw new HttpError(405, `${req.method} not allowed: use POST`, { Allow: 'POST' });
      master.serving();
      const q = parseAttachBody(await body(req));
      const r = await master.contrail((c) => c.attach(q));
      if (r.created) master.log.info({ endpoint: `${q.container_id}/${q.ifname}`, agent: q.agent, network: r.endpoint.network, ip: r.endpoint.ip, fips: r.endpoint.fips.map((f) => f.ip) }, 'contrail endpoint attached');
      send(res, 200, { endpoint: r.endpoint, view: r.view });
    },
    detach: async (req, res) => {
      if (req.method !== 'POST') throw new HttpError(405, `${req.method} not allowed: use POST`, { Allow: 'POST' });
      master.serving();
      const q = parseDetachBody(await body(req));
      const detached = await master.contrail((c) => c.detach(q.container_id, q.ifname));
      if (detached) master.log.info({ endpoint: `${q.container_id}/${q.ifname}` }, 'contrail endpoint detached');
      send(res, 200, { detached });
    },
  };
  return async (req, res, url) => {
    const path = url.pathname.slice(CONTRAIL_PREFIX.length);
    const slash = path.indexOf('/');
    const name = slash < 0 ? path : path.slice(0, slash);
    const h = Object.hasOwn(handlers, name) ? handlers[name] : undefined;
    if (!h) throw new HttpError(404, `${url.pathname}: no such endpoint`);
    await h(req, res, slash < 0 ? '' : path.slice(slash + 1));
  };
}
