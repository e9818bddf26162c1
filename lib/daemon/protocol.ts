// The launcher ⇄ daemon wire format (one request per connection), shared with native/launcher/launcher.c.
//
//   launcher → daemon   frame(request)                 request = "MCNI1\0" type "\0" ("K=V\0")* "\0" stdin
//   daemon → launcher   one byte: 'A' accepted | 'D' declined (launcher runs the plain Node entry)
//   launcher → daemon   one byte: 'G' go (only after 'A'; the request runs only once this arrives)
//   daemon → launcher   frame(reply)                   reply = exit-status byte, request id "\0", stdout
//
// frame = u32 big-endian body length, body. The two-step start is what makes fallback safe: the
// launcher gives up (and runs the plugin itself) only before it has sent 'G', and the daemon runs
// nothing it has not been told to, so a request is never served twice.
export const MAGIC = 'MCNI1';
export const ACCEPT = 0x41; // 'A'
export const DECLINE = 0x44; // 'D'
export const GO = 0x47; // 'G'
/** Bounds one request (env + a config on stdin); a larger frame is refused as garbage. */
export const MAX_FRAME = 16 * 1024 * 1024;

export interface Request {
  type: string;
  env: Record<string, string>;
  stdin: Buffer;
}

export interface Reply {
  exitCode: number;
  requestId: string;
  stdout: Buffer;
}

export class ProtocolError extends Error {}

export function frame(body: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length, 0);
  return Buffer.concat([head, body]);
}

/** The body length of a frame whose first 4 bytes are in `buf`, or undefined when fewer arrived. */
export function frameLength(buf: Buffer): number | undefined {
  if (buf.length < 4) return undefined;
  const n = buf.readUInt32BE(0);
  if (n > MAX_FRAME) throw new ProtocolError(`frame of ${n} bytes exceeds ${MAX_FRAME}`);
  return n;
}

export function encodeRequest(r: Request): Buffer {
  const parts = [MAGIC, r.type, ...Object.entries(r.env).map(([k, v]) => `${k}=${v}`), ''];
  return Buffer.concat([Buffer.from(parts.map((p) => p + '\0').join('')), r.stdin]);
}

export function decodeRequest(body: Buffer): Request {
  let off = 0;
  const next = (): string => {
    const end = body.indexOf(0, off);
    if (end < 0) throw new ProtocolError('request: unterminated field');
    const s = body.toString('utf8', off, end);
    off = end + 1;
    return s;
  };
  if (next() !== MAGIC) throw new ProtocolError(`request: expected ${MAGIC}`);
  const type = next();
  const env: Record<string, string> = {};
  for (let kv = next(); kv !== ''; kv = next()) {
    const eq = kv.indexOf('=');
    // execve allows entries without '='; the plugin would not see them as variables either.
    if (eq > 0) env[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return { type, env, stdin: body.subarray(off) };
}

export function encodeReply(r: Reply): Buffer {
  return Buffer.concat([Buffer.from([r.exitCode & 0xff]), Buffer.from(r.requestId + '\0'), r.stdout]);
}

export function decodeReply(body: Buffer): Reply {
  const end = body.indexOf(0, 1);
  if (body.length < 2 || end < 0) throw new ProtocolError('reply: truncated');
  return { exitCode: body[0]!, requestId: body.toString('utf8', 1, end), stdout: body.subarray(end + 1) };
}
