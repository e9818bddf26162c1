// The registry of netlink verbs: how each validates its spec, names itself in errors, which
// errnos mean "already so", and what undoes it. Verb modules extend `OpSpecs` by declaration merging.
import type { NetlinkHandle } from './handle.js';

/** Spec type of every verb, keyed by name ("link.add", ...). Each verb module adds its entries. */
export interface OpSpecs {}

export type OpName = keyof OpSpecs;
export type Op = { [K in OpName]: { op: K; spec: OpSpecs[K] } }[OpName];

export interface OpDef<S> {
  /** Validate and resolve (e.g. interface names → indexes) into the plain object C++ encodes. */
  prepare(h: NetlinkHandle, spec: S): object | Promise<object>;
  /** Context for errors, iproute2-style: "add route 10.0.0.0/24 via 10.0.0.1 dev eth0". */
  describe(spec: S): string;
  /** errno names meaning the goal already holds (e.g. ENODEV for a delete). */
  ok?: readonly string[];
  /** The op that undoes this one, for batch rollback. */
  undo?(spec: S): Op | undefined;
}

const defs = new Map<string, OpDef<never>>();

export function defineOp<K extends OpName>(name: K, def: OpDef<OpSpecs[K]>): void {
  defs.set(name, def as OpDef<never>);
}

export function opDef<K extends OpName>(name: K): OpDef<OpSpecs[K]> {
  const d = defs.get(name);
  if (!d) throw new Error(`netlink: unknown op ${name}`);
  return d as OpDef<OpSpecs[K]>;
}

/** Every verb defined so far (all of them once the verb modules are loaded), sorted. */
export function opNames(): string[] {
  return [...defs.keys()].sort();
}
