// The agent's HTTP endpoint: upstream's `GET /overlay-agent/overlay` (the AgentInfo with every
// overlay's state and configuration_attempts, in the JSON shape dcos-net reads; `?jsonp=`) and
// `GET /metrics`. Read-only; a handler's failure becomes a 500, never a crash.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { OverlayAgent } from './agent.js';

function send(res: ServerResponse, status: number, body: string, type = 'application/json', headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

/** Whether an Accept header admits `type` (absent: anything), as libprocess' acceptsMediaType. */
export function accepts(header: string | undefined, type: string): boolean {
  if (header === undefined || header.trim() === '') return true;
  const [major] = type.split('/');
  return header.split(',').some((part) => {
    const [range, ...params] = part.trim().toLowerCase().split(';').map((s) => s.trim());
    const q = params.find((p) => p.startsWith('q='));
    if (q !== undefined && Number(q.slice(2)) <= 0) return false;
    return range === type || range === '*/*' || range === `${major}/*`;
  });
}

export function createAgentApi(agent: OverlayAgent): Server {
  const routes: Record<string, (req: IncomingMessage, res: ServerResponse, url: URL) => void> = {
    '/overlay-agent/overlay': (req, res, url) => {
      if (!accepts(req.headers.accept, 'application/json')) {
        // Upstream also serves the serialized protobuf; nothing reads it (dcos-net asks for JSON).
        return send(res, 415, JSON.stringify({ error: 'Client needs to support application/json (application/x-protobuf is not served)' }));
      }
      const info = agent.info();
      if (!info) return send(res, 503, JSON.stringify({ error: 'the agent has not reached an overlay master yet (its IP is not known)' }));
      const json = JSON.stringify(info);
      const cb = url.searchParams.get('jsonp');
      if (cb === null) return send(res, 200, json);
      if (!/^[A-Za-z_$][\w$.]*$/.test(cb)) return send(res, 400, JSON.stringify({ error: `jsonp: expected a JavaScript identifier, got ${JSON.stringify(cb)}` }));
      send(res, 200, `${cb}(${json});`, 'text/javascript');
    },
    '/metrics': (_req, res) => send(res, 200, agent.metrics.render(agent.gauges()), 'text/plain; version=0.0.4'),
  };
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://agent');
    const route = routes[url.pathname];
    if (!route) return send(res, 404, JSON.stringify({ error: `${url.pathname}: no such endpoint` }));
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, JSON.stringify({ error: `${req.method} not allowed: use GET` }), 'application/json', { Allow: 'GET' });
    try {
      route(req, res, url);
    } catch (e) {
      agent.o.log.error({ err: (e as Error).stack ?? String(e), path: url.pathname }, 'request failed unexpectedly');
      send(res, 500, JSON.stringify({ error: `${url.pathname}: ${(e as Error).message}` }));
    }
  });
  server.on('clientError', (_e, socket) => socket.destroy());
  return server;
}
