// dcos-l4lb configuration: upstream's fields and per-field defaults (a partial `spartan` or
// `minuteman` object keeps the other defaults), the bare booleans its README promises, and the
// delegate's config as upstream rewrites it (our name, cniVersion and args win over its own).
import { isObject, NETWORK_NAME_RE, type NetConf } from '../../cni/config.js';
import { configError } from '../../cni/errors.js';

/** Where dcos-net looks for minuteman registrations (upstream's minuteman.DefaultPath). */
export const DEFAULT_MINUTEMAN_PATH = '/var/run/dcos/cni/l4lb';

export interface SpartanConfig {
  enable: boolean;
  /** host-local's store for the spartan-network lease; undefined: host-local's own default. */
  dataDir: string | undefined;
}

export interface MinutemanConfig {
  enable: boolean;
  /** Directory holding one file per container, named by its ID, holding its netns path. */
  path: string;
}

export interface L4lbConfig {
  name: string;
  cniVersion: string | undefined;
  spartan: SpartanConfig;
  minuteman: MinutemanConfig;
  /** The delegate's config exactly as it is sent. */
  delegate: Record<string, unknown>;
  delegateType: string;
}

/** `spartan`/`minuteman`: absent or null → defaults; a bare boolean → enable; else an object. */
function section(c: Record<string, unknown>, key: string): Record<string, unknown> {
  const v = c[key];
  if (v === undefined || v === null) return {};
  if (typeof v === 'boolean') return { enable: v };
  if (!isObject(v)) throw configError(key, 'true, false or an object like {"enable": true}', v);
  return v;
}

function enable(s: Record<string, unknown>, field: string): boolean {
  const v = s.enable;
  if (v === undefined || v === null) return true;
  if (typeof v !== 'boolean') throw configError(field, 'true or false', v);
  return v;
}

function absolutePath(v: unknown, field: string): string | undefined {
  // Empty means "use the default", as upstream treats an empty minuteman path.
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string' || !v.startsWith('/') || v.includes('\0')) throw configError(field, 'an absolute directory path', v);
  return v;
}

export function parseConfig(conf: NetConf): L4lbConfig {
  const c = conf as Record<string, unknown>;
  // It names the directory of the network's attachment records (records.ts).
  if (typeof conf.name !== 'string' || !NETWORK_NAME_RE.test(conf.name)) {
    throw configError('name', 'a network name of letters, digits, _ . - (the delegate gets it too)', conf.name);
  }
  // Upstream parses mtu and never uses it; keep accepting it, refuse what it could not parse.
  if (c.mtu !== undefined && (typeof c.mtu !== 'number' || !Number.isInteger(c.mtu) || c.mtu < 0)) {
    throw configError('mtu', 'a non-negative integer (accepted for compatibility; unused)', c.mtu);
  }

  const sp = section(c, 'spartan');
  const spartan = { enable: enable(sp, 'spartan.enable'), dataDir: absolutePath(sp.dataDir, 'spartan.dataDir') };
  const mm = section(c, 'minuteman');
  const minuteman = { enable: enable(mm, 'minuteman.enable'), path: absolutePath(mm.path, 'minuteman.path') ?? DEFAULT_MINUTEMAN_PATH };

  if (!isObject(c.delegate)) throw configError('delegate', 'the delegate network config (an object with "type")', c.delegate);
  const type = c.delegate.type;
  if (typeof type !== 'string' || type === '') throw configError('delegate.type', 'a string naming the delegate plugin', type);
  // Upstream overwrites name, cniVersion ("" when ours is absent) and args (null when absent);
  // leaving the key out says the same to every plugin, and a null args is refused by most.
  const { cniVersion: _v, args: _a, ...rest } = c.delegate;
  const delegate: Record<string, unknown> = {
    ...rest,
    name: conf.name,
    ...(conf.cniVersion ? { cniVersion: conf.cniVersion } : {}),
    ...(conf.args !== undefined ? { args: conf.args } : {}),
  };
  return { name: conf.name, cniVersion: conf.cniVersion || undefined, spartan, minuteman, delegate, delegateType: type };
}
