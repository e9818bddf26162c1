// The master's HTTP API (node:http): upstream's /overlay-master/state and /agents/delete, the agent
// protocol (register, status, watch), /overlay-master/leader and /metrics. A follower redirects
// (307) to the leader; a master with no usable store answers 503. No request can take the daemon
// down: every handler's failure becomes an answer.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { AllocationError, BadRequestError, NotLeaderError, UnknownAgentError, type OverlayMaster } from './master.js';
import { BodyError, parseDelete, parseJson, parseRegister, parseStatus } from './protocol.js';
import { StoreError } from './store/types.js';
import { ContrailError } from './contrail/state.js';
import { CONTRAIL_PREFIX, contrailRoute } from './contrail/http.js';
import { HttpError, MAX_WATCH_MS, readBody, send } from './http-util.js';

function requireMethod(req: IncomingMessage, method: string): void {
  if (req.method !== method) throw new HttpError(405, `${req.method} not allowed: use ${method}`, { Allow: method });
}

export function createApi(master: OverlayMaster): Server {
  const routes: Record<string, (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>> = {
    '/overlay-master/state': async (req, res, url) => {
      requireMethod(req, 'GET');
      const json = JSON.stringify(master.stateJson());
      const cb = url.searchParams.get('jsonp');
      if (cb !== null) {
        if (!/^[A-Za-z_$][\w$.]*$/.test(cb)) throw new HttpError(400, `jsonp: expected a JavaScript identifier, got ${JSON.stringify(cb)}`);
        send(res, 200, `${cb}(${json});`, { 'Content-Type': 'text/javascript' });
      } else send(res, 200, json);
    },
    '/overlay-master/agents/delete': async (req, res) => {
      requireMethod(req, 'POST');
      master.serving(); // upstream: 503 before the body is looked at
      const ips = parseDelete(parseJson(await readBody(req)));
      await master.deleteAgents(ips);
      send(res, 200, master.stateJson());
    },
    '/overlay-master/agents/register': async (req, res) => {
      requireMethod(req, 'POST');
      master.serving();
      const { ip, config } = parseRegister(parseJson(await readBody(req)));
      send(res, 200, await master.register(ip, config));
    },
    '/overlay-master/agents/status': async (req, res) => {
      requireMethod(req, 'POST');
      master.serving();
      const { ip, states } = parseStatus(parseJson(await readBody(req)));
      master.reportStatus(ip, states);
      send(res, 200, {});
    },
    '/overlay-master/watch': async (req, res, url) => {
      requireMethod(req, 'GET');
      const view = master.watchView();
      const epoch = url.searchParams.get('epoch') ?? undefined;
      const vText = url.searchParams.get('version');
      const tText = url.searchParams.get('timeout_ms') ?? '30000';
      if (vText !== null && !/^\d+$/.test(vText)) throw new HttpError(400, `version: expected a non-negative integer, got ${JSON.stringify(vText)}`);
      if (!/^\d+$/.test(tText) || Number(tText) > MAX_WATCH_MS) throw new HttpError(400, `timeout_ms: expected an integer from 0 to ${MAX_WATCH_MS}, got ${JSON.stringify(tText)}`);
      const version = vText === null ? undefined : Number(vText);
      const now = master.watch.reply(epoch, version, view);
      if (now || Number(tText) === 0) {
        send(res, 200, now ?? { epoch: master.watch.epoch, version: master.watch.version, full: false, agents: [], deleted: [] });
        return;
      }
      const cancel = master.watch.wait(version!, Number(tText), (body, status = 200) => send(res, status, body));
      res.on('close', cancel);
    },
    '/overlay-master/leader': async (req, res) => {
      requireMethod(req, 'GET');
      send(res, 200, { role: master.role, leader: master.leader ?? null, self: master.config.advertise, reason: master.reason, store: master.store.kind });
    },
    '/metrics': async (req, res) => {
      requireMethod(req, 'GET');
      const text = master.metrics.render({ role: master.role, store: master.store.kind, allocation: master.state?.current, watchers: master.watch.watchers, version: master.watch.version });
      send(res, 200, text, { 'Content-Type': 'text/plain; version=0.0.4' });
    },
  };

  const contrail = contrailRoute(master);
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://master');
    const route = Object.hasOwn(routes, url.pathname) ? routes[url.pathname] : url.pathname.startsWith(CONTRAIL_PREFIX) ? contrail : undefined;
    const t0 = performance.now();
    res.on('finish', () => {
      const path = !route ? 'other' : url.pathname.startsWith(CONTRAIL_PREFIX) ? CONTRAIL_PREFIX + url.pathname.slice(CONTRAIL_PREFIX.length).split('/')[0] : url.pathname;
      master.metrics.inc('overlay_master_http_requests_total', `path="${path}",code="${res.statusCode}"`);
      if (res.statusCode >= 500) master.log.warn({ path: url.pathname, code: res.statusCode, ms: Math.round(performance.now() - t0) }, 'request failed');
    });
    if (!route) return send(res, 404, { error: `${url.pathname}: no such endpoint` });
    route(req, res, url).catch((e: unknown) => {
      const err = e as Error;
      if (err instanceof HttpError) return send(res, err.status, { error: err.message }, err.headers);
      if (err instanceof NotLeaderError) {
        if (err.leader && err.leader !== master.config.advertise) {
          return send(res, 307, { error: err.message, leader: err.leader }, { Location: `http://${err.leader}${url.pathname}${url.search}` });
        }
        return send(res, 503, { error: err.message });
      }
      if (err instanceof BodyError || err instanceof BadRequestError) return send(res, 400, { error: err.message });
      if (err instanceof UnknownAgentError) return send(res, 404, { error: err.message });
      if (err instanceof AllocationError) return send(res, 409, { error: err.message });
      if (err instanceof StoreError) return send(res, 503, { error: err.message });
      if (err instanceof ContrailError) return send(res, err.status, { error: err.message, ...(err.label && { label: err.label }) });
      // A batch rejected because leadership went meanwhile: the caller retries (elsewhere).
      if (master.role !== 'leader') return send(res, 503, { error: err.message });
      master.log.error({ err: err.stack ?? String(err), path: url.pathname }, 'request failed unexpectedly');
      send(res, 500, { error: `${url.pathname}: ${err.message}` });
    });
  });
  server.on('clientError', (_e, socket) => socket.destroy());
  // Watches stay parked for minutes; keep-alive connections of 1000 agents are expected.
  server.requestTimeout = MAX_WATCH_MS + 60_000;
  server.headersTimeout = 60_000;
  server.keepAliveTimeout = 65_000;
  return server;
}
