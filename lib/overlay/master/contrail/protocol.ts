// Request bodies of the master's Contrail endpoints, validated: every bad field is a 400 naming it.
import { isIPv4 } from '../../../ip.js';
import { IFNAME_EXPECTED, isIfname } from '../../../netlink/validate.js';
import { FqError, parseFq, PROTOCOLS, type PolicyRule, type SgProtocol, type SgRule } from '../../contrail/model.js';
import { isObj, obj, optStr, reqStr, type Obj } from '../fields.js';
import { asBodyErrors, BodyError } from '../protocol.js';
import type { AttachRequest } from './state.js';

/** A full fq-name of `parts` parts (no defaults over the API: say which domain and project). */
export function fqField(v: unknown, parts: 3 | 4, field: string, what: string): string {
  if (typeof v !== 'string') throw new BodyError(`${field}: expected an fq-name string, got ${JSON.stringify(v)}`);
  try {
    return parseFq(v, parts, [], what);
  } catch (e) {
    if (e instanceof FqError) throw new BodyError(`${field}: ${e.message}`);
    throw e;
  }
}

export function parseNetworkBody(body: unknown): { fq: string; subnet: string } {
  return asBodyErrors(() => {
    const o = obj(body, 'body');
    return { fq: fqField(o['fq'], 3, 'fq', 'network'), subnet: reqStr(o, 'subnet', 'subnet') };
  });
}

export function parsePoolBody(body: unknown): { fq: string; subnet: string; interface: string; first?: string; last?: string } {
  return asBodyErrors(() => {
    const o = obj(body, 'body');
    const iface = reqStr(o, 'interface', 'interface');
    if (!isIfname(iface)) throw new BodyError(`interface: expected ${IFNAME_EXPECTED}, got ${JSON.stringify(iface)}`);
    const first = optStr(o, 'first', 'first');
    const last = optStr(o, 'last', 'last');
    return { fq: fqField(o['fq'], 4, 'fq', 'pool'), subnet: reqStr(o, 'subnet', 'subnet'), interface: iface, ...(first !== undefined && { first }), ...(last !== undefined && { last }) };
  });
}

function parsePorts(v: unknown, field: string): string {
  const m = typeof v === 'string' ? /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(v) : typeof v === 'number' ? [String(v), String(v)] : null;
  const lo = Number(m?.[1]);
  const hi = m?.[2] === undefined ? lo : Number(m[2]);
  if (!m || lo < 1 || hi > 65535 || lo > hi) throw new BodyError(`${field}: expected a port 1-65535 or a range "low-high", got ${JSON.stringify(v)}`);
  return lo === hi ? String(lo) : `${lo}-${hi}`;
}

/** `protocol` (default any) and `ports` (tcp/udp only), as security-group and policy rules share them. */
function protocolAndPorts(o: Obj, field: string): { protocol: SgProtocol; ports?: string } {
  const protocol = (o['protocol'] ?? 'any') as SgProtocol;
  if (!(PROTOCOLS as readonly unknown[]).includes(protocol)) throw new BodyError(`${field}.protocol: expected one of ${PROTOCOLS.join(', ')}, got ${JSON.stringify(o['protocol'])}`);
  if (o['ports'] === undefined) return { protocol };
  if (protocol !== 'tcp' && protocol !== 'udp') throw new BodyError(`${field}.ports: only for protocol tcp or udp, not ${protocol}`);
  return { protocol, ports: parsePorts(o['ports'], `${field}.ports`) };
}

export function parseRule(v: unknown, field: string): SgRule {
  const o: Obj = obj(v, field);
  const direction = o['direction'];
  if (direction !== 'ingress' && direction !== 'egress') throw new BodyError(`${field}.direction: expected "ingress" or "egress", got ${JSON.stringify(direction)}`);
  const rule: SgRule = { direction, ...protocolAndPorts(o, field) };
  const r = o['remote'];
  if (r !== undefined) {
    if (!isObj(r) || (r['cidr'] === undefined) === (r['group'] === undefined)) throw new BodyError(`${field}.remote: expected {"cidr": "a.b.c.d/len"} or {"group": "domain:project:group"}, got ${JSON.stringify(r)}`);
    if (r['cidr'] !== undefined) {
      const m = typeof r['cidr'] === 'string' ? /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(r['cidr']) : null;
      if (!m || !isIPv4(m[1]!) || Number(m[2]) > 32) throw new BodyError(`${field}.remote.cidr: expected an IPv4 CIDR, got ${JSON.stringify(r['cidr'])}`);
      rule.remote = { cidr: r['cidr'] as string };
    } else rule.remote = { group: fqField(r['group'], 3, `${field}.remote.group`, 'group') };
  }
  return rule;
}

export function parseGroupBody(body: unknown): { fq: string; rules: SgRule[] } {
  return asBodyErrors(() => {
    const o = obj(body, 'body');
    const rules = o['rules'] ?? [];
    if (!Array.isArray(rules)) throw new BodyError(`rules: expected an array of rules, got ${JSON.stringify(rules)}`);
    return { fq: fqField(o['fq'], 3, 'fq', 'group'), rules: rules.map((r, i) => parseRule(r, `rules[${i}]`)) };
  });
}

/** A policy rule: `{"direction": ">"|"<>", "protocol"?, "src", "dst", "ports"?}`, src/dst network fq-names or "any". */
export function parsePolicyRule(v: unknown, field: string): PolicyRule {
  const o: Obj = obj(v, field);
  const direction = o['direction'] ?? '<>';
  if (direction !== '>' && direction !== '<>') throw new BodyError(`${field}.direction: expected ">" (src to dst) or "<>" (both ways), got ${JSON.stringify(direction)}`);
  for (const k of ['src_ports', 'action_list', 'action']) {
    if (o[k] !== undefined) throw new BodyError(`${field}.${k}: not supported (rules only pass traffic; ports are the destination's: use "ports")`);
  }
  const side = (k: 'src' | 'dst') => (o[k] === 'any' ? 'any' : fqField(o[k], 3, `${field}.${k}`, 'network'));
  const { protocol, ports } = protocolAndPorts(o, field);
  return { direction, protocol, src: side('src'), dst: side('dst'), ...(ports !== undefined && { ports }) };
}

export function parsePolicyBody(body: unknown): { fq: string; networks: string[]; rules: PolicyRule[] } {
  return asBodyErrors(() => {
    const o = obj(body, 'body');
    const networks = o['networks'] ?? [];
    const rules = o['rules'] ?? [];
    if (!Array.isArray(networks)) throw new BodyError(`networks: expected an array of network fq-names, got ${JSON.stringify(networks)}`);
    if (!Array.isArray(rules)) throw new BodyError(`rules: expected an array of rules, got ${JSON.stringify(rules)}`);
    return { fq: fqField(o['fq'], 3, 'fq', 'policy'), networks: networks.map((n, i) => fqField(n, 3, `networks[${i}]`, 'network')), rules: rules.map((r, i) => parsePolicyRule(r, `rules[${i}]`)) };
  });
}

/** The plugin's attach: the labels already parsed into fq-names and addresses (lib/plugins/contrail/labels.ts). */
export function parseAttachBody(body: unknown): AttachRequest {
  return asBodyErrors(() => {
    const o = obj(body, 'body');
    const agent = reqStr(o, 'agent', 'agent');
    if (!isIPv4(agent)) throw new BodyError(`agent: expected the agent's IPv4 address, got ${JSON.stringify(agent)}`);
    const fips = o['fips'] ?? [];
    const groups = o['groups'] ?? [];
    if (!Array.isArray(fips)) throw new BodyError('fips: expected an array');
    if (!Array.isArray(groups)) throw new BodyError('groups: expected an array');
    const subnet = o['subnet'] === undefined ? undefined : obj(o['subnet'], 'subnet');
    const ip = optStr(o, 'ip', 'ip');
    if (ip !== undefined && !isIPv4(ip)) throw new BodyError(`ip: expected an IPv4 address, got ${JSON.stringify(ip)}`);
    return {
      agent,
      ...parseDetachBody(o),
      network: fqField(o['network'], 3, 'network', 'network'),
      ...(subnet && { subnet: { cidr: reqStr(subnet, 'cidr', 'subnet.cidr'), label: reqStr(subnet, 'label', 'subnet.label') } }),
      ...(ip !== undefined && { ip }),
      fips: fips.map((f, i) => {
        const e = obj(f, `fips[${i}]`);
        const fip = optStr(e, 'ip', `fips[${i}].ip`);
        if (fip !== undefined && !isIPv4(fip)) throw new BodyError(`fips[${i}].ip: expected an IPv4 address, got ${JSON.stringify(fip)}`);
        return { pool: fqField(e['pool'], 4, `fips[${i}].pool`, 'pool'), ...(fip !== undefined && { ip: fip }) };
      }),
      groups: groups.map((g, i) => fqField(g, 3, `groups[${i}]`, 'group')),
    };
  });
}

export function parseDetachBody(body: unknown): { container_id: string; ifname: string } {
  return asBodyErrors(() => {
    const o = obj(body, 'body');
    const cid = reqStr(o, 'container_id', 'container_id');
    const ifname = reqStr(o, 'ifname', 'ifname');
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,240}$/.test(cid)) throw new BodyError(`container_id: expected a CNI container ID, got ${JSON.stringify(cid)}`);
    if (!isIfname(ifname)) throw new BodyError(`ifname: expected ${IFNAME_EXPECTED}, got ${JSON.stringify(ifname)}`);
    return { container_id: cid, ifname };
  });
}
