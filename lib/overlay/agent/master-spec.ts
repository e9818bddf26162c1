// Where the overlay master is, as upstream's MasterDetector input: "host:port", a comma list of
// them, "zk://host:port[,…]/path" (the leader the masters elect there), or "file://PATH" whose
// content is one of those. Shared by the agent (`master`) and contrail-cni-plugin
// (`contrail.master`); in a file of its own, without the agent's config, so that the plugin loads
// no more than this to parse it.
import { readFileSync } from 'node:fs';
import { ConfigError, hostPort } from '../master/fields.js';
import { parseZkUrl, type ZkSpec } from '../master/zk-url.js';

/** Upstream: a detector's ZooKeeper session (Mesos' default). */
export const ZK_SESSION_TIMEOUT_MS = 10_000;

/** Where the overlay master is: a fixed list to try in turn, or the leader elected in ZooKeeper. */
export type MasterSpec = { kind: 'static'; addrs: string[]; display: string } | { kind: 'zk'; zk: ZkSpec; display: string };

export const MASTER_FORMS = 'expected "host:port", a comma-separated list of them, "zk://host:port[,host:port...]/path" or "file://PATH"';

/**
 * A value no detector can be made from. `message` is upstream's text (the agent's); `reason` the
 * same without upstream's prefix, for callers that name their own field (`contrail.master: …`);
 * `unreadable`: a file:// whose file could not be read (the value itself may be fine).
 */
export class MasterSpecError extends ConfigError {
  constructor(
    message: string,
    readonly reason: string,
    readonly unreadable = false,
  ) {
    super(message);
  }
}

/** Parse a master value; file:// is read here (synchronously: a few bytes, once, at startup). */
export function parseMasterSync(text: string): MasterSpec {
  let s = text.trim();
  if (s.startsWith('file://')) {
    const path = s.slice(7);
    try {
      s = readFileSync(path, 'utf8').trim();
    } catch (e) {
      const reason = `Error reading master configuration file '${path}': ${(e as Error).message}`;
      throw new MasterSpecError(reason, reason, true);
    }
  }
  if (s.startsWith('zk://')) {
    try {
      const zk = parseZkUrl(s, ZK_SESSION_TIMEOUT_MS);
      return { kind: 'zk', zk, display: zk.display };
    } catch (e) {
      throw new MasterSpecError(`Unable to create master detector: ${(e as Error).message}`, (e as Error).message);
    }
  }
  const addrs = s.split(',').map((a) => a.trim());
  for (const a of addrs) {
    try {
      hostPort(a, 'master');
    } catch {
      const reason = `${MASTER_FORMS}, got ${JSON.stringify(text)}`;
      throw new MasterSpecError(`Unable to create master detector: master: ${reason}`, reason);
    }
  }
  return { kind: 'static', addrs, display: addrs.join(',') };
}

/** Upstream's detector input: "host:port[,…]", "zk://…" or "file://PATH" (whose content is one of the others). */
export async function parseMaster(text: string): Promise<MasterSpec> {
  return parseMasterSync(text);
}
