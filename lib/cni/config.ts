// Network configuration as a plugin receives it on stdin: decoding, the fields every plugin
// shares (cniVersion, name, type, args, prevResult, runtimeConfig), version negotiation.
import { configError, ErrorCode, InputError } from './errors.js';
import { isSupported, SUPPORTED_VERSIONS } from './version.js';
import type { AnyResult } from './result.js';

/** The fields the spec gives every plugin config; plugins extend it with their own. */
export interface NetConf {
  cniVersion?: string;
  name?: string;
  type: string;
  args?: Record<string, unknown>;
  ipam?: { type?: string; [k: string]: unknown };
  dns?: { nameservers?: string[]; domain?: string; search?: string[]; options?: string[] };
  prevResult?: AnyResult;
  runtimeConfig?: Record<string, unknown>;
  capabilities?: Record<string, boolean>;
  [field: string]: unknown;
}

/** A network configuration list (.conflist), as a runtime reads it. */
export interface NetConfList {
  cniVersion?: string;
  /** 1.1.0: every version the list may be run with; the runtime uses the highest it speaks. */
  cniVersions?: string[];
  name: string;
  disableCheck?: boolean;
  disableGC?: boolean;
  plugins: NetConf[];
}

/** Decode stdin as a JSON object: code 6 on bad JSON, 7 on a non-object or bad shared fields. */
export function decodeConfig(stdin: Buffer | string): NetConf {
  const text = typeof stdin === 'string' ? stdin : stdin.toString('utf8');
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new InputError(ErrorCode.DecodeFailure, 'error decoding network config from stdin', (e as Error).message);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw configError('network config', 'a JSON object');
  const c = v as Record<string, unknown>;
  if (c.cniVersion !== undefined && typeof c.cniVersion !== 'string') throw configError('cniVersion', 'a version string', c.cniVersion);
  if (c.name !== undefined && typeof c.name !== 'string') throw configError('name', 'a string', c.name);
  if (c.type !== undefined && typeof c.type !== 'string') throw configError('type', 'a string', c.type);
  if (c.args !== undefined && !isObject(c.args)) throw configError('args', 'an object', c.args);
  if (c.ipam !== undefined && !isObject(c.ipam)) throw configError('ipam', 'an object', c.ipam);
  if (c.runtimeConfig !== undefined && !isObject(c.runtimeConfig)) throw configError('runtimeConfig', 'an object', c.runtimeConfig);
  if (c.prevResult !== undefined && !isObject(c.prevResult)) throw configError('prevResult', 'an object', c.prevResult);
  return c as NetConf;
}

/** Refuse a config version the plugin does not speak (code 1), as libcni's skel does. */
export function checkVersion(conf: NetConf, supported: readonly string[] = SUPPORTED_VERSIONS): void {
  const v = conf.cniVersion;
  if (v === undefined || v === '') return; // legacy: answered in the 0.1/0.2 shape
  if (!isSupported(v) || !supported.includes(v)) {
    throw new InputError(
      ErrorCode.IncompatibleVersion,
      `incompatible CNI versions; config is "${v}", plugin supports [${supported.map((s) => `"${s}"`).join(' ')}]`,
    );
  }
}

/**
 * A network name as the spec (and libcni's ValidateNetworkName) has it: a letter or digit, then
 * letters, digits, `_`, `.`, `-`. Plugins that name a directory after it rely on this: no `/`,
 * no `..`, no NUL.
 */
export const NETWORK_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
