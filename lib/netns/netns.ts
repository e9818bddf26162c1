// Network namespaces: named ones under /var/run/netns (as `ip netns add`), opened handles, identity.
import { isAbsolute, join } from 'node:path';
import { native, SpecError, type NativeNetnsRef } from '../native/index.js';

export const NETNS_RUN_DIR = '/var/run/netns';

// Closes fds of Netns objects that were dropped without close().
const finalizer = new FinalizationRegistry<number>((fd) => native.netnsClose(fd));

/** An open network namespace: a file descriptor the kernel accepts in IFLA_NET_NS_FD and setns. */
export class Netns {
  #fd: number;
  readonly path: string;
  /** Device and inode of the nsfs file: two paths name the same namespace iff both match. */
  readonly dev: number;
  readonly ino: number;

  private constructor(path: string, ref: NativeNetnsRef) {
    this.path = path;
    this.#fd = ref.fd;
    this.dev = ref.dev;
    this.ino = ref.ino;
    finalizer.register(this, ref.fd, this);
  }

  /** `ip netns exec`'s notion of a namespace path: open it and verify it is a network namespace. */
  static async open(path: string): Promise<Netns> {
    return new Netns(path, await native.netnsOpen(path));
  }

  /** The namespace this process's main thread lives in (where the addon was loaded). */
  static current(): Netns {
    return new Netns('/proc/self/ns/net', native.netnsHome());
  }

  get fd(): number {
    if (this.#fd < 0) throw new SpecError(`netns ${this.path}: already closed`);
    return this.#fd;
  }

  /** True when both handles name the same kernel namespace. */
  sameAs(other: Netns): boolean {
    return this.dev === other.dev && this.ino === other.ino;
  }

  close(): void {
    if (this.#fd < 0) return;
    finalizer.unregister(this);
    native.netnsClose(this.#fd);
    this.#fd = -1;
  }
}

const NAME_RE = /^[A-Za-z0-9_.-]{1,200}$/;

/** A bare name means /var/run/netns/<name>; an absolute path is used as is. */
export function netnsPath(nameOrPath: string): string {
  if (isAbsolute(nameOrPath)) return nameOrPath;
  if (!NAME_RE.test(nameOrPath) || nameOrPath === '.' || nameOrPath === '..') {
    throw new SpecError(`netns: name: expected [A-Za-z0-9_.-]{1,200} or an absolute path, got ${JSON.stringify(nameOrPath)}`);
  }
  return join(NETNS_RUN_DIR, nameOrPath);
}

/** `ip netns add NAME`: a new, empty namespace bind-mounted at its path. Fails with EEXIST if taken. */
export async function add(nameOrPath: string): Promise<string> {
  const path = netnsPath(nameOrPath);
  await native.netnsCreate(path);
  return path;
}

/** `ip netns del NAME`: unmount and remove; succeeds when it is already gone. */
export async function del(nameOrPath: string): Promise<void> {
  await native.netnsDelete(netnsPath(nameOrPath));
}

/** Open a namespace by name or path. */
export function open(nameOrPath: string): Promise<Netns> {
  return Netns.open(netnsPath(nameOrPath));
}

/** Whether `path` exists and is a network namespace file. */
export function isNetns(path: string): Promise<boolean> {
  return native.netnsIsNetns(path);
}

/** The current (main thread's) namespace. */
export function current(): Netns {
  return Netns.current();
}
