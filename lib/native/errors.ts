// Error classes for everything the library reports: errno-style code, op context, kernel text.

/** Base class: `code` is an errno name (EEXIST) or a library code (EINVAL for bad specs). */
export class MesosCniError extends Error {
  readonly code: string;
  readonly errno: number;
  readonly op: string;
  readonly detail: string;
  constructor(message: string, fields: { code: string; errno?: number; op?: string; detail?: string; cause?: unknown }) {
    super(message, fields.cause === undefined ? undefined : { cause: fields.cause });
    this.name = new.target.name;
    this.code = fields.code;
    this.errno = fields.errno ?? 0;
    this.op = fields.op ?? '';
    this.detail = fields.detail ?? '';
  }
}

/** A kernel netlink request failed; `detail` carries the extended-ACK text when the kernel gave one. */
export class NetlinkError extends MesosCniError {}
/** Creating, opening or deleting a network namespace failed. */
export class NetnsError extends MesosCniError {}
/** Reading or writing a sysctl inside a namespace failed. */
export class SysctlError extends MesosCniError {}
/** Spawning a program inside a namespace failed, or it exited non-zero (`detail` = its stderr). */
export class SpawnError extends MesosCniError {}
/** A spec handed to the library is invalid; the message names the field and what was expected. */
export class SpecError extends MesosCniError {
  constructor(message: string) {
    super(message, { code: 'EINVAL', errno: 22 });
  }
}

/** A lock was held elsewhere for longer than the caller would wait (lib/fs/flock.ts). */
export class LockTimeoutError extends MesosCniError {
  constructor(
    readonly path: string,
    readonly timeoutMs: number,
  ) {
    super(`lock ${path}: held by another process or request for more than ${timeoutMs} ms`, { code: 'ETIMEDOUT', errno: 110, op: `lock ${path}` });
  }
}

const byKind: Record<string, typeof MesosCniError> = {
  netlink: NetlinkError,
  netns: NetnsError,
  sysctl: SysctlError,
  spawn: SpawnError,
};

interface RawNativeError {
  message: string;
  code: string;
  errno: number;
  op: string;
  detail: string;
  kind: string;
}

/** Turn a rejection from the addon into the matching error class (others pass through). */
export function fromNative(e: unknown): unknown {
  if (!(e instanceof Error) || typeof (e as Partial<RawNativeError>).kind !== 'string') return e;
  const raw = e as unknown as RawNativeError;
  const Cls = byKind[raw.kind] ?? MesosCniError;
  return new Cls(raw.message, { code: raw.code, errno: raw.errno, op: raw.op, detail: raw.detail });
}

/** errno names for the numbers netlink replies carry (the subset we act on or report). */
const errnoNames: Record<number, string> = {
  1: 'EPERM', 2: 'ENOENT', 3: 'ESRCH', 4: 'EINTR', 5: 'EIO', 7: 'E2BIG', 11: 'EAGAIN', 12: 'ENOMEM',
  13: 'EACCES', 16: 'EBUSY', 17: 'EEXIST', 19: 'ENODEV', 22: 'EINVAL', 28: 'ENOSPC', 34: 'ERANGE',
  61: 'ENODATA', 90: 'EMSGSIZE', 93: 'EPROTONOSUPPORT', 95: 'EOPNOTSUPP', 97: 'EAFNOSUPPORT',
  98: 'EADDRINUSE', 99: 'EADDRNOTAVAIL', 100: 'ENETDOWN', 101: 'ENETUNREACH', 110: 'ETIMEDOUT',
  113: 'EHOSTUNREACH', 114: 'EALREADY',
};
/** Human text for the same numbers, as strerror(3) words them. */
const errnoText: Record<number, string> = {
  1: 'Operation not permitted', 2: 'No such file or directory', 3: 'No such process',
  4: 'Interrupted system call', 5: 'Input/output error', 11: 'Resource temporarily unavailable',
  12: 'Cannot allocate memory', 13: 'Permission denied', 16: 'Device or resource busy', 17: 'File exists',
  19: 'No such device', 22: 'Invalid argument', 28: 'No space left on device',
  34: 'Numerical result out of range', 61: 'No data available', 90: 'Message too long',
  93: 'Protocol not supported', 95: 'Operation not supported', 97: 'Address family not supported by protocol',
  98: 'Address already in use', 99: 'Cannot assign requested address', 100: 'Network is down',
  101: 'Network is unreachable', 110: 'Connection timed out', 113: 'No route to host',
  114: 'Operation already in progress',
};

export function errnoName(n: number): string {
  return errnoNames[n] ?? `E${n}`;
}
export function errnoMessage(n: number): string {
  return errnoText[n] ?? `errno ${n}`;
}

/**
 * Undo steps that failed after `e` (a batch's rollback, a plugin's rollback stack) are attached to
 * it as `undoErrors`, never in its place: the caller learns what went wrong first, and what was
 * left behind.
 */
export function attachUndoErrors(e: unknown, errors: readonly Error[]): void {
  if (errors.length && e instanceof Error) (e as Error & { undoErrors?: Error[] }).undoErrors = [...undoErrorsOf(e), ...errors];
}

/** The undo errors attached to `e` (none: []). */
export function undoErrorsOf(e: unknown): Error[] {
  return (e as { undoErrors?: Error[] } | undefined)?.undoErrors ?? [];
}

/** Whether `e` is one of the library's errors with one of these errno names (`EEXIST`, …). */
export function isErrno(e: unknown, ...codes: string[]): e is MesosCniError {
  return e instanceof MesosCniError && codes.includes(e.code);
}

/** Await `p`, reading EEXIST as "already there" (undefined): what every `ensure` verb does. */
export async function unlessExists<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (e) {
    if (!isErrno(e, 'EEXIST')) throw e;
    return undefined;
  }
}
