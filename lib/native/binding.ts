// The ONLY module that loads the compiled addon. It declares the raw surface; nothing outside
// lib/native sees an untyped binding.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

declare const handleBrand: unique symbol;
/** An open netlink socket inside the addon (opaque). */
export type NativeHandle = { readonly [handleBrand]: true };

export interface NativeNetnsRef {
  fd: number;
  dev: number;
  ino: number;
}
export interface NativeOp {
  op: string;
  spec: object;
}
export interface NativeReply {
  errno: number;
  extack?: string;
  items: unknown[];
}
export interface NativeSpawnRequest {
  netnsFd: number;
  file: string;
  argv: string[];
  env: string[];
  stdin: Uint8Array;
  timeoutMs: number;
}
export interface NativeSpawnResult {
  status: number;
  signal: number;
  stdout: Buffer;
  stderr: Buffer;
  timedOut: boolean;
}

/** A chain as nf_tables holds it: its rules' handles and comments (xt `comment` match or userdata). */
export interface NativeNftChain {
  name: string;
  exists: boolean;
  /** false: the tag index (spec.index) has no key for the tag, so no rule was listed. */
  listed: boolean;
  /** `exprs`: NFTA_RULE_EXPRESSIONS as the kernel dumps it, when listed with `raw`. */
  rules: { handle: number; comments: string[]; exprs?: Buffer }[];
}
/** An iptables rule lowered for the nf_tables encoder (lib/iptables/nft-rule.ts builds it). */
export interface NativeNftRule {
  chain: string;
  iif?: { name: string; neg: boolean };
  oif?: { name: string; neg: boolean };
  proto?: { num: number; neg: boolean };
  src?: { addr: Uint8Array; prefix: number; neg: boolean };
  dst?: { addr: Uint8Array; prefix: number; neg: boolean };
  matches: NativeNftMatch[];
  target: NativeNftTarget;
}
export type NativeNftPorts = { lo: number; hi: number; neg: boolean };
export type NativeNftMatch =
  | { kind: 'tcp' | 'udp' | 'sctp'; sport?: NativeNftPorts; dport?: NativeNftPorts }
  | { kind: 'addrtype'; srcType?: string; srcNeg?: boolean; dstType?: string; dstNeg?: boolean }
  | { kind: 'set'; name: string; flags: ('src' | 'dst')[]; neg: boolean }
  | { kind: 'mark'; value: number; mask: number; neg: boolean }
  | { kind: 'conntrack'; states: string[]; neg: boolean }
  | { kind: 'comment'; text: string };
export type NativeNftTarget =
  | { kind: 'ACCEPT' | 'DROP' | 'RETURN' }
  | { kind: 'jump' | 'goto'; chain: string }
  | { kind: 'DNAT' | 'SNAT'; addr: Uint8Array; ports?: { lo: number; hi: number } }
  | { kind: 'MASQUERADE'; random: boolean }
  | { kind: 'MARK'; value: number; mask: number };
/**
 * A tag index touched by a write or a delete (native/netlink/nft_index.h): its set, the chain
 * whose creation in the same batch creates it, the 16-byte keys to add and to remove.
 */
export interface NativeNftIndex {
  set: string;
  createWith?: string;
  add?: Buffer[];
  remove?: Buffer[];
}
export type NativeNftOp =
  | { op: 'append' | 'insert' | 'delete'; rule: NativeNftRule }
  | { op: 'flush' | 'deleteChain'; chain: string };
/** One transaction, as one iptables-restore --noflush payload would be (see nft_write.cc). */
export interface NativeNftWrite {
  family: 4 | 6;
  table: string;
  /** Create the missing shared chains (with their onCreate ops); false: report them, commit nothing. */
  createShared: boolean;
  own: string[];
  shared: { name: string; onCreate: NativeNftOp[] }[];
  ops: NativeNftOp[];
  index?: NativeNftIndex[];
}
/**
 * errno 0: committed (or nothing to do: `committed` false). Otherwise the kernel (or the lookup
 * of a rule to delete) refused `what`, payload item `item` (-1: the batch as a whole).
 */
export interface NativeNftWriteReply {
  errno: number;
  item: number;
  what: string;
  extack?: string;
  committed: boolean;
  /** Shared chains absent (createShared false: nothing was committed). */
  missing: string[];
  /** Shared chains this transaction created (createShared true). */
  created?: string[];
}
export interface NativeNftDelete {
  family: 4 | 6;
  table: string;
  rules: { chain: string; handle: number }[];
  chains: string[];
  index?: NativeNftIndex[];
}
/** errno 0: committed. Otherwise the kernel refused op `index` (rules first, then chains; -1: the batch). */
export interface NativeNftReply {
  errno: number;
  index: number;
  extack?: string;
}
/** netlinkOpen's protocols (linux/netlink.h). */
export const NETLINK_ROUTE = 0;
export const NETLINK_NETFILTER = 12;

// A call that takes a namespace fd (netlinkOpen, sysctlRead/Write, spawnInNetns, a link spec's
// netnsFd in netlinkRequest) duplicates it before returning: the job owns its copy, so the caller
// may close its Netns as soon as the call has returned.
export interface Binding {
  netlinkOpen(netnsFd: number, protocol?: number): Promise<NativeHandle>;
  netlinkRequest(h: NativeHandle, ops: NativeOp[]): Promise<NativeReply[]>;
  /** link.del answered at the RTM_DELLINK of `peerIndex` in `peerNetnsFd` (-1: home) or at the ACK, whichever first. */
  netlinkDelLinkEarly(h: NativeHandle, spec: object, peerNetnsFd: number, peerIndex: number): Promise<{ errno: number; extack?: string; early: boolean }>;
  netlinkClose(h: NativeHandle): void;
  /** With `tag`, only the rules whose first comment is exactly `tag`; with `index`, none listed when its set exists without `key`. */
  nftList(h: NativeHandle, spec: { family: 4 | 6; table: string; chains: string[]; tag?: string; raw?: boolean; index?: { set: string; key: Buffer } }): Promise<NativeNftChain[]>;
  /** `netnsFd`: the namespace whose ipsets `set` matches name (-1: none needed). */
  nftWrite(h: NativeHandle, spec: NativeNftWrite, netnsFd: number): Promise<NativeNftWriteReply>;
  nftDelete(h: NativeHandle, spec: NativeNftDelete): Promise<NativeNftReply>;
  netnsCreate(path: string): Promise<void>;
  netnsDelete(path: string): Promise<void>;
  netnsOpen(path: string): Promise<NativeNetnsRef>;
  netnsIsNetns(path: string): Promise<boolean>;
  netnsHome(): NativeNetnsRef;
  netnsClose(fd: number): void;
  sysctlRead(netnsFd: number, key: string): Promise<string>;
  sysctlWrite(netnsFd: number, key: string, value: string): Promise<void>;
  spawnInNetns(req: NativeSpawnRequest): Promise<NativeSpawnResult>;
  /** Exclusive flock on `path` (created if absent); ETIMEDOUT after timeoutMs. Resolves to the fd holding it. */
  fileLock(path: string, timeoutMs: number): Promise<number>;
  /** Every regular file of `dir` (symlinks skipped), whole, as UTF-8; one over maxBytes is cut there and marked truncated. With `containing`, only the files whose bytes hold it, and every dot-named one (fs/atomic's temporaries). */
  readSmallFiles(dir: string, maxBytes: number, containing?: string): Promise<{ name: string; text: string; truncated?: boolean }[]>;
  /** One non-blocking try of fileLock, on the calling thread: the fd, or -1 when another holder has it. */
  fileTryLock(path: string): number;
  /** Release a fileLock; with unlinkPath, remove the lock file first (while still held). */
  fileUnlock(fd: number, unlinkPath?: string): void;
  /** The netlink verbs the addon can encode (its OpRegistrar table), sorted. */
  opNames(): string[];
  /** SHA-256 or SHA-512 of `data` (a string as UTF-8), by the node binary's OpenSSL; synchronous. */
  digest(algorithm: 'sha256' | 'sha512', data: string | Uint8Array): Buffer;
  /** `n` (≤ 256) bytes from getrandom(2); synchronous. */
  randomBytes(n: number): Buffer;
  /** End the process now with _exit(2) (native/exit.cc): no exit handlers, no teardown. */
  exitNow(status: number): never;
}

/** The package root: the nearest directory above this file holding binding.gyp (also from a bundle). */
export function packageRoot(): string {
  let dir = import.meta.dirname; // a path (no URL to parse), in the bundle its __dirname
  while (!existsSync(join(dir, 'binding.gyp'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('mesos-cni: cannot find the package root (binding.gyp) above ' + dir);
    dir = up;
  }
  return dir;
}

let loaded: Binding | undefined;

/**
 * The addon, loaded on the first call that needs it rather than when the library is imported:
 * finding and loading it (dlopen, the executor's set-up) is ~1 ms of a fresh process, which a
 * VERSION or a config error never needs. A failure to load is thrown by that first call.
 */
export function binding(): Binding {
  return (loaded ??= load());
}

/**
 * A local build wins (development); then the prebuild `npm pack` ships for this platform on glibc,
 * the one node-gyp-build would pick (it takes a machine for musl when /etc/alpine-release exists
 * or LIBC says so), opened directly; anything else through node-gyp-build, whose search of the
 * prebuilds directory, with `node:module` to load it, costs a fresh process ~0.5 ms.
 */
function load(): Binding {
  const root = packageRoot();
  const local = join(root, 'build', 'Release', 'mesos_cni.node');
  const musl = process.env.LIBC ? process.env.LIBC === 'musl' : existsSync('/etc/alpine-release');
  const prebuild = join(root, 'prebuilds', `${process.platform}-${process.arch}`, 'mesos-cni.glibc.node');
  for (const file of [local, ...(process.platform === 'linux' && !musl ? [prebuild] : [])]) {
    if (!existsSync(file)) continue;
    // Once per process and file, as require's cache would have it, should a second copy of this
    // module (a bundle beside the library) load it too: each load would start another executor.
    const key = Symbol.for(`mesos-cni addon ${file}`);
    const g = globalThis as unknown as Record<symbol, Binding | undefined>;
    if (!g[key]) {
      const m = { exports: {} };
      process.dlopen(m, file);
      g[key] = m.exports as Binding;
    }
    return g[key];
  }
  return createRequire(import.meta.filename)('node-gyp-build')(root) as Binding;
}
