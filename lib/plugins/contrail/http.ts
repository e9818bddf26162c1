// The plugin's HTTP calls: bounded (upstream's Go client waited forever), the first of several
// targets that answers; a 307 from an overlay master follower is followed to the leader.
import { requestJson, type JsonReply } from '../../overlay/agent/http-json.js';

export interface Call {
  method: string;
  /** Raw body and its content type (upstream's bodies are byte-exact: sorted keys, tab indent). */
  body?: string;
  timeoutMs: number;
  /** An overlay master: a 503 (not leading, no store) moves on to the next target. */
  failover?: boolean;
}

export class HttpFailure extends Error {
  override name = 'HttpFailure';
  constructor(
    message: string,
    /** 0: no answer at all. */
    readonly status: number,
    readonly reply?: JsonReply,
  ) {
    super(message);
  }
}

/**
 * `method path` at each target in turn until one answers (with `failover`: anything but 503); that
 * answer is returned whatever its status. Redirects (307) are followed up to 3 times.
 */
export async function call(targets: readonly string[], path: string, c: Call): Promise<JsonReply> {
  const errors: string[] = [];
  for (const first of targets) {
    let target = first;
    for (let hop = 0; hop < 4; hop++) {
      let r: JsonReply;
      try {
        r = await requestJson({ address: target }, path, {
          method: c.method,
          ...(c.body !== undefined && { raw: { data: Buffer.from(c.body), type: 'application/json' } }),
          timeoutMs: c.timeoutMs,
        });
      } catch (e) {
        errors.push((e as Error).message);
        break;
      }
      const loc = r.headers.location;
      if (r.status === 307 && loc && hop < 3) {
        try {
          target = new URL(loc).host;
          continue;
        } catch {
          // not a URL: answer as is
        }
      }
      if (r.status === 503 && c.failover) {
        errors.push(`${c.method} http://${target}${path}: 503: ${r.text.slice(0, 300)}`);
        break;
      }
      return r;
    }
  }
  throw new HttpFailure(errors.join('; '), 0);
}

/** The `error` of a JSON error body, else the text. */
export function errorText(r: JsonReply): string {
  try {
    const e = (JSON.parse(r.text) as { error?: unknown }).error;
    if (typeof e === 'string') return e;
  } catch {
    // not JSON
  }
  return r.text.trim().slice(0, 300) || `HTTP ${r.status}`;
}
