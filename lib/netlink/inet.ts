// Field helpers shared by the addr/route/rule/neigh verbs: families, scopes, tables, devices.
import { isErrno, NetlinkError, SpecError } from '../native/index.js';
import type { NetlinkHandle } from './handle.js';
import type { Family, IpAddr } from '../ip.js';
import { ifname, int } from './validate.js';

/** rtnetlink scopes by name; iproute2 prints 0 as "global" for addresses, "universe" for routes. */
export const SCOPES = { global: 0, universe: 0, site: 200, link: 253, host: 254, nowhere: 255 } as const;
export type ScopeName = keyof typeof SCOPES;

/** Well-known routing tables (iproute2's rt_tables). */
export const TABLES = { default: 253, main: 254, local: 255 } as const;
export type TableName = keyof typeof TABLES;

/** An index no device can have (the kernel allocates positive ints): deleting from it gets ENODEV. */
export const GONE_INDEX = 0xffffffff;

export function scope(v: unknown, field: string): number {
  if (typeof v === 'string' && Object.hasOwn(SCOPES, v)) return SCOPES[v as ScopeName];
  if (typeof v === 'number') return int(v, field, 0, 255);
  throw new SpecError(`${field}: expected one of ${Object.keys(SCOPES).join(', ')} or 0-255, got ${JSON.stringify(v)}`);
}

export function table(v: unknown, field: string): number {
  if (typeof v === 'string' && Object.hasOwn(TABLES, v)) return TABLES[v as TableName];
  if (typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 2 ** 32 - 1) return v;
  throw new SpecError(`${field}: expected main, local, default or a table id 1-4294967295, got ${JSON.stringify(v)}`);
}

export function family(v: unknown, field: string): Family {
  if (v === 4 || v === 6) return v;
  throw new SpecError(`${field}: expected 4 or 6, got ${JSON.stringify(v)}`);
}

/** All addresses of one request must share a family; returns it (or `fallback` when none is given). */
export function commonFamily(explicit: unknown, field: string, addrs: [string, IpAddr | undefined][], fallback?: Family): Family {
  let fam = explicit === undefined ? undefined : family(explicit, `${field}.family`);
  for (const [name, a] of addrs) {
    if (!a) continue;
    if (fam !== undefined && a.family !== fam) {
      throw new SpecError(`${field}.${name}: ${a.text} is IPv${a.family} but the ${explicit === undefined ? 'other addresses are' : 'family is'} IPv${fam}`);
    }
    fam = a.family;
  }
  if (fam === undefined && fallback === undefined) throw new SpecError(`${field}.family: required (4 or 6) when no address gives it`);
  return fam ?? fallback!;
}

/** Resolve a device for a create: a missing one fails with ENODEV in the verb's own words. */
export async function devIndex(h: NetlinkHandle, ref: string | number, field: string, context: () => string): Promise<number> {
  if (typeof ref !== 'number') ifname(ref, field);
  try {
    return await h.linkIndex(ref, field);
  } catch (e) {
    if (!isErrno(e, 'ENODEV')) throw e;
    throw new NetlinkError(`${context()}: No such device`, { code: 'ENODEV', errno: 19, op: field, detail: `no link named ${String(ref)}`, cause: e });
  }
}

/**
 * Resolve a device for a delete. A device that is gone took its addresses, routes and neighbours
 * with it, so instead of failing the whole batch the request goes out with GONE_INDEX and the
 * kernel's ENODEV (or ESRCH) counts as "already done".
 */
export async function delDevIndex(h: NetlinkHandle, ref: string | number, field: string): Promise<number> {
  if (typeof ref !== 'number') ifname(ref, field);
  try {
    return await h.linkIndex(ref, field);
  } catch (e) {
    if (isErrno(e, 'ENODEV')) return GONE_INDEX;
    throw e;
  }
}
