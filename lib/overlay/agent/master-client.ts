// The agent's side of the master's HTTP protocol (docs/overlay-master.md): register, status and
// watch, sent to whichever master the detector names. A follower's 307 is followed (the body sent
// again); a 503 or an unreachable master is reported to the detector, which looks elsewhere.
import { Agent } from 'node:http';
import type { AgentInfo, AgentNetworkConfig, AgentOverlayInfo } from '../master/types.js';
import type { WatchReply } from '../master/watch.js';
import type { Detector } from './detector.js';
import { requestJson, type JsonReply } from './http-json.js';

export class MasterError extends Error {
  override name = 'MasterError';
  constructor(
    message: string,
    /** The HTTP status (0: no answer). */
    readonly status: number,
  ) {
    super(message);
  }
}

export interface Answer {
  reply: JsonReply;
  /** The master that answered. */
  master: string;
}

const MAX_REDIRECTS = 3;
const errorOf = (r: JsonReply): string => {
  try {
    const e = (JSON.parse(r.text) as { error?: unknown }).error;
    if (typeof e === 'string') return e;
  } catch {
    // not our JSON
  }
  return r.text.trim().slice(0, 300) || `HTTP ${r.status}`;
};

/** "http://10.0.0.1:5055/overlay-master/…" → "10.0.0.1:5055". */
function locationHost(loc: string | undefined): string | undefined {
  if (!loc) return undefined;
  try {
    return new URL(loc).host || undefined;
  } catch {
    return undefined;
  }
}

export class MasterClient {
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 4 });

  constructor(
    readonly detector: Detector,
    readonly timeoutMs = 15_000,
  ) {}

  /** One request to the leading master (redirects followed); any answer but a 503 is returned. */
  async call(method: string, path: string, body: unknown, opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<Answer> {
    let master = this.detector.current();
    for (let hop = 0; ; hop++) {
      if (!master) throw new MasterError('no overlay master known yet', 0);
      let reply: JsonReply;
      try {
        reply = await requestJson({ address: master, agent: this.#agent }, path, { method, body, timeoutMs: opts.timeoutMs ?? this.timeoutMs, signal: opts.signal });
      } catch (e) {
        if (!opts.signal?.aborted) this.detector.failed(master);
        throw new MasterError((e as Error).message, 0);
      }
      if (reply.status === 307 && hop < MAX_REDIRECTS) {
        const leader = locationHost(reply.headers.location);
        if (leader && leader !== master) {
          this.detector.redirected(leader);
          master = leader;
          continue;
        }
      }
      if (reply.status === 503 || reply.status === 307) {
        this.detector.failed(master);
        throw new MasterError(`${method} ${master}${path.split('?')[0]}: ${reply.status}: ${errorOf(reply)}`, reply.status);
      }
      return { reply, master };
    }
  }

  async #ok<T>(method: string, path: string, body: unknown): Promise<T> {
    const { reply, master } = await this.call(method, path, body);
    if (reply.status !== 200) throw new MasterError(`${method} ${master}${path}: ${reply.status}: ${errorOf(reply)}`, reply.status);
    return reply.json<T>();
  }

  /** RegisterAgentMessage → UpdateAgentOverlaysMessage. */
  register(ip: string, network: AgentNetworkConfig): Promise<AgentInfo> {
    return this.#ok('POST', '/overlay-master/agents/register', { ip, network_config: network });
  }

  /** AgentRegisteredMessage → AgentRegisteredAcknowledgement. */
  async status(ip: string, overlays: AgentOverlayInfo[]): Promise<void> {
    const states = overlays.map((o) => ({ info: { name: o.info.name }, state: o.state ?? { status: 'STATUS_INVALID' } }));
    await this.#ok('POST', '/overlay-master/agents/status', { ip, overlays: states });
  }

  /** One long poll: what changed since (epoch, version); everything without them. */
  async watch(from: { epoch?: string; version?: number }, waitMs: number, signal?: AbortSignal): Promise<{ w: WatchReply; master: string; local: string | undefined }> {
    const q = from.epoch !== undefined && from.version !== undefined ? `epoch=${encodeURIComponent(from.epoch)}&version=${from.version}&timeout_ms=${waitMs}` : 'timeout_ms=0';
    const { reply, master } = await this.call('GET', `/overlay-master/watch?${q}`, undefined, { timeoutMs: waitMs + 15_000, signal });
    if (reply.status !== 200) throw new MasterError(`GET ${master}/overlay-master/watch: ${reply.status}: ${errorOf(reply)}`, reply.status);
    return { w: reply.json<WatchReply>(), master, local: reply.localAddress?.replace(/^::ffff:/, '') };
  }

  close(): void {
    this.#agent.destroy();
  }
}
