// The vRouter agent's port REST API as the Go plugin uses it (vrouter.go): GET /vm-cfg/<name>
// polled until every interface of the container is there (`index` annotation "i/N"), POST /vm per
// interface, GET /vm/<vm-uuid> polled for the final config, DELETE /vm/<vm-uuid> at DEL. Upstream's
// message texts; its bugs fixed: annotations whose value holds ':' (the parser split on every ':'),
// an empty answer (it indexed the first element and panicked), an incomplete answer retried without
// the sleep (a tight loop).
import type { JsonReply } from '../../../overlay/agent/http-json.js';
import { call } from '../http.js';

export interface VrouterTarget {
  address: string;
  pollTimeoutS: number;
  pollRetries: number;
  timeoutMs: number;
}

/** One element of a /vm-cfg or /vm answer, with its annotations re-assembled. */
export interface VmResult {
  'vm-uuid': string;
  'network-label'?: string;
  'ip-address': string;
  plen: number;
  gateway?: string;
  'dns-server'?: string;
  'mac-address': string;
  'vlan-id'?: number;
  'vn-id'?: string;
  'vn-name'?: string;
  id: string;
  annotations?: string[];
  parsed: Record<string, string>;
}

/** "{key:value}" strings → {key: value}, split at the first ':' (upstream split at every one). */
export function parseAnnotations(list: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!Array.isArray(list)) return out;
  for (const a of list) {
    if (typeof a !== 'string') continue;
    const body = a.trim().replace(/^\{+/, '').replace(/\}+$/, '');
    const at = body.indexOf(':');
    if (at < 0) continue;
    out[body.slice(0, at).trim()] = body.slice(at + 1).trim();
  }
  return out;
}

export class VrouterError extends Error {
  override name = 'VrouterError';
}

function results(r: JsonReply, what: string): VmResult[] {
  if (r.status !== 200) throw new VrouterError(`Failed HTTP Get operation. Return code ${r.status}`);
  let v: unknown;
  try {
    v = JSON.parse(r.text);
  } catch (e) {
    throw new VrouterError(`${what}: the answer is not JSON: ${(e as Error).message}`);
  }
  if (!Array.isArray(v)) throw new VrouterError(`${what}: expected a JSON array, got ${r.text.slice(0, 200)}`);
  return v.map((x, i) => {
    const o = (typeof x === 'object' && x !== null ? x : {}) as Record<string, unknown>;
    for (const k of ['vm-uuid', 'ip-address', 'mac-address', 'id']) {
      if (typeof o[k] !== 'string') throw new VrouterError(`${what}: element ${i}: "${k}" is not a string`);
    }
    if (typeof o['plen'] !== 'number') throw new VrouterError(`${what}: element ${i}: "plen" is not a number`);
    return { ...(o as unknown as VmResult), parsed: parseAnnotations(o['annotations']) };
  });
}

const sleep = (s: number) => new Promise((r) => setTimeout(r, s * 1000));

async function get(t: VrouterTarget, path: string): Promise<VmResult[]> {
  return results(await call([t.address], path, { method: 'GET', timeoutMs: t.timeoutMs }), `GET ${path}`);
}

/** `index` annotation "i/N" → [i, N], undefined when it is not that. */
export function indexOf(r: VmResult): [number, number] | undefined {
  const m = /^(\d+)\/(\d+)$/.exec(r.parsed['index'] ?? '');
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

/** GET /vm-cfg/<name> until the answer holds N interfaces (N from the first's index). */
export async function pollVmCfg(t: VrouterTarget, name: string): Promise<VmResult[]> {
  let msg = '';
  for (let i = 0; i < t.pollRetries; i++) {
    if (i > 0) await sleep(t.pollTimeoutS);
    let rs: VmResult[];
    try {
      rs = await get(t, `/vm-cfg/${encodeURIComponent(name)}`);
    } catch (e) {
      msg = (e as Error).message;
      continue;
    }
    const idx = rs[0] && indexOf(rs[0]);
    if (!rs[0]) msg = `Iteration ${i} : Get VRouter Incomplete - no interface yet`;
    else if (!idx) msg = `Iteration ${i} : annotation index of ${rs[0].id} is not "i/N": ${JSON.stringify(rs[0].parsed['index'] ?? null)}`;
    else if (idx[1] === rs.length) return rs;
    else msg = `Iteration ${i} : Get VRouter Incomplete - Interfaces Expected: ${idx[1]}, Actual: ${rs.length}`;
  }
  throw new VrouterError(`Failed in PollVmCfg. Error : ${msg}`);
}

/** GET /vm/<vm-uuid> until it answers 200 with a config. */
export async function pollVm(t: VrouterTarget, vmUuid: string): Promise<VmResult[]> {
  let msg = '';
  for (let i = 0; i < t.pollRetries; i++) {
    if (i > 0) await sleep(t.pollTimeoutS);
    try {
      return await get(t, `/vm/${encodeURIComponent(vmUuid)}`);
    } catch (e) {
      msg = (e as Error).message;
    }
  }
  throw new VrouterError(`Failed in PollVm. Error : ${msg}`);
}

/** The port message (upstream's contrailAddMsg), pretty-printed with tabs as Go's MarshalIndent. */
export interface PortMsg {
  time: string;
  'vm-id': string;
  'vm-uuid': string;
  'vm-name': string;
  'host-ifname': string;
  'vm-ifname': string;
  'vm-namespace': string;
  'vn-uuid': string;
  'vmi-uuid': string;
}

export const portMsgText = (m: PortMsg): string => JSON.stringify(m, null, '\t');

export async function postVm(t: VrouterTarget, m: PortMsg): Promise<void> {
  const r = await call([t.address], '/vm', { method: 'POST', body: portMsgText(m), timeoutMs: t.timeoutMs });
  if (r.status !== 200 && r.status !== 201) throw new VrouterError(`Failed HTTP Post operation. Return code ${r.status}`);
}

export async function deleteVm(t: VrouterTarget, m: PortMsg): Promise<void> {
  const r = await call([t.address], `/vm/${encodeURIComponent(m['vm-uuid'])}`, { method: 'DELETE', body: portMsgText(m), timeoutMs: t.timeoutMs });
  if (r.status !== 200) throw new VrouterError(`Failed HTTP Delete operation. Return code ${r.status}`);
}
