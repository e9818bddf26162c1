// The ONLY module that loads the compiled addon. It declares the raw surface; nothing outside
// lib/native sees an untyped binding.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

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
  rules: { handle: number; comments: string[] }[];
}
export interface NativeNftDelete {
  family: 4 | 6;
  table: string;
  rules: { chain: string; handle: number }[];
  chains: string[];
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
  netlinkClose(h: NativeHandle): void;
  /** With `tag`, only the rules whose first comment is exactly `tag`. */
  nftList(h: NativeHandle, spec: { family: 4 | 6; table: string; chains: string[]; tag?: string }): Promise<NativeNftChain[]>;
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
  /** Every regular file of `dir` (symlinks skipped), whole, as UTF-8; one over maxBytes is cut there and marked truncated. */
  readSmallFiles(dir: string, maxBytes: number): Promise<{ name: string; text: string; truncated?: boolean }[]>;
  /** Release a fileLock; with unlinkPath, remove the lock file first (while still held). */
  fileUnlock(fd: number, unlinkPath?: string): void;
  /** The netlink verbs the addon can encode (its OpRegistrar table), sorted. */
  opNames(): string[];
}

/** The package root: the nearest directory above this file holding binding.gyp (also from a bundle). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'binding.gyp'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('mesos-cni: cannot find the package root (binding.gyp) above ' + dir);
    dir = up;
  }
  return dir;
}

const require = createRequire(import.meta.url);
const root = packageRoot();
// A local build wins (development); otherwise node-gyp-build picks the matching prebuild.
const local = join(root, 'build', 'Release', 'mesos_cni.node');
export const binding: Binding = existsSync(local)
  ? (require(local) as Binding)
  : (require('node-gyp-build')(root) as Binding);
