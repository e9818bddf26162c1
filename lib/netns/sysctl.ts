// sysctl inside a network namespace: `ip netns exec NS sysctl net.ipv4.ip_forward=1`, no exec.
import { native, SpecError } from '../native/index.js';
import type { Netns } from './netns.js';

// Namespace-scoped keys only (net.*). Dotted form, or slash form when an interface name has dots.
const DOTTED = /^net(\.[A-Za-z0-9_-]+)+$/;
// A part may be any interface name (only '/', NUL and whitespace are outside one; '.' and '..'
// are refused below), so `net/ipv4/conf/eth0+1/arp_notify` works as the kernel names it.
const SLASHED = /^net(\/[^/\0\s]+)+$/;

/** "net.ipv4.ip_forward" or "net/ipv4/conf/eth0.1/forwarding" → the path below /proc/sys. */
export function sysctlPath(key: string): string {
  if (DOTTED.test(key)) return key.replaceAll('.', '/');
  if (SLASHED.test(key) && !key.split('/').some((p) => p === '.' || p === '..')) return key;
  throw new SpecError(
    `sysctl: key: expected net.<a>.<b> (or net/<a>/<b> when a part holds dots), got ${JSON.stringify(key)}`,
  );
}

/** `sysctl -n KEY` in `ns` (default: the current namespace). */
export async function get(ns: Netns | undefined, key: string): Promise<string> {
  return native.sysctlRead(ns ? ns.fd : -1, sysctlPath(key));
}

/** `sysctl -w KEY=VALUE` in `ns` (default: the current namespace). */
export async function set(ns: Netns | undefined, key: string, value: string | number): Promise<void> {
  const v = String(value);
  if (!/^[A-Za-z0-9 .:_\/-]{0,256}$/.test(v)) throw new SpecError(`sysctl ${key}: value: expected plain text, got ${JSON.stringify(v)}`);
  return native.sysctlWrite(ns ? ns.fd : -1, sysctlPath(key), v);
}
