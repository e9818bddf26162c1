// `mesos-cni contrail …`: local mode's networks, policies, floating-IP pools and security groups at the
// overlay master (its /contrail/* endpoints), for operators. Prints the master's JSON answer.
import { parseArgs } from 'node:util';
import { call, errorText } from '../plugins/contrail/http.js';
import { masterTargets } from '../plugins/contrail/local/masters.js';

export const CONTRAIL_USAGE = `usage:
  mesos-cni contrail [--master HOST:PORT[,…]|zk://…/PATH] state
  mesos-cni contrail [--master …] network create DOMAIN:PROJECT:NAME --subnet A.B.C.D/LEN
  mesos-cni contrail [--master …] pool create DOMAIN:PROJECT:NETWORK:POOL --subnet CIDR --interface IF [--first IP] [--last IP]
  mesos-cni contrail [--master …] group set DOMAIN:PROJECT:NAME [--rule 'ingress|egress PROTO [PORTS] [cidr=CIDR|group=FQ]' …]
  mesos-cni contrail [--master …] policy set DOMAIN:PROJECT:NAME --network FQ … [--rule '>|<> PROTO SRC DST [PORTS]' …]
  mesos-cni contrail [--master …] network|pool|group|policy delete FQ
  mesos-cni contrail [--master …] network|pool|group|policy list
    --master (any form of the agent's master) defaults to 127.0.0.1:5055; PROTO is any, tcp, udp or icmp; PORTS 80 or 8000-8100;
    SRC and DST are network fq-names or any`;

/** "ingress tcp 80 cidr=10.0.0.0/8" → a rule body (the master validates it). */
export function parseRuleSpec(text: string): Record<string, unknown> {
  const [direction, protocol = 'any', ...rest] = text.trim().split(/\s+/);
  const rule: Record<string, unknown> = { direction, protocol };
  for (const w of rest) {
    if (w.startsWith('cidr=')) rule.remote = { cidr: w.slice(5) };
    else if (w.startsWith('group=')) rule.remote = { group: w.slice(6) };
    else rule.ports = w;
  }
  return rule;
}

/** "<> tcp d:p:red d:p:blue 80" → a policy rule body (the master validates it). */
export function parsePolicyRuleSpec(text: string): Record<string, unknown> {
  const [direction, protocol, src, dst, ports] = text.trim().split(/\s+/);
  return { direction, protocol, src, dst, ...(ports !== undefined && { ports }) };
}

export async function contrailMain(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { master: { type: 'string', default: '127.0.0.1:5055' }, subnet: { type: 'string' }, interface: { type: 'string' }, first: { type: 'string' }, last: { type: 'string' }, rule: { type: 'string', multiple: true, default: [] }, network: { type: 'string', multiple: true, default: [] } },
  });
  const [what, verb, fq] = positionals;
  const kinds: Record<string, string> = { network: 'networks', pool: 'pools', group: 'groups', policy: 'policies' };
  let method = 'GET';
  let path: string;
  let body: unknown;
  if (what === 'state') path = '/contrail/state';
  else if (what && kinds[what] && verb === 'list') path = `/contrail/${kinds[what]}`;
  else if (what && kinds[what] && verb === 'delete' && fq) [method, path] = ['DELETE', `/contrail/${kinds[what]}/${encodeURIComponent(fq)}`];
  else if (what === 'network' && verb === 'create' && fq) [method, path, body] = ['POST', '/contrail/networks', { fq, subnet: values.subnet }];
  else if (what === 'pool' && verb === 'create' && fq) [method, path, body] = ['POST', '/contrail/pools', { fq, subnet: values.subnet, interface: values.interface, first: values.first, last: values.last }];
  else if (what === 'group' && verb === 'set' && fq) [method, path, body] = ['POST', '/contrail/groups', { fq, rules: values.rule!.map(parseRuleSpec) }];
  else if (what === 'policy' && verb === 'set' && fq) [method, path, body] = ['POST', '/contrail/policies', { fq, networks: values.network, rules: values.rule!.map(parsePolicyRuleSpec) }];
  else {
    console.error(CONTRAIL_USAGE);
    return 2;
  }
  let targets: string[];
  try {
    targets = await masterTargets(values.master!, { timeoutMs: 15_000 });
  } catch (e) {
    console.error(`mesos-cni contrail: ${(e as Error).message}`);
    return 1;
  }
  const r = await call(targets, path, { method, ...(body !== undefined && { body: JSON.stringify(body) }), timeoutMs: 15_000, failover: true });
  if (r.status !== 200) {
    console.error(`mesos-cni contrail: ${r.status}: ${errorText(r)}`);
    return 1;
  }
  console.log(JSON.stringify(r.json(), null, 2));
  return 0;
}
