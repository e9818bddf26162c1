// One HTTP request with a JSON body and a bounded wait, over TCP (the overlay master) or a unix
// socket (the Docker Engine): node:http, no client library. Every failure is an Error saying
// what was asked of whom.
import { Agent, request, type IncomingHttpHeaders } from 'node:http';

export interface HttpTarget {
  /** "host:port" (IPv6 hosts in brackets), or a unix socket path. */
  address?: string;
  socketPath?: string;
  agent?: Agent;
}

export interface JsonReply {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** The body as received. */
  bytes: Buffer;
  /** The body parsed; throws a clear error when it is not JSON. */
  json<T = unknown>(): T;
  /** The local address the request left from (the agent's identity as the master sees it). */
  localAddress: string | undefined;
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  /** Raw body bytes (with their content type) instead of JSON. */
  raw?: { data: Uint8Array; type: string };
  timeoutMs: number;
  signal?: AbortSignal;
  headers?: Record<string, string>;
}

const MAX_REPLY = 64 << 20;

export function splitHostPort(address: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(address);
  if (!m) throw new Error(`${JSON.stringify(address)}: expected "host:port"`);
  return { host: m[1] ?? m[2]!, port: Number(m[3]) };
}

export function requestJson(target: HttpTarget, path: string, o: RequestOptions): Promise<JsonReply> {
  const where = target.socketPath ?? `http://${target.address}`;
  const method = o.method ?? (o.body === undefined && !o.raw ? 'GET' : 'POST');
  const what = `${method} ${where}${path}`;
  const data = o.raw ? o.raw.data : o.body === undefined ? undefined : Buffer.from(JSON.stringify(o.body));
  const headers: Record<string, string | number> = { Accept: 'application/json', ...o.headers };
  if (data) Object.assign(headers, { 'Content-Type': o.raw?.type ?? 'application/json', 'Content-Length': data.length });
  const addr = target.socketPath ? { socketPath: target.socketPath } : splitHostPort(target.address!);
  return new Promise<JsonReply>((resolve, reject) => {
    let local: string | undefined;
    const req = request({ ...addr, method, path, headers, agent: target.agent, signal: o.signal }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_REPLY) req.destroy(new Error(`reply larger than ${MAX_REPLY} bytes`));
        else chunks.push(c);
      });
      res.on('error', (e) => reject(new Error(`${what}: ${e.message}`)));
      res.on('end', () => {
        clearTimeout(timer);
        const bytes = Buffer.concat(chunks);
        const text = bytes.toString('utf8');
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          text,
          bytes,
          localAddress: local,
          json<T>(): T {
            try {
              return JSON.parse(text) as T;
            } catch {
              throw new Error(`${what}: answered ${res.statusCode} with a body that is not JSON: ${JSON.stringify(text.slice(0, 200))}`);
            }
          },
        });
      });
    });
    req.on('socket', (s) => {
      const note = () => (local = s.localAddress);
      if (s.localAddress) note();
      else s.once('connect', note);
    });
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${o.timeoutMs} ms`)), o.timeoutMs);
    req.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new Error(`${what}: ${e.code && !e.message.includes(e.code) ? `${e.code}: ` : ''}${e.message}`));
    });
    req.end(data);
  });
}
