// Local mode's calls to the overlay master's Contrail endpoints (attach, detach) at the master
// contrail.master names (a list, or the leader in ZooKeeper: masters.ts), and this agent's identity
// there: `node-ip`, else LIBPROCESS_IP, else the address the master is reached from (the
// overlay agent's rule, so both name the host alike).
import { CniError, ErrorCode } from '../../../cni/errors.js';
import type { EndpointRec } from '../../../overlay/contrail/model.js';
import type { EndpointView } from '../../../overlay/contrail/view.js';
import type { ContrailConfig } from '../config.js';
import { call, errorText } from '../http.js';
import type { MasterLookup } from './masters.js';

export interface Attached {
  endpoint: EndpointRec;
  view: EndpointView;
}

export async function agentIp(cfg: ContrailConfig, env: Record<string, string | undefined>, masters: MasterLookup): Promise<string> {
  const fixed = cfg.nodeIp ?? env.LIBPROCESS_IP;
  if (fixed) return fixed;
  const targets = await masters.targets(cfg.master);
  const r = await call(targets, '/overlay-master/leader', { method: 'GET', timeoutMs: cfg.httpTimeoutMs, failover: true }).catch((e: Error) => {
    throw new CniError(ErrorCode.TryAgainLater, `overlay master ${shown(cfg.master, targets)} unreachable`, e.message);
  });
  const ip = r.localAddress?.replace(/^::ffff:/, '');
  if (!ip) throw new CniError(ErrorCode.Plugin, "cannot tell this agent's IP (set contrail.node-ip)");
  return ip;
}

/** POST `body` to `path` at the master `stored` names (cfg.master, or a record's or the outbox's). */
export async function masterPost<T>(cfg: ContrailConfig, masters: MasterLookup, stored: readonly string[], path: string, body: unknown): Promise<T> {
  const targets = await masters.targets(stored);
  const r = await call(targets, path, { method: 'POST', body: JSON.stringify(body), timeoutMs: cfg.httpTimeoutMs, failover: true }).catch((e: Error) => {
    // Nothing was allocated: the runtime may try again once a master leads.
    throw new CniError(ErrorCode.TryAgainLater, `overlay master ${shown(stored, targets)}${path}`, e.message);
  });
  if (r.status === 200) return r.json<T>();
  // The master's refusals of a label say which one ("label floating-ips: …"): the message as is.
  const code = r.status === 400 ? ErrorCode.InvalidNetworkConfig : ErrorCode.Plugin;
  throw new CniError(code, errorText(r));
}

/** "a:1,b:2", or "zk://…/path (leader a:1)" for a ZooKeeper value. */
const shown = (stored: readonly string[], targets: readonly string[]) => (stored[0]?.startsWith('zk://') ? `${stored.join(',')} (leader ${targets.join(',')})` : stored.join(','));
