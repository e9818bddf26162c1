// Typed readers for JSON config fields: each error names the field and what was expected.

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const show = (v: unknown) => (v === undefined ? 'nothing' : JSON.stringify(v));

export function obj(v: unknown, field: string): Obj {
  if (!isObj(v)) throw new ConfigError(`${field}: expected an object, got ${show(v)}`);
  return v;
}

export function optStr(o: Obj, key: string, field: string): string | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new ConfigError(`${field}: expected a string, got ${show(v)}`);
  return v;
}

export function reqStr(o: Obj, key: string, field: string): string {
  const v = optStr(o, key, field);
  if (v === undefined) throw new ConfigError(`${field}: required (a string)`);
  return v;
}

export function optBool(o: Obj, key: string, field: string): boolean | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw new ConfigError(`${field}: expected true or false, got ${show(v)}`);
  return v;
}

/** A protobuf uint32: a non-negative integer (proto JSON also allows it quoted). */
export function optUint(o: Obj, key: string, field: string, max = 0xffffffff): number | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > max) throw new ConfigError(`${field}: expected an integer from 0 to ${max}, got ${show(v)}`);
  return n;
}

export function optArray(o: Obj, key: string, field: string): unknown[] | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) throw new ConfigError(`${field}: expected an array, got ${show(v)}`);
  return v;
}

/** "host:port" (IPv6 hosts in brackets). */
export function hostPort(s: string, field: string, allowZero = false): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(s);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port < (allowZero ? 0 : 1) || port > 65535) throw new ConfigError(`${field}: expected "host:port" (e.g. "0.0.0.0:5055" or "[::1]:5055"), got ${show(s)}`);
  return { host: m[1] ?? m[2]!, port };
}
