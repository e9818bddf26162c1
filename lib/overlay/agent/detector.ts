// Finding the leading overlay master, as upstream's MasterDetector finds the Mesos master: a fixed
// address (or a list, tried in turn; a follower's redirect is followed), or the leader the masters
// elected in ZooKeeper — the lowest `election/n_<seq>` znode under `<zk path>/overlay-master`,
// whose data is that master's advertised host:port (lib/overlay/master/store/zk-layout.ts). A
// ZooKeeper leader change is announced at once, so the agent moves without waiting for a timeout.
import type { Logger } from 'pino';
import type { ZkSpec } from '../master/zk-url.js';
import { Zk } from '../master/store/zk-client.js';
import { readLeader } from './leader.js';
import type { MasterSpec } from './master-spec.js';

export interface Detector {
  /** The master to talk to now, or undefined while none is known. */
  current(): string | undefined;
  /** `addr` could not serve (unreachable, 503): look elsewhere. */
  failed(addr: string): void;
  /** A master redirected to `leader`. */
  redirected(leader: string): void;
  /** Called when the leader changes without a request having failed (ZooKeeper). */
  onChange?: (leader: string | undefined) => void;
  start(): void;
  close(): void;
}

/** A fixed list: the first that answers; on failure the next; a redirect target is tried first. */
export class StaticDetector implements Detector {
  #i = 0;
  #preferred: string | undefined;
  onChange?: (leader: string | undefined) => void;

  constructor(readonly addrs: readonly string[]) {}

  current(): string | undefined {
    return this.#preferred ?? this.addrs[this.#i];
  }

  failed(addr: string): void {
    if (addr === this.#preferred) this.#preferred = undefined;
    else if (addr === this.addrs[this.#i]) this.#i = (this.#i + 1) % this.addrs.length;
  }

  redirected(leader: string): void {
    this.#preferred = leader;
  }

  start(): void {}
  close(): void {}
}

/** The leader elected in ZooKeeper; its own session, watches on the election children. */
export class ZkDetector implements Detector {
  #zk: Zk | undefined;
  #leader: string | undefined;
  #closed = false;
  #retry: NodeJS.Timeout | undefined;
  #looking = false;
  #again = false;
  onChange?: (leader: string | undefined) => void;

  constructor(
    readonly spec: ZkSpec,
    readonly log: Logger,
  ) {}

  current(): string | undefined {
    return this.#leader;
  }

  /** ZooKeeper decides who leads; a failure only makes us look again. */
  failed(): void {
    this.#look();
  }

  redirected(): void {
    this.#look();
  }

  start(): void {
    this.#connect();
  }

  #connect(): void {
    if (this.#closed) return;
    this.#zk?.close();
    const zk = Zk.create(this.spec.servers, this.spec.sessionTimeoutMs, this.spec.sessionTimeoutMs, this.spec.auth);
    this.#zk = zk;
    zk.client.on('state', (s) => {
      if (this.#zk !== zk || this.#closed) return;
      this.log.info({ zk: s.name, servers: this.spec.display }, 'zookeeper session state');
      if (s.name === 'SYNC_CONNECTED') this.#look();
      // A lost session loses its watches: start a new one. (A mere disconnection keeps the last
      // leader known: it may well still lead, and requests to it tell.)
      else if (s.name === 'EXPIRED') this.#connect();
    });
    zk.client.connect();
  }

  /** Read the election; re-armed by its watch. Overlapping triggers collapse into one more read. */
  #look(): void {
    if (this.#closed || !this.#zk) return;
    if (this.#looking) {
      this.#again = true;
      return;
    }
    this.#looking = true;
    const zk = this.#zk;
    void (async () => {
      try {
        const leader = await readLeader(zk, this.spec.root, () => this.#zk === zk && this.#look());
        if (leader !== this.#leader) {
          this.log.info({ leader: leader ?? null, was: this.#leader ?? null }, leader ? 'overlay master leader detected' : 'no overlay master leads');
          this.#leader = leader;
          this.onChange?.(leader);
        }
      } catch (e) {
        // No election yet (no master ever ran), or a timeout: look again shortly.
        this.log.debug({ err: (e as Error).message }, 'zookeeper: election not readable');
        clearTimeout(this.#retry);
        this.#retry = setTimeout(() => this.#look(), 1000);
      } finally {
        this.#looking = false;
        if (this.#again) {
          this.#again = false;
          this.#look();
        }
      }
    })();
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#retry);
    this.#zk?.close();
    this.#zk = undefined;
  }
}

export function createDetector(m: MasterSpec, log: Logger): Detector {
  return m.kind === 'zk' ? new ZkDetector(m.zk, log) : new StaticDetector(m.addrs);
}
