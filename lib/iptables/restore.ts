// One transaction per call: every chain, jump and rule a command needs lands together or not at
// all. Where iptables-restore is iptables-nft, the transaction is written over nf_tables netlink
// in one batch, encoded as iptables-nft encodes it (nft-write.ts, native/netlink/nft_write.cc);
// otherwise (legacy, a wrapper) it is one iptables-restore --noflush run inside the target netns.
// Shared chains are created with -N only when absent (a `:CHAIN` declaration would flush them),
// retrying on a creation race. Callers never know which path ran.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { withFileLock } from '../fs/flock.js';
import { execInNetns, type Netns } from '../netns/index.js';
import { SpecError } from '../native/index.js';
import { binary, resolveOptions, type IptablesOptions, type ResolvedOptions } from './backend.js';
import { IptablesError } from './errors.js';
import { commitGrouped } from './group.js';
import { isNftBackend, nftWhat, writeNft } from './nft.js';
import { planNft, usesSets } from './nft-write.js';
import { checkTransaction, renderPayload, type CheckedTransaction, type Op, type Transaction } from './payload.js';
import { hasChain, save } from './save.js';
import { stats } from './stats.js';
import { tokenize, type Family, type Table } from './tokens.js';

export interface RestoreResult {
  /** Shared chains this transaction created (their onCreate ops ran with it). */
  created: string[];
  /** Tries: 1 when shared chains existed, 2 when one had to be created, 3 when another process
   *  created it between our read and our write (0 when there was nothing to do). */
  attempts: number;
  /** The payload that was committed (over netlink: the restore payload it is equivalent to). */
  payload: string;
}

// iptables-nft, when its commit loses a race, re-reads the table and silently drops a `-N` of a
// chain that exists by then (restore --noflush semantics) while keeping the rest of the payload:
// two creators would both add the chain's onCreate jumps. Creating a shared chain is rare (its
// first use), so it is serialised host-wide on this lock, as legacy iptables serialises every
// writer on /run/xtables.lock. The directory is root's alone (0700), like the daemon's socket.
// The wait is bounded (lockTimeoutMs); MESOS_CNI_IPTABLES_CREATE_LOCK moves the lock (tests).
export const CREATE_LOCK = '/run/mesos-cni/iptables-create.lock';
let lockDir: string | undefined;
function creating<T>(fn: () => Promise<T>): Promise<T> {
  const lock = process.env.MESOS_CNI_IPTABLES_CREATE_LOCK || CREATE_LOCK;
  if (lockDir !== dirname(lock)) {
    mkdirSync(dirname(lock), { recursive: true, mode: 0o700 });
    lockDir = dirname(lock);
  }
  return withFileLock(lock, fn);
}

// Every chain this process has used as shared, per family and table. Declaring one of them as
// owned would flush every other container's rules in it, so checkTransaction's caller refuses it.
const sharedSeen = new Set<string>();
const key = (family: Family, table: Table, chain: string) => `${family}/${table}/${chain}`;

function refuseOwnedShared(tx: CheckedTransaction): void {
  for (const s of tx.shared) sharedSeen.add(key(tx.family, tx.table, s.name));
  tx.own.forEach((c, i) => {
    if (sharedSeen.has(key(tx.family, tx.table, c))) {
      throw new SpecError(
        `transaction.own[${i}]: ${c} is used as a shared chain in this process; declaring it would flush it (pass it in shared instead)`,
      );
    }
  });
}

/** Run one payload through (ip6)iptables-restore --noflush -w in `ns`. */
export async function runRestore(ns: Netns, family: Family, table: Table, payload: string, o: ResolvedOptions): Promise<void> {
  const bin = binary('restore', family, o.backend);
  stats.restores++;
  const r = await execInNetns(ns, bin, ['--noflush', '-w', String(o.waitSeconds)], {
    stdin: payload,
    timeoutMs: o.timeoutMs,
    check: false,
  });
  if (r.status !== 0 || r.timedOut) throw IptablesError.from(bin, table, r, payload);
}

export interface RestoreOptions extends IptablesOptions {
  /**
   * Write only once this settles (its rejection is thrown, nothing written); the transaction is
   * checked and rendered at once, so a caller can do that work while it waits for something else
   * (the bridge: its veth, whose registration must not wait for nf_tables' commit mutex).
   */
  after?: PromiseLike<unknown>;
}

/**
 * Apply a transaction atomically in `ns`.
 *
 * Shared chains are planned optimistically: they almost always exist already, and a transaction
 * that appends to (or jumps into) a missing chain fails whole and changes nothing, so the first
 * try carries no `-N` and costs one exec. Only when it fails is the table read: missing shared
 * chains then get `-N` plus their onCreate ops in the same payload. Creating is serialised across
 * processes (CREATE_LOCK) and the table re-read under the lock, so one creator adds the onCreate
 * ops. The one retry rule, for every caller: a failed commit is re-planned from the table and
 * tried again (three tries in all) when its plan was a guess (the optimistic first try) or the
 * shared chains it found present or absent changed under it (another process created one, or a
 * writer that does not take our lock won a race); a real error meets the same table again and is
 * thrown. (Legacy iptables reports a `-N` on an existing chain
 * only as "line N failed", so these decisions look at the table instead of parsing messages.)
 */
export async function restore(ns: Netns, tx: Transaction, opts: RestoreOptions = {}): Promise<RestoreResult> {
  const o = resolveOptions(opts);
  const t = checkTransaction(tx);
  refuseOwnedShared(t);
  const plan = (await isNftBackend(t.family, o.backend)) ? planNft(t) : undefined;
  await opts.after;
  if (plan) return restoreNft(ns, t, plan);
  const missing = async () => {
    const saved = await save(ns, t.family, t.table, opts);
    return t.shared.filter((s) => !hasChain(saved, s.name)).map((s) => s.name);
  };
  // Optimism only proves a chain exists if some line would fail without it; otherwise look first.
  const lines = t.lines.map((l) => tokenize(l));
  const used = (name: string) => lines.some((k) => k[1] === name || k.some((x, i) => (x === '-j' || x === '-g') && k[i + 1] === name));
  let guessed = t.shared.every((s) => used(s.name));
  let create = guessed ? [] : await missing();
  for (let attempt = 1; ; attempt++) {
    const empty = () => create.length === 0 && t.own.length === 0 && t.lines.length === 0;
    if (empty()) return { created: [], attempts: attempt - 1, payload: '' };
    try {
      let payload = renderPayload(t, create);
      // The usual case (first try, no chain to create) may be batched with other transactions.
      if (attempt === 1 && create.length === 0) await commitGrouped(runRestore, ns, t.family, t.table, payload, o);
      else if (create.length === 0) await runRestore(ns, t.family, t.table, payload, o);
      else {
        payload = await creating(async () => {
          create = await missing(); // another creator may have finished while we waited
          if (empty()) return '';
          const p = renderPayload(t, create);
          await runRestore(ns, t.family, t.table, p, o);
          return p;
        });
      }
      return { created: create, attempts: attempt, payload };
    } catch (e) {
      if (t.shared.length === 0) throw e;
      const absent = await missing();
      const changed = absent.length !== create.length || absent.some((c) => !create.includes(c));
      if ((!guessed && !changed) || attempt >= 3) throw e;
      if (!guessed) stats.retries++;
      guessed = false;
      create = absent;
    }
  }
}

/**
 * The transaction over nf_tables netlink. The addon reads which chains exist and commits in one
 * job; when a shared chain is missing it commits nothing and says so, and the second try creates
 * it under CREATE_LOCK (the lock iptables-restore creators of other processes take), its -N
 * exclusive so that a creator outside the lock makes the batch fail whole rather than add the
 * onCreate jumps twice. A batch that lost such a race (EEXIST on a create, ENOENT on a rule
 * deleted meanwhile) is tried again, three tries in all.
 */
async function restoreNft(ns: Netns, t: CheckedTransaction, plan: NonNullable<ReturnType<typeof planNft>>): Promise<RestoreResult> {
  const sets = usesSets(plan);
  for (let attempt = 1; ; attempt++) {
    const createShared = attempt > 1 && t.shared.length > 0;
    const write = () => writeNft(ns, { ...plan, createShared }, sets);
    const r = createShared ? await creating(write) : await write();
    const created = r.created ?? [];
    if (r.missing.length > 0) continue; // nothing committed: create under the lock
    if (r.errno === 0) return { created, attempts: r.committed ? attempt : 0, payload: r.committed ? renderPayload(t, created) : '' };
    const raced = (r.errno === EEXIST && r.what.startsWith('create chain')) || (r.errno === ENOENT && /^delete rule \d/.test(r.what));
    if (!raced || attempt >= 3) throw IptablesError.fromNft(nftWhat(t.family, t.table), r, renderPayload(t, created));
    stats.retries++;
  }
}
const EEXIST = 17;
const ENOENT = 2;

/**
 * `iptables -t TABLE -N CHAIN` unless it exists, never flushing it; `onCreate` ops commit with
 * the `-N`. Returns whether this call created it. Safe against concurrent callers.
 */
export async function ensureChain(
  ns: Netns,
  family: Family,
  table: Table,
  chain: string,
  opts: IptablesOptions & { onCreate?: Op[] } = {},
): Promise<boolean> {
  const { onCreate, ...rest } = opts;
  const shared = onCreate === undefined ? { name: chain } : { name: chain, onCreate };
  const r = await restore(ns, { family, table, shared: [shared], ops: [] }, rest);
  return r.created.length > 0;
}
