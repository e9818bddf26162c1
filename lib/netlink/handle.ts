// A netlink handle bound to one namespace: its socket was opened inside that namespace, so every
// request acts there without switching threads. Verbs hang off it: nl.link.add(...), nl.route.replace(...).
import { attachUndoErrors, errnoMessage, errnoName, native, NetlinkError, SpecError, type NativeHandle } from '../native/index.js';
import { Netns, open as openNetns } from '../netns/netns.js';
import { opDef, type Op, type OpName, type OpSpecs } from './ops.js';
import { LinkApi } from './link.js';
import { ifname } from './validate.js';
import './kinds.js';
import { BridgePortApi } from './bridge_port.js';
import { BridgeVlanApi } from './bridge_vlan.js';
import { AddrApi } from './addr.js';
import { RouteApi } from './route.js';
import { RuleApi } from './rule.js';
import { NeighApi } from './neigh.js';

export interface RequestOptions {
  /** On the first failure, undo the ops that succeeded before it (in reverse order). */
  rollback?: boolean;
}

export class NetlinkHandle {
  #h: NativeHandle | undefined;
  /** The namespace this handle acts in; undefined means the current namespace. */
  readonly netns: Netns | undefined;
  readonly link: LinkApi;
  readonly bridgePort: BridgePortApi;
  readonly bridgeVlan: BridgeVlanApi;
  readonly addr: AddrApi;
  readonly route: RouteApi;
  readonly rule: RuleApi;
  readonly neigh: NeighApi;

  private constructor(h: NativeHandle, netns: Netns | undefined) {
    this.#h = h;
    this.netns = netns;
    this.link = new LinkApi(this);
    this.bridgePort = new BridgePortApi(this);
    this.bridgeVlan = new BridgeVlanApi(this);
    this.addr = new AddrApi(this);
    this.route = new RouteApi(this);
    this.rule = new RuleApi(this);
    this.neigh = new NeighApi(this);
  }

  /** Open a handle in `ns` (a Netns, a name under /var/run/netns, or a path); default: current namespace. */
  static async open(ns?: Netns | string): Promise<NetlinkHandle> {
    const netns = typeof ns === 'string' ? await openNetns(ns) : ns;
    try {
      return new NetlinkHandle(await native.netlinkOpen(netns ? netns.fd : -1), netns);
    } finally {
      // The socket keeps the namespace alive; a namespace we opened ourselves is not kept open.
      if (typeof ns === 'string') netns?.close();
    }
  }

  /** Another handle, in `ns` (for verbs that create a link elsewhere and read it back there). */
  openAt(ns: Netns): Promise<NetlinkHandle> {
    return NetlinkHandle.open(ns);
  }

  /** Look up a link's index by name (or pass an index through). */
  async linkIndex(ref: string | number, field: string): Promise<number> {
    if (typeof ref === 'number') {
      if (Number.isInteger(ref) && ref > 0 && ref < 2 ** 31) return ref;
      throw new SpecError(`${field}: expected an interface name or a positive index, got ${ref}`);
    }
    const known = this.#known.get(ref);
    if (known !== undefined) return known;
    // Lookups asked for in the same tick (a batch's specs name several links) share one request.
    let pending = this.#lookups.get(ref);
    if (!pending) {
      pending = new Promise<number>((resolve, reject) => this.#lookupQueue.push({ name: ref, resolve, reject }));
      this.#lookups.set(ref, pending);
      if (this.#lookupQueue.length === 1) process.nextTick(() => void this.#flushLookups());
    }
    return pending;
  }

  /**
   * A link the caller has just made, or otherwise knows, by name: later specs naming it use the
   * index without asking the kernel. Only for a handle that lives while the caller is sure of it
   * (a plugin's handle for one command); the name is not watched for renames or deletions.
   */
  knownLink(name: string, index: number): void {
    this.#known.set(name, index);
  }

  #known = new Map<string, number>();
  #lookups = new Map<string, Promise<number>>();
  #lookupQueue: { name: string; resolve: (i: number) => void; reject: (e: unknown) => void }[] = [];

  async #flushLookups(): Promise<void> {
    const queue = this.#lookupQueue.splice(0);
    for (const q of queue) this.#lookups.delete(q.name);
    if (queue.length === 1) {
      const q = queue[0]!;
      this.link.get(q.name).then((l) => q.resolve(l.index), q.reject);
      return;
    }
    try {
      const ops = queue.map((q) => ({ op: 'link.get', spec: { name: ifname(q.name, 'link.name') } }));
      const replies = await native.netlinkRequest(this.#handle(), ops);
      replies.forEach((r, i) => {
        const q = queue[i]!;
        const link = r.items[0] as { index: number } | undefined;
        if (r.errno === 0 && link) q.resolve(link.index);
        else q.reject(this.#error(`get link ${q.name}`, 'link.get', r.errno || 19, r.extack));
      });
    } catch (e) {
      for (const q of queue) q.reject(e);
    }
  }

  /** Run one verb; returns what the kernel answered (decoded objects) for gets and dumps. */
  async run<K extends OpName>(op: K, spec: OpSpecs[K]): Promise<unknown[]> {
    return (await this.request([{ op, spec } as Op]))[0]!;
  }

  /**
   * Send several verbs in one message (one round trip) and collect every ACK. The kernel does not
   * make a batch atomic; with `rollback`, successes before the first failure are undone.
   * Throws a NetlinkError for the first failure.
   */
  async request(ops: Op[], opts: RequestOptions = {}): Promise<unknown[][]> {
    const h = this.#handle();
    const prepared = await Promise.all(ops.map(async ({ op, spec }) => ({ op, spec: await opDef(op).prepare(this, spec as never) })));
    const replies = await native.netlinkRequest(h, prepared);
    let failed = -1;
    for (let i = 0; i < replies.length; i++) {
      const r = replies[i]!;
      if (r.errno !== 0 && !(opDef(ops[i]!.op).ok ?? []).includes(errnoName(r.errno))) {
        failed = i;
        break;
      }
    }
    if (failed < 0) return replies.map((r) => r.items);
    const bad = ops[failed]!;
    const reply = replies[failed]!;
    const err = this.#error(opDef(bad.op).describe(bad.spec as never), bad.op, reply.errno, reply.extack);
    if (opts.rollback) await this.#rollback(ops.slice(0, failed), err);
    throw err;
  }

  /**
   * link.del, answered when the kernel has unlisted the link and its peer (`peer.index` in
   * `peer.netns`), not when it has freed them; see
   * LinkApi.delVeth. Returns whether the peer's notification answered it (false: the ACK did).
   */
  async delLinkEarly(spec: OpSpecs['link.del'], peer: { netns: Netns; index: number }): Promise<boolean> {
    const def = opDef('link.del');
    const r = await native.netlinkDelLinkEarly(this.#handle(), await def.prepare(this, spec), peer.netns.fd, peer.index);
    if (r.errno !== 0 && !(def.ok ?? []).includes(errnoName(r.errno))) throw this.#error(def.describe(spec), 'link.del', r.errno, r.extack);
    return r.early;
  }

  async #rollback(done: Op[], err: NetlinkError): Promise<void> {
    const undo = done
      .reverse()
      .map((o) => opDef(o.op).undo?.(o.spec as never))
      .filter((o): o is Op => o !== undefined);
    if (undo.length === 0) return;
    try {
      await this.request(undo);
    } catch (e) {
      attachUndoErrors(err, [e as Error]);
    }
  }

  /** "context: strerror[: kernel extended-ACK text]" with errno name, number and op. */
  #error(context: string, op: string, errno: number, extack: string | undefined): NetlinkError {
    const text = `${context}: ${errnoMessage(errno)}${extack ? `: ${extack}` : ''}`;
    return new NetlinkError(text, { code: errnoName(errno), errno, op, detail: extack ?? '' });
  }

  #handle(): NativeHandle {
    if (!this.#h) throw new SpecError('netlink handle is closed');
    return this.#h;
  }

  /** Close the socket (requests in flight finish first). */
  close(): void {
    if (this.#h) native.netlinkClose(this.#h);
    this.#h = undefined;
  }
}

/** Shorthand for NetlinkHandle.open. */
export function open(ns?: Netns | string): Promise<NetlinkHandle> {
  return NetlinkHandle.open(ns);
}
