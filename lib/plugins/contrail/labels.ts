// The task's Contrail labels (Mesos network_info labels, as upstream's MesosCniLabels reads them:
// later keys win) turned into what local mode asks the master for. Pure. Every refusal is a CNI
// error naming the label and what was expected; a label this mode does not act on is reported.
import { isObject, type NetConf } from '../../cni/config.js';
import { InputError, ErrorCode } from '../../cni/errors.js';
import { DEFAULT_DOMAIN, DEFAULT_NETWORK, DEFAULT_PROJECT, FQ_PART, FqError, parseCidr4, parseFq } from '../../overlay/contrail/model.js';
import { isIPv4 } from '../../ip.js';

export const LABELS = ['networks', 'network-subnets', 'pod-subnets', 'network-ip', 'project-name', 'domain-name', 'floating-ips', 'security-groups'] as const;

/** The labels of network_info, later keys winning (upstream builds a dict); non-string values left out. */
export function mesosLabels(conf: NetConf): Map<string, string> {
  const out = new Map<string, string>();
  const mesos = isObject(conf.args) ? conf.args['org.apache.mesos'] : undefined;
  const info = isObject(mesos) ? mesos.network_info : undefined;
  const labels = isObject(info) && isObject(info.labels) ? info.labels.labels : undefined;
  if (!Array.isArray(labels)) return out;
  for (const l of labels) if (isObject(l) && typeof l.key === 'string' && typeof l.value === 'string') out.set(l.key, l.value);
  return out;
}

export function labelError(label: string, msg: string): InputError {
  return new InputError(ErrorCode.InvalidNetworkConfig, `label ${label}: ${msg}`);
}

export interface LocalRequest {
  network: string;
  subnet?: { cidr: string; label: string };
  ip?: string;
  fips: { pool: string; ip?: string }[];
  groups: string[];
}

function fq(label: string, text: string, parts: number, defaults: string[], what: string): string {
  try {
    return parseFq(text, parts, defaults, what);
  } catch (e) {
    if (e instanceof FqError) throw labelError(label, e.message);
    throw e;
  }
}

function part(label: string, v: string | undefined, dflt: string): string {
  if (v === undefined || v === '') return dflt;
  if (!FQ_PART.test(v)) throw labelError(label, `expected a name of 1-64 of A-Z a-z 0-9 _ . -, got ${JSON.stringify(v)}`);
  return v;
}

/** "domain:project:vn:pool" or the same followed by "(a.b.c.d)". */
function floatingIp(entry: string, domain: string, project: string): { pool: string; ip?: string } {
  const m = /^([^()]+?)(?:\(([^()]*)\))?$/.exec(entry.trim());
  if (!m) throw labelError('floating-ips', `expected domain:project:network:pool or domain:project:network:pool(a.b.c.d), got ${JSON.stringify(entry)}`);
  const pool = fq('floating-ips', m[1]!, 4, [domain, project], 'pool');
  if (m[2] === undefined) return { pool };
  const ip = m[2].trim();
  if (!isIPv4(ip)) throw labelError('floating-ips', `expected an IPv4 address in the parentheses of ${JSON.stringify(entry)}, got ${JSON.stringify(ip)}`);
  return { pool, ip };
}

/** A comma list; empty entries (a trailing comma) are not entries. */
const list = (v: string | undefined): string[] => (v ?? '').split(',').map((s) => s.trim()).filter(Boolean);

/** The labels as a local-mode attach request. */
export function localRequest(labels: Map<string, string>): LocalRequest {
  const domain = part('domain-name', labels.get('domain-name'), DEFAULT_DOMAIN);
  const project = part('project-name', labels.get('project-name'), DEFAULT_PROJECT);
  const nets = labels.get('networks')?.trim();
  const network = fq('networks', nets || DEFAULT_NETWORK, 3, [domain, project], 'network');
  const subnets: { cidr: string; label: string }[] = [];
  for (const label of ['network-subnets', 'pod-subnets']) {
    const v = labels.get(label)?.trim();
    if (!v) continue;
    const c = parseCidr4(v);
    if (c) {
      if (c.addr !== c.base) throw labelError(label, `expected a subnet (host bits clear), got ${JSON.stringify(v)}; to ask for an address use network-ip`);
      subnets.push({ cidr: c.text, label });
      continue;
    }
    // Upstream's pod-subnets names an IPAM by fq-name; here each network has its own IPAM.
    if (label === 'pod-subnets' && v.includes(':')) {
      const ipam = fq(label, v, 3, [domain, project], 'ipam');
      if (ipam !== network) throw labelError(label, `IPAM ${ipam} is not network ${network}'s (each network has its own IPAM here); give a subnet a.b.c.d/len or the network's own fq-name`);
      continue;
    }
    throw labelError(label, `expected an IPv4 subnet a.b.c.d/len, got ${JSON.stringify(v)}`);
  }
  let ip: string | undefined;
  const nip = labels.get('network-ip')?.trim();
  if (nip) {
    const c = parseCidr4(nip);
    if (c) {
      subnets.push({ cidr: c.text, label: 'network-ip' });
      if (c.addr !== c.base) ip = nip.split('/')[0];
    } else if (isIPv4(nip)) ip = nip;
    else throw labelError('network-ip', `expected an IPv4 address (a.b.c.d) or subnet (a.b.c.d/len), got ${JSON.stringify(nip)}`);
  }
  const distinct = [...new Set(subnets.map((s) => s.cidr))];
  if (distinct.length > 1) throw labelError(subnets[1]!.label, `subnet ${subnets[1]!.cidr} conflicts with ${subnets[0]!.cidr} from label ${subnets[0]!.label}`);
  const fips = list(labels.get('floating-ips')).map((e) => floatingIp(e, domain, project));
  const groups = list(labels.get('security-groups')).map((g) => fq('security-groups', g, 3, [domain, project], 'group'));
  return { network, ...(subnets[0] && { subnet: subnets[0] }), ...(ip !== undefined && { ip }), fips, groups };
}
