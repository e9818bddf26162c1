// Which iptables binaries a call runs, and the options every call shares.
import { SpecError } from '../native/index.js';
import type { Family } from './tokens.js';

/**
 * `default`: the distribution's `iptables-restore` alternative (nf_tables on current Debian);
 * `legacy` / `nft`: that backend's binaries explicitly. Rules written by one backend are invisible
 * to the other, so every call of one owner must use the same choice.
 */
export type Backend = 'default' | 'legacy' | 'nft';

export interface IptablesOptions {
  backend?: Backend;
  /** Bound on the xtables lock wait, `-w <seconds>` (default 5; iptables-nft ignores the lock). */
  waitSeconds?: number;
  /** Kill the iptables process after this long (default: waitSeconds + 30 s). */
  timeoutMs?: number;
}

export interface ResolvedOptions {
  backend: Backend;
  waitSeconds: number;
  timeoutMs: number;
}

export const DEFAULT_WAIT_SECONDS = 5;

export function resolveOptions(o: IptablesOptions = {}): ResolvedOptions {
  const backend = o.backend ?? 'default';
  if (!['default', 'legacy', 'nft'].includes(backend)) {
    throw new SpecError(`iptables: backend: expected one of default, legacy, nft, got ${JSON.stringify(backend)}`);
  }
  const waitSeconds = o.waitSeconds ?? DEFAULT_WAIT_SECONDS;
  if (!Number.isInteger(waitSeconds) || waitSeconds < 1 || waitSeconds > 3600) {
    throw new SpecError(`iptables: waitSeconds: expected an integer from 1 to 3600, got ${JSON.stringify(waitSeconds)}`);
  }
  const timeoutMs = o.timeoutMs ?? waitSeconds * 1000 + 30_000;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1) {
    throw new SpecError(`iptables: timeoutMs: expected a positive integer, got ${JSON.stringify(timeoutMs)}`);
  }
  return { backend, waitSeconds, timeoutMs };
}

/** e.g. ('restore', 6, 'legacy') → ip6tables-legacy-restore; ('iptables', 4, 'nft') → iptables-nft. */
export function binary(tool: 'restore' | 'save' | 'iptables', family: Family, backend: Backend): string {
  const base = family === 6 ? 'ip6tables' : 'iptables';
  const withBackend = backend === 'default' ? base : `${base}-${backend}`;
  return tool === 'iptables' ? withBackend : `${withBackend}-${tool}`;
}
