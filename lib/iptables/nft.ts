// Reading, deleting and writing rules over nf_tables netlink, without an iptables process, when the
// iptables-restore we would run is iptables-nft (its rules are nf_tables rules: the same table seen
// from below). An iptables-nft process that deleted rules waits out an RCU grace period as it
// closes its socket; a socket kept open here does not (docs/library.md has the costs). Rules are
// written in iptables-nft's own encoding (nft-write.ts); legacy iptables, or an iptables-restore
// that is not xtables-nft-multi (a wrapper, a test shim), keeps the exec path: what runs is always
// what PATH names. tagged.ts and restore.ts are the users.
import { realpathSync } from 'node:fs';
import { basename } from 'node:path';
import { which, type Netns } from '../netns/index.js';
import { isErrno, MesosCniError, native, NETLINK_NETFILTER, SpecError, type NativeHandle, type NativeNftChain, type NativeNftDelete, type NativeNftWrite, type NativeNftWriteReply } from '../native/index.js';
import { binary, type Backend } from './backend.js';
import { IptablesError } from './errors.js';
import { stats } from './stats.js';
import { indexKey, indexOps, indexSet } from './tag-index.js';
import * as tok from './tokens.js';
import type { Family, Table } from './tokens.js';

const speaksNft = new Map<string, Promise<boolean>>();

/** Whether `family`'s iptables-restore for `backend` (as found in PATH) is iptables-nft. */
export function isNftBackend(family: Family, backend: Backend): Promise<boolean> {
  const bin = binary('restore', family, backend);
  const path = process.env['PATH'] ?? '';
  const key = `${path}\0${bin}`;
  let hit = speaksNft.get(key);
  if (!hit) {
    // realpath synchronously: asynchronously it waited for a libuv pool thread and an event-loop
    // turn on the way to every first write. libc's realpath(3) (.native), not Node's JavaScript
    // one, which lstats every component itself: 0.27-0.39 ms against 0.04 here for
    // /usr/sbin/iptables-restore → /etc/alternatives → xtables-nft-multi, in every plugin process.
    hit = which(bin, path).then((p) => basename(realpathSync.native(p)) === 'xtables-nft-multi').catch(() => false);
    speaksNft.set(key, hit);
  }
  return hit;
}

// nfnetlink sockets per namespace, each kept while in use and closed after IDLE_MS without use
// (off the event loop: the close is where the grace period is waited out). A socket serves one
// exchange at a time, so a call that finds every socket of its namespace busy opens another: a
// write must not wait behind a listing of a long chain (at 1000 rules on a busy host 20+ ms, which
// held the masquerade write of the same ADD behind it).
// A socket also keeps its namespace alive, so an idle one must not linger after a fake host is gone.
const IDLE_MS = 5_000;
interface Pooled {
  handle: Promise<NativeHandle>;
  busy: boolean;
  timer?: NodeJS.Timeout;
}
const sockets = new Map<string, Pooled[]>();

async function withSocket<T>(ns: Netns, fn: (h: NativeHandle) => Promise<T>): Promise<T> {
  const key = `${ns.dev}:${ns.ino}`;
  const pool = sockets.get(key) ?? [];
  sockets.set(key, pool);
  let s = pool.find((p) => !p.busy);
  if (!s) {
    stats.nftSockets++;
    const opened: Pooled = { handle: native.netlinkOpen(ns.fd, NETLINK_NETFILTER), busy: false };
    opened.handle.catch(() => drop(key, opened));
    pool.push(opened);
    s = opened;
  }
  const used = s;
  clearTimeout(used.timer);
  used.busy = true;
  try {
    return await fn(await used.handle);
  } finally {
    used.busy = false;
    used.timer = setTimeout(() => {
      drop(key, used);
      used.handle.then((h) => native.netlinkClose(h)).catch(() => {}); // a socket that never opened, or closing one: nothing to do
    }, IDLE_MS).unref();
  }
}

function drop(key: string, s: Pooled): void {
  const pool = sockets.get(key);
  const at = pool?.indexOf(s) ?? -1;
  if (at >= 0) pool!.splice(at, 1);
  if (pool?.length === 0) sockets.delete(key);
}

/** A rule found by its tag: enough to delete it. */
export interface NftRule {
  chain: string;
  handle: number;
}

export interface NftTagged {
  /** The chains asked for that exist. */
  chains: Set<string>;
  /** Rules in them whose (first) comment is exactly the tag. */
  rules: NftRule[];
  /** The tag index answered (it has no such tag): nothing was listed. */
  indexed: boolean;
}

/**
 * The rules of `chains` tagged exactly `tag`, and which of the chains exist. One round trip per
 * chain; with `index` (the chain whose tag index covers these chains, tag-index.ts), none when the
 * index exists without the tag.
 */
export async function listTagged(ns: Netns, family: Family, table: Table, chains: readonly string[], tag: string, index?: string): Promise<NftTagged> {
  const spec = {
    family: tok.family(family, 'family'),
    table: tok.table(table, 'table'),
    chains: chains.map((c, i) => tok.chain(c, `chains[${i}]`)),
    tag: tok.comment(tag, 'tag'),
    ...(index === undefined ? {} : { index: { set: indexSet(tok.chain(index, 'index')), key: indexKey(tag) } }),
  };
  const listed: NativeNftChain[] = await withSocket(ns, (h) => native.nftList(h, spec));
  const indexed = listed.length > 0 && listed.every((c) => !c.listed);
  if (indexed) stats.nftIndexHits++;
  else stats.nftLists++;
  return {
    chains: new Set(listed.filter((c) => c.exists).map((c) => c.name)),
    rules: listed.flatMap((c) => c.rules.map((r) => ({ chain: c.name, handle: r.handle }))),
    indexed,
  };
}

export interface DeleteOptions {
  /** The tag index (of this chain) the deleted rules' tags leave, in the same transaction. */
  index?: { chain: string; tags: readonly string[] };
  /**
   * The deletion may wait for another deletion on the same namespace, family and table, and go
   * in its transaction: up to SHARE_MS, or, given a promise, until that settles (the caller's
   * word that no other deletion is coming; it must settle). Every nf_tables commit that deletes queues a destroy run
   * in the kernel that waits out an RCU grace period, the runs one after another, and the next rule
   * write that uses xt compat (iptables-nft's form: comments, DNAT, MASQUERADE) waits for all of
   * them: after two deletions in two commits, ~25 ms here; in one commit, ~9 ms (library.md). For a
   * caller that knows another deletion is coming (the port mapper, whose in-process bridge deletes
   * its masquerade rules in the same DEL).
   */
  share?: boolean | PromiseLike<unknown>;
}

const SHARE_MS = 4;
interface Held {
  ns: Netns;
  spec: NativeNftDelete;
  resolve: () => void;
  reject: (e: unknown) => void;
  timer?: NodeJS.Timeout;
}
const held = new Map<string, Held[]>();

/**
 * Delete `rules` (by handle) and then `chains` (emptied and unreferenced by then) in one
 * nf_tables transaction: all or nothing. A rule someone else deleted first makes it fail with
 * code ENOENT (re-list and retry); a chain still jumped to, EBUSY. Deletions held for company
 * (`share`) go in the same transaction.
 */
export async function deleteNft(ns: Netns, family: Family, table: Table, rules: readonly NftRule[], chains: readonly string[] = [], opts: DeleteOptions = {}): Promise<void> {
  const spec: NativeNftDelete = {
    family: tok.family(family, 'family'),
    table: tok.table(table, 'table'),
    rules: rules.map((r, i) => {
      if (!Number.isSafeInteger(r.handle) || r.handle < 1) throw new SpecError(`rules[${i}].handle: expected a positive integer, got ${JSON.stringify(r.handle)}`);
      return { chain: tok.chain(r.chain, `rules[${i}].chain`), handle: r.handle };
    }),
    chains: chains.map((c, i) => tok.chain(c, `chains[${i}]`)),
    ...(opts.index ? { index: [indexOps(tok.chain(opts.index.chain, 'index.chain'), { remove: opts.index.tags })] } : {}),
  };
  if (rules.length === 0 && chains.length === 0) {
    // Only an index key, there if the rules went some other way (by hand): one job that deletes
    // it when present, and nothing to hold for company.
    return opts.index ? commitDelete(ns, spec) : undefined;
  }
  const key = `${ns.dev}:${ns.ino}/${family}/${table}`;
  const waiting = held.get(key) ?? [];
  if (opts.share) {
    const until = opts.share;
    return new Promise<void>((resolve, reject) => {
      const h: Held = { ns, spec, resolve, reject };
      // Still waiting (company empties the list it takes): no company came, so alone.
      const alone = () => {
        const at = waiting.indexOf(h);
        if (at < 0) return;
        waiting.splice(at, 1);
        if (waiting.length === 0 && held.get(key) === waiting) held.delete(key);
        clearTimeout(h.timer);
        commitDelete(ns, spec).then(resolve, reject);
      };
      if (until === true) h.timer = setTimeout(alone, SHARE_MS);
      else Promise.resolve(until).then(alone, alone);
      waiting.push(h);
      held.set(key, waiting);
    });
  }
  held.delete(key);
  // Taken out of the list, so that their own timer or promise finds them gone.
  const company = waiting.splice(0);
  for (const h of company) clearTimeout(h.timer);
  if (company.length === 0) return commitDelete(ns, spec);
  const all = [spec, ...company.map((h) => h.spec)];
  try {
    await commitDelete(ns, { ...spec, rules: all.flatMap((d) => d.rules), chains: all.flatMap((d) => d.chains), index: all.flatMap((d) => d.index ?? []) });
    for (const h of company) h.resolve();
  } catch {
    // Not taken apart by guessing: each deletion again alone, so each caller gets its own outcome.
    for (const h of company) await commitDelete(h.ns, h.spec).then(h.resolve, h.reject);
    await commitDelete(ns, spec);
  }
}

async function commitDelete(ns: Netns, spec: NativeNftDelete): Promise<void> {
  stats.nftDeletes++;
  const r = await withSocket(ns, (h) => native.nftDelete(h, spec));
  if (r.errno === 0) return;
  const { rules, chains } = spec;
  const what = r.index < 0 ? 'the transaction' : r.index < rules.length ? `rule ${rules[r.index]!.handle} in ${rules[r.index]!.chain}` : `chain ${chains[r.index - rules.length]}`;
  throw IptablesError.fromKernel(nftWhat(spec.family, spec.table as Table), `delete ${what}`, r.errno, r.extack);
}

/**
 * Delete every rule tagged exactly `tag` in `chains`, and the chains in `drop` that exist (with
 * whatever they hold), in one transaction. When a concurrent deleter got to one of them between
 * the listing and the commit, the transaction fails whole; it is listed again and retried.
 * Returns how many tagged rules there were.
 */
export async function removeTaggedNft(ns: Netns, family: Family, table: Table, chains: readonly string[], tag: string, drop: readonly string[] = [], opts: Omit<DeleteOptions, 'index'> & { index?: string } = {}): Promise<number> {
  drop.forEach((c, i) => tok.chain(c, `drop[${i}]`));
  const { index, ...rest } = opts;
  for (let attempt = 1; ; attempt++) {
    // Always listed: a removal does not trust the index (a writer on another path, an
    // iptables-restore wrapper earlier in another process's PATH, would not have kept it), so no
    // rule is ever left behind by it; the index only loses the tag, in the same transaction.
    const found = await listTagged(ns, family, table, [...new Set([...chains, ...drop])], tag);
    const rules = found.rules.filter((r) => !drop.includes(r.chain)); // a dropped chain takes its rules along
    try {
      await deleteNft(ns, family, table, rules, drop.filter((c) => found.chains.has(c)), { ...rest, ...(index === undefined ? {} : { index: { chain: index, tags: [tag] } }) });
      return found.rules.length;
    } catch (e) {
      if (attempt >= 3 || !(e instanceof IptablesError && isErrno(e, 'ENOENT'))) throw e;
    }
  }
}

/**
 * Commit one transaction over nf_tables netlink (nft_write.cc): one batch, all or nothing. Kernel
 * refusals come back in the reply (errno, the op, its payload item); a failure before the batch
 * (a set that does not exist, the socket) becomes an IptablesError too.
 *
 * Transactions for the same namespace, family and table that are submitted together (in one
 * turn of the event loop: the bridge's masquerade and the port mapper's DNAT, both released by
 * the veth) go in one batch. Every commit that adds an xt-compat rule makes the kernel validate
 * the whole table (nft_table_validate, under the commit mutex): ~0.9 ms with 10 containers, ~4 ms
 * with 500 (docs/library.md), once per batch. A batch that fails is not taken apart by guessing:
 * each of its transactions is written again alone, so every caller gets exactly its own outcome.
 */
export function writeNft(ns: Netns, spec: NativeNftWrite, withSets: boolean): Promise<NativeNftWriteReply> {
  // Creating shared chains takes the creation lock; an empty transaction has nothing to share.
  if (spec.createShared || (spec.own.length === 0 && spec.ops.length === 0)) return writeAlone(ns, spec, withSets);
  const key = `${ns.dev}:${ns.ino}/${spec.family}/${spec.table}`;
  return new Promise((resolve, reject) => {
    let queue = submitted.get(key);
    if (!queue) {
      submitted.set(key, (queue = []));
      // After the microtasks of this turn: every write released by the same event is in by then.
      // The batches one after another, in order, as the transactions were submitted.
      // commitBatch settles every member and never rejects; were anything to throw all the same,
      // the members are rejected rather than left waiting.
      process.nextTick(() => {
        submitted.delete(key);
        const all = queue!;
        Promise.resolve()
          .then(() => batches(all).reduce((prev, b) => prev.then(() => commitBatch(b)), Promise.resolve()))
          .catch((e: unknown) => all.forEach((w) => w.reject(e)));
      });
    }
    queue.push({ ns, spec, withSets, resolve, reject });
  });
}

interface Submitted {
  ns: Netns;
  spec: NativeNftWrite;
  withSets: boolean;
  resolve: (r: NativeNftWriteReply) => void;
  reject: (e: unknown) => void;
}
const submitted = new Map<string, Submitted[]>();

const chainsOf = (w: NativeNftWrite) => new Set([...w.own, ...w.shared.map((c) => c.name), ...w.ops.map((o) => ('rule' in o ? o.rule.chain : o.chain))]);

/**
 * Consecutive runs of the submission order, as long as they keep every transaction's meaning. A
 * batch declares (creates, or flushes) every member's own chains before any member's ops, so a
 * transaction whose own chain an earlier member of the batch touches starts the next batch: one
 * after the other, its flush would come after that member's rules, and take them along. (Touching
 * an earlier member's own chain is fine: that flush comes first either way.) A transaction joins
 * only the last batch, never an earlier one, which would commit it ahead of one submitted before it.
 */
function batches(queue: readonly Submitted[]): Submitted[][] {
  const out: { members: Submitted[]; touched: Set<string> }[] = [];
  for (const w of queue) {
    const b = out.at(-1);
    if (!b || w.spec.own.some((c) => b.touched.has(c))) out.push({ members: [w], touched: chainsOf(w.spec) });
    else {
      b.members.push(w);
      chainsOf(w.spec).forEach((c) => b.touched.add(c));
    }
  }
  return out.map((b) => b.members);
}

async function commitBatch(batch: Submitted[]): Promise<void> {
  const alone = (w: Submitted) => writeAlone(w.ns, w.spec, w.withSets).then(w.resolve, w.reject);
  if (batch.length === 1) return alone(batch[0]!);
  const first = batch[0]!;
  const merged: NativeNftWrite = {
    ...first.spec,
    own: batch.flatMap((w) => w.spec.own),
    // A shared chain named twice is looked for once; were one missing, the batch writes nothing.
    shared: [...new Map(batch.flatMap((w) => w.spec.shared).map((c) => [c.name, c])).values()],
    ops: batch.flatMap((w) => w.spec.ops),
    index: batch.flatMap((w) => w.spec.index ?? []),
  };
  // Every member is still waiting, so its namespace is still open: use the first's.
  const r = await writeAlone(first.ns, merged, batch.some((w) => w.withSets)).catch(() => undefined);
  if (r && r.errno === 0 && r.missing.length === 0) {
    stats.grouped += batch.length;
    for (const w of batch) w.resolve({ errno: 0, item: -1, what: '', committed: r.committed, missing: [] });
    return;
  }
  stats.rerunAlone += batch.length;
  for (const w of batch) await alone(w);
}

async function writeAlone(ns: Netns, spec: NativeNftWrite, withSets: boolean): Promise<NativeNftWriteReply> {
  stats.nftWrites++;
  try {
    return await withSocket(ns, (h) => native.nftWrite(h, spec, withSets ? ns.fd : -1));
  } catch (e) {
    if (!(e instanceof MesosCniError) || e.errno <= 0) throw e;
    throw IptablesError.fromKernel(nftWhat(spec.family, spec.table as Table), e.op, e.errno, e.detail);
  }
}

/** `nf_tables (ip nat)`: how errors name the table written over netlink. */
export function nftWhat(family: Family, table: Table): string {
  return `nf_tables (${family === 6 ? 'ip6' : 'ip'} ${table})`;
}
