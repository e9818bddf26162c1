// Local mode's `contrail.master`: the overlay agent's forms (lib/overlay/agent/master-spec.ts) —
// "host:port", a comma list of them, "zk://host:port[,…]/path", "file://PATH" — and where a call
// goes now. A list is tried in turn (a follower redirects to the leader); a zk:// value means the
// leader elected there, read once per plugin run from the election in a session closed right
// after: a watching detector has no place in a process that lives a second.
//
// Port records and the outbox keep the value in a stored form, so that a later DEL asks whoever
// leads then: a list as is, a ZooKeeper value as the one target "zk://servers/path" without its
// credentials (port records are world-readable files); the current config's credentials are used
// when it names the same ensemble and path.
import { CniError, ErrorCode, InputError } from '../../../cni/errors.js';
import { MasterSpecError, parseMasterSync, ZK_SESSION_TIMEOUT_MS, type MasterSpec } from '../../../overlay/agent/master-spec.js';
import { ConfigError } from '../../../overlay/master/fields.js';
import { parseZkUrl, type ZkSpec } from '../../../overlay/master/zk-url.js';

const OVERLAY_ROOT = '/overlay-master';

/** The stored form of a ZooKeeper spec: "zk://servers/path", no credentials. */
const zkTarget = (zk: ZkSpec): string => `zk://${zk.servers}${zk.root.slice(0, -OVERLAY_ROOT.length)}`;

/** A master value parsed: its spec (credentials included) and the targets records keep. */
export interface Masters {
  spec: MasterSpec;
  stored: string[];
}

/**
 * Parse a master value for `field` ("contrail.master", "--master"); a malformed one is code 7
 * naming it. A file:// that cannot be read is code 5 and no input error: an ADD may have worked
 * with it, so a DEL must not answer success without doing anything.
 */
export function parseMasters(text: string, field: string): Masters {
  let spec: MasterSpec;
  try {
    spec = parseMasterSync(text);
  } catch (e) {
    if (!(e instanceof MasterSpecError)) throw e;
    if (e.unreadable) throw new CniError(ErrorCode.IoFailure, `${field}: ${e.reason}`);
    throw new InputError(ErrorCode.InvalidNetworkConfig, `${field}: ${e.reason}`);
  }
  return { spec, stored: spec.kind === 'zk' ? [zkTarget(spec.zk)] : spec.addrs };
}

/** A stored target list that names ZooKeeper, as its spec (else undefined: a host:port list). */
function storedZk(stored: readonly string[], current: MasterSpec, field: string): ZkSpec | undefined {
  const first = stored[0];
  if (stored.length !== 1 || !first?.startsWith('zk://')) return undefined;
  if (current.kind === 'zk' && zkTarget(current.zk) === first) return current.zk;
  try {
    return parseZkUrl(first, ZK_SESSION_TIMEOUT_MS);
  } catch (e) {
    if (e instanceof ConfigError) throw new InputError(ErrorCode.InvalidNetworkConfig, `${field}: ${e.message}`);
    throw e;
  }
}

/**
 * Where to send calls during one plugin run: each ZooKeeper ensemble is asked once (memoised), a
 * list is used as is. Nothing is kept across runs (the daemon runs many in one process).
 */
export class MasterLookup {
  readonly #memo = new Map<string, Promise<string[]>>();

  constructor(
    readonly current: MasterSpec,
    readonly timeoutMs: number,
    readonly field = 'contrail.master',
  ) {}

  /** The addresses to call for `stored` targets; ZooKeeper unreachable or no leader: code 11. */
  async targets(stored: readonly string[]): Promise<string[]> {
    const zk = storedZk(stored, this.current, this.field);
    if (!zk) return [...stored];
    const key = `${zk.servers}${zk.root}`;
    let p = this.#memo.get(key);
    if (!p) {
      p = lookup(zk, this.timeoutMs, this.field);
      this.#memo.set(key, p);
    }
    return p;
  }
}

async function lookup(zk: ZkSpec, timeoutMs: number, field: string): Promise<string[]> {
  // Loaded only here: the ZooKeeper client is not part of a host:port run's startup.
  const { lookupLeader } = await import('../../../overlay/agent/leader.js');
  try {
    return [await lookupLeader(zk, timeoutMs)];
  } catch (e) {
    // Nothing was asked of any master: the runtime may try again once one leads.
    throw new CniError(ErrorCode.TryAgainLater, `${field}: ${(e as Error).message}`);
  }
}

/**
 * For a one-off caller (`mesos-cni contrail --master`): the addresses to call for a master value
 * of any form; a malformed value is code 7, ZooKeeper unreachable or no leader code 11, each
 * naming `field`.
 */
export async function masterTargets(text: string, opts: { timeoutMs: number; field?: string }): Promise<string[]> {
  const field = opts.field ?? '--master';
  const m = parseMasters(text, field);
  return new MasterLookup(m.spec, opts.timeoutMs, field).targets(m.stored);
}
