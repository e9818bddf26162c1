// Field validators shared by the netlink verbs: each names the field and what it expected.
import { SpecError } from '../native/index.js';

/** What an interface name must be, for errors (every validator of one says it the same way). */
export const IFNAME_EXPECTED = "an interface name of 1-15 characters without '/', ':', '%', whitespace or control characters (and not all or default)";

/**
 * Interface names as the kernel's dev_valid_name() accepts them, minus '%' and control
 * characters: the kernel treats a name holding '%' as a template ("veth%d") and picks the name
 * itself, so the link would not be found again under the name asked for; it takes a control
 * character (a bridge named "\x07"), which no operator means and which breaks tools that print
 * names (`ip -j` writes it raw into its JSON).
 */
export function ifname(v: unknown, field: string): string {
  if (isIfname(v)) return v;
  throw new SpecError(`${field}: expected ${IFNAME_EXPECTED}, got ${JSON.stringify(v)}`);
}

/** Whether `ifname` accepts `v`. */
export function isIfname(v: unknown): v is string {
  // 'all' and 'default' name the sysctl templates under /proc/sys/net/*/conf: the kernel refuses them.
  return typeof v === 'string' && v.length >= 1 && v.length <= 15 && !['.', '..', 'all', 'default'].includes(v) && !/[/:%\s\0-\x1f\x7f]/.test(v);
}

/** An interface alias: at most 255 bytes (IFALIASZ), printable, no NUL. */
export function alias(v: unknown, field: string): string {
  if (typeof v === 'string' && Buffer.byteLength(v) <= 255 && !/[\0-\x1f\x7f]/.test(v)) return v;
  throw new SpecError(`${field}: expected text of at most 255 bytes without control characters, got ${JSON.stringify(v)}`);
}

/** "aa:bb:cc:dd:ee:ff" → 6 bytes. */
export function mac(v: unknown, field: string): Uint8Array {
  if (typeof v === 'string' && /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(v)) {
    return Uint8Array.from(v.split(':').map((h) => parseInt(h, 16)));
  }
  throw new SpecError(`${field}: expected a MAC address like 02:00:00:00:00:01, got ${JSON.stringify(v)}`);
}

/** An integer in [min, max]. */
export function int(v: unknown, field: string, min: number, max: number): number {
  if (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max) return v;
  throw new SpecError(`${field}: expected an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
}

export function bool(v: unknown, field: string): boolean {
  if (typeof v === 'boolean') return v;
  throw new SpecError(`${field}: expected true or false, got ${JSON.stringify(v)}`);
}

/** One of a fixed set of strings. */
export function oneOf<T extends string>(v: unknown, field: string, allowed: readonly T[]): T {
  if (typeof v === 'string' && (allowed as readonly string[]).includes(v)) return v as T;
  throw new SpecError(`${field}: expected one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
}

/** Copy only defined entries: native specs treat a present key as "set this". */
export function defined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}
