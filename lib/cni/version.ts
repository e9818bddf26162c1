// CNI spec versions: the list we speak, ordering, and the legacy (0.1/0.2) result boundary.

export const SUPPORTED_VERSIONS = ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const;
export type CniVersion = (typeof SUPPORTED_VERSIONS)[number];
export const LATEST: CniVersion = '1.1.0';

function parts(v: string): [number, number, number] {
  const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(v);
  if (!m) return [NaN, NaN, NaN];
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

/** Negative, zero or positive as a < b, a = b, a > b (semver order of the three numbers). */
export function compareVersions(a: string, b: string): number {
  const x = parts(a);
  const y = parts(b);
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return 0;
}

export function isSupported(v: string): v is CniVersion {
  return (SUPPORTED_VERSIONS as readonly string[]).includes(v);
}

/**
 * Results in the 0.1/0.2 shape (`ip4`, `ip6`, `dns`): what Mesos parses. A config without a
 * cniVersion counts as legacy, as libcni treats it (0.1.0) and as Mesos expects.
 */
export function isLegacy(v: string | undefined): boolean {
  return v === undefined || v === '' || compareVersions(v, '0.3.0') < 0;
}

/** Whether version `v` has the given command (CHECK from 0.4.0; STATUS and GC from 1.1.0). */
export function hasCommand(v: string, command: string): boolean {
  if (command === 'CHECK') return compareVersions(v, '0.4.0') >= 0;
  if (command === 'STATUS' || command === 'GC') return compareVersions(v, '1.1.0') >= 0;
  return true;
}
