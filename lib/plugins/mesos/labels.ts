// The mesos plugin's rewrite as a pure function: network labels + the delegate's config → the
// config the delegate runs with. No I/O, so every rule is unit-tested as data.
import { isObject } from '../../cni/config.js';
import { CniError, ErrorCode } from '../../cni/errors.js';
import { formatIp, networkOf, parseIp, parsePrefix } from '../../ip.js';
import type { MesosConfig } from './config.js';

/** Labels whose value is copied into delegate.ipam (for a DHCP-style IPAM). */
export const IPAM_LABELS: readonly string[] = ['vendorid', 'userid', 'clientid'];
/** Labels upstream acted on that we deliberately leave alone (docs/mesos.md says why). */
export const NOT_APPLIED: readonly string[] = ['env', 'hostname'];

export interface CniArgsRequest {
  /** Requested addresses, canonical text, in label order. */
  ips: string[];
  /** The network of the last `IP=<cidr>` element, as a CIDR string. */
  subnet: string | undefined;
  /** One error per malformed IP element (the element is not used). */
  errors: CniError[];
}

function elementError(element: string, expected: string): CniError {
  return new CniError(ErrorCode.InvalidNetworkConfig, `label CNI_ARGS: element ${JSON.stringify(element)}: expected ${expected}`);
}

/**
 * The `IP=` elements of a CNI_ARGS label value, e.g. "IP=10.0.0.5;IP=fd00::5/64;FOO=bar".
 * Elements are `;`-separated; keys other than IP are ignored, as upstream does. A value with a
 * prefix requests its address and names the subnet. Never throws: bad elements come back in
 * `errors`, so ADD can refuse them and DEL can skip them.
 */
export function parseCniArgsLabel(value: string): CniArgsRequest {
  const out: CniArgsRequest = { ips: [], subnet: undefined, errors: [] };
  for (const raw of value.split(';')) {
    const element = raw.trim();
    if (element === '') continue; // "IP=a;" — a trailing separator is not an element
    const eq = element.indexOf('=');
    if ((eq < 0 ? element : element.slice(0, eq)).trim() !== 'IP') continue;
    const v = eq < 0 ? '' : element.slice(eq + 1).trim();
    if (v === '') {
      // Upstream crashed on a bare "IP" and requested an empty address for "IP=".
      out.errors.push(elementError(element, 'IP=<address> or IP=<address>/<prefix>, not an empty value'));
      continue;
    }
    try {
      if (v.includes('/')) {
        const p = parsePrefix(v, 'IP');
        out.ips.push(formatIp(p.bytes));
        out.subnet = networkOf(p).text;
      } else {
        out.ips.push(formatIp(parseIp(v, 'IP').bytes));
      }
    } catch {
      // Upstream (CIDR parsing at its branch head) turned a bare address into an empty string.
      out.errors.push(elementError(element, 'an IPv4 or IPv6 address, optionally with a /prefix (e.g. IP=10.0.0.5 or IP=10.0.0.5/24)'));
    }
  }
  return out;
}

export interface Rewritten {
  /** The config to run the delegate with. */
  delegate: Record<string, unknown>;
  /** What was not applied and why, for the log (lenient mode's skipped elements included). */
  notes: string[];
}

export interface RewriteOptions {
  /**
   * Skip malformed IP elements instead of refusing them: DEL uses this, because an ADD that was
   * refused for them allocated nothing, and a DEL that fails too would leave Mesos unable to
   * clean up the container.
   */
  lenient?: boolean;
}

/**
 * The delegate's config for this network and labels:
 * - `CNI_ARGS` label `IP=` elements append to `args.cni.ips` (existing entries and every other
 *   key kept; an address already listed is not repeated); a CIDR also sets `args.cni.subnet`;
 * - `vendorid` / `userid` / `clientid` labels set the same key in `ipam` (when there is one);
 * - the network's `args` flow through (the delegate's own keys win), `name` and `cniVersion` are
 *   copied, `prevResult` and `runtimeConfig` are passed on unchanged.
 */
export function rewriteDelegate(cfg: MesosConfig, opts: RewriteOptions = {}): Rewritten {
  const d = structuredClone(cfg.delegate);
  const notes: string[] = [];
  const ips: string[] = [];
  let subnet: string | undefined;
  for (const label of cfg.labels) {
    if (label.key === 'CNI_ARGS') {
      const r = parseCniArgsLabel(label.value ?? '');
      if (r.errors.length && !opts.lenient) throw r.errors[0]!;
      for (const e of r.errors) notes.push(`skipped: ${e.msg}`);
      ips.push(...r.ips);
      subnet = r.subnet ?? subnet;
    } else if (IPAM_LABELS.includes(label.key)) {
      if (!isObject(d.ipam)) notes.push(`label ${label.key}: not applied: the delegate has no ipam`);
      else if (label.value === undefined) notes.push(`label ${label.key}: not applied: no value`);
      else d.ipam[label.key] = label.value;
    } else if (NOT_APPLIED.includes(label.key)) {
      notes.push(`label ${label.key}: not applied (by design)`);
    }
  }
  const args: Record<string, unknown> = { ...structuredClone(cfg.args ?? {}), ...(isObject(d.args) ? d.args : {}) };
  if (ips.length || subnet) {
    const cni = isObject(args.cni) ? { ...args.cni } : {};
    const have = Array.isArray(cni.ips) ? (cni.ips as string[]) : [];
    if (ips.length) cni.ips = [...have, ...ips.filter((ip, i) => !have.includes(ip) && ips.indexOf(ip) === i)];
    if (subnet) cni.subnet = subnet;
    args.cni = cni;
  }
  if (Object.keys(args).length) d.args = args;
  d.name = cfg.name;
  if (cfg.cniVersion) d.cniVersion = cfg.cniVersion;
  if (cfg.prevResult !== undefined) d.prevResult = structuredClone(cfg.prevResult);
  if (cfg.runtimeConfig !== undefined && d.runtimeConfig === undefined) d.runtimeConfig = structuredClone(cfg.runtimeConfig);
  return { delegate: d, notes };
}
