// CNI errors: the spec's codes and the one JSON document a failing plugin prints.
import { LockTimeoutError, SpecError } from '../native/errors.js';

export const ErrorCode = {
  IncompatibleVersion: 1,
  UnsupportedField: 2,
  UnknownContainer: 3,
  InvalidEnvironment: 4,
  IoFailure: 5,
  DecodeFailure: 6,
  InvalidNetworkConfig: 7,
  /** CNI_NETNS is unusable: the plugin's own namespace (libcni's skel ErrInvalidNetNS). */
  InvalidNetns: 8,
  TryAgainLater: 11,
  /** STATUS: the plugin cannot serve ADD now. */
  PluginNotAvailable: 50,
  /** STATUS: not available, and attached containers may have limited connectivity. */
  LimitedConnectivity: 51,
  /** Plugin-specific codes start here. */
  Plugin: 100,
} as const;

/** An error a plugin reports to its runtime: `{cniVersion, code, msg, details}` on stdout, exit 1. */
export class CniError extends Error {
  readonly code: number;
  readonly msg: string;
  readonly details: string;
  constructor(code: number, msg: string, details = '', options?: { cause?: unknown }) {
    super(details ? `${msg}: ${details}` : msg, options);
    this.name = 'CniError';
    this.code = code;
    this.msg = msg;
    this.details = details;
  }

  toJSON(cniVersion: string): { cniVersion: string; code: number; msg: string; details?: string } {
    return { cniVersion, code: this.code, msg: this.msg, ...(this.details ? { details: this.details } : {}) };
  }
}

/**
 * Input refused for what it is, not for the state of the host: a container ID, interface name or
 * config value no ADD accepts, JSON that does not parse. Nothing can ever have been attached with
 * it, so the skel answers a DEL of it with success (and a warning in the log): failing would only
 * make a runtime retry that DEL forever. Every other command gets the error.
 */
export class InputError extends CniError {}

/**
 * Any thrown value as a CniError. The library's SpecError (a field failed validation; plugins hand
 * config values to library parsers) is code 7; a lock that stayed taken is 11 (try again later:
 * nothing was applied); other errors become `fallbackCode`.
 */
export function asCniError(e: unknown, fallbackCode: number = ErrorCode.Plugin): CniError {
  if (e instanceof CniError) return e;
  if (e instanceof SpecError) return new CniError(ErrorCode.InvalidNetworkConfig, e.message, '', { cause: e });
  if (e instanceof LockTimeoutError) return new CniError(ErrorCode.TryAgainLater, e.message, '', { cause: e });
  const msg = e instanceof Error ? e.message : String(e);
  return new CniError(fallbackCode, msg, '', { cause: e });
}

/**
 * The code a plugin reports for a step that failed with `e`: its own `code`, unless `e` says "try
 * again later" (11), which a runtime may act on, so it is passed on as it is.
 */
export function codeFor(e: unknown, code: number): number {
  return asCniError(e).code === ErrorCode.TryAgainLater ? ErrorCode.TryAgainLater : code;
}

/** A config field is wrong: code 7, the message names the field and what was expected. */
export function configError(field: string, expected: string, got?: unknown): InputError {
  const tail = arguments.length > 2 ? `, got ${JSON.stringify(got)}` : '';
  return new InputError(ErrorCode.InvalidNetworkConfig, `${field}: expected ${expected}${tail}`);
}
