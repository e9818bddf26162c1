// Typed facade over the addon: every call rejects with one of the library's error classes.
import { binding, type Binding } from './binding.js';
import { fromNative } from './errors.js';

export * from './errors.js';
export { NETLINK_ROUTE, NETLINK_NETFILTER } from './binding.js';
export type { NativeHandle, NativeNftChain, NativeNftDelete, NativeNftIndex, NativeNftMatch, NativeNftOp, NativeNftPorts, NativeNftReply, NativeNftRule, NativeNftTarget, NativeNftWrite, NativeNftWriteReply, NativeNetnsRef, NativeOp, NativeReply, NativeSpawnRequest, NativeSpawnResult } from './binding.js';

type AsyncKeys = { [K in keyof Binding]: ReturnType<Binding[K]> extends Promise<unknown> ? K : never }[keyof Binding];

function wrapAsync<K extends AsyncKeys>(name: K): Binding[K] {
  return (async (...args: unknown[]) => {
    try {
      return await (binding()[name] as (...a: unknown[]) => Promise<unknown>)(...args);
    } catch (e) {
      throw fromNative(e);
    }
  }) as unknown as Binding[K];
}

type SyncKeys = { [K in keyof Binding]: ReturnType<Binding[K]> extends Promise<unknown> ? never : K }[keyof Binding];

function wrapSync<K extends SyncKeys>(name: K): Binding[K] {
  return ((...args: unknown[]) => {
    try {
      return (binding()[name] as (...a: unknown[]) => unknown)(...args);
    } catch (e) {
      throw fromNative(e);
    }
  }) as unknown as Binding[K];
}

/** The addon's functions, with native errors mapped to classes. */
export const native: Binding = {
  netlinkOpen: wrapAsync('netlinkOpen'),
  netlinkRequest: wrapAsync('netlinkRequest'),
  netlinkDelLinkEarly: wrapAsync('netlinkDelLinkEarly'),
  netlinkClose: (h) => binding().netlinkClose(h),
  nftList: wrapAsync('nftList'),
  nftDelete: wrapAsync('nftDelete'),
  nftWrite: wrapAsync('nftWrite'),
  netnsCreate: wrapAsync('netnsCreate'),
  netnsDelete: wrapAsync('netnsDelete'),
  netnsOpen: wrapAsync('netnsOpen'),
  netnsIsNetns: wrapAsync('netnsIsNetns'),
  netnsHome: wrapSync('netnsHome'),
  netnsClose: (fd) => binding().netnsClose(fd),
  sysctlRead: wrapAsync('sysctlRead'),
  sysctlWrite: wrapAsync('sysctlWrite'),
  spawnInNetns: wrapAsync('spawnInNetns'),
  fileLock: wrapAsync('fileLock'),
  readSmallFiles: wrapAsync('readSmallFiles'),
  fileTryLock: wrapSync('fileTryLock'),
  fileUnlock: (fd, unlinkPath) => binding().fileUnlock(fd, unlinkPath),
  opNames: () => binding().opNames(),
  digest: wrapSync('digest'),
  randomBytes: wrapSync('randomBytes'),
  exitNow: (status) => binding().exitNow(status),
};
