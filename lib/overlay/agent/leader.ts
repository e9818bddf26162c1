// Who leads the overlay masters, read from their election in ZooKeeper: the lowest
// `election/n_<seq>` znode under `<zk path>/overlay-master`, whose data is that master's
// advertised host:port (lib/overlay/master/store/zk-layout.ts). readLeader is one read (the
// agent's detector re-arms it with a watch); lookupLeader is a whole short session for a process
// that asks once (contrail-cni-plugin): connect, read, close. It sets no watch and leaves nothing
// open, so a short-lived process ends as soon as its work does.
import type { Event } from 'node-zookeeper-client';
import { paths } from '../master/store/zk-layout.js';
import { Exception, Zk, ZkError } from '../master/store/zk-client.js';
import type { ZkSpec } from '../master/zk-url.js';

const seq = (n: string) => Number(n.slice(n.lastIndexOf('_') + 1));

/** The leader's "host:port", or undefined when no master is in the election. */
export async function readLeader(zk: Zk, root: string, watch?: (e: Event) => void): Promise<string | undefined> {
  const election = paths(root).election;
  const children = await zk.getChildren(election, watch);
  children.sort((a, b) => seq(a) - seq(b));
  const first = children[0];
  return first === undefined ? undefined : (await zk.getData(`${election}/${first}`)).data.toString();
}

/** Why there is no leader to call: ZooKeeper did not answer, or it did and no master leads. */
export class LeaderLookupError extends Error {
  override name = 'LeaderLookupError';
  constructor(
    message: string,
    readonly kind: 'unreachable' | 'none',
  ) {
    super(message);
  }
}

/** A session, or an error once `timeoutMs` passed without one (the client would try forever). */
function connect(zk: Zk, spec: ZkSpec, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (e?: Error) => {
      clearTimeout(timer);
      zk.client.removeListener('state', onState);
      if (e) reject(e);
      else resolve();
    };
    const timer = setTimeout(() => done(new LeaderLookupError(`ZooKeeper at ${spec.display}: no session within ${timeoutMs} ms`, 'unreachable')), timeoutMs);
    const onState = (s: { name: string }) => {
      if (s.name === 'SYNC_CONNECTED' || s.name === 'CONNECTED_READ_ONLY') done();
      else if (s.name === 'AUTH_FAILED') done(new LeaderLookupError(`ZooKeeper at ${spec.display}: authentication failed`, 'unreachable'));
    };
    zk.client.on('state', onState);
    zk.client.connect();
  });
}

/**
 * The leading master's "host:port", looked up once in a session of its own that is closed before
 * this returns (also on failure). Each step is bounded by `timeoutMs`.
 */
export async function lookupLeader(spec: ZkSpec, timeoutMs: number): Promise<string> {
  const zk = Zk.create(spec.servers, spec.sessionTimeoutMs, timeoutMs, spec.auth);
  const election = paths(spec.root).election;
  try {
    await connect(zk, spec, timeoutMs);
    for (let attempt = 1; ; attempt++) {
      let leader: string | undefined;
      try {
        leader = await readLeader(zk, spec.root);
      } catch (e) {
        if (!(e instanceof ZkError) || e.code !== Exception.NO_NODE) throw new LeaderLookupError(`ZooKeeper at ${spec.display}: ${(e as Error).message}`, 'unreachable');
        // No master ever joined (no election znode), or the leader's znode went between the two
        // reads (it just stepped down): then read again, a successor is already in line.
        const present = await zk.exists(election).catch(() => null);
        if (present && attempt < 3) continue;
        throw new LeaderLookupError(`no overlay master leads at ${spec.display}: ${present ? `${election} changed under each of ${attempt} reads` : `${election} does not exist (no master ever ran there)`}`, 'none');
      }
      if (leader === undefined) throw new LeaderLookupError(`no overlay master leads at ${spec.display}: ${election} is empty`, 'none');
      return leader;
    }
  } finally {
    zk.close();
  }
}
