// contrail-cni-plugin configuration, layered as upstream's Init: hard defaults, then the first file
// in /etc/cni/net.d whose name ends with `contrail.conf`, then stdin; each layer's `contrail` keys
// (and top-level `cniVersion`, `name`) override the one before, with upstream's key names and Go
// types (`mesos-port` is a string, `vrouter-port` a number: the other type is refused, as Go's
// decoder refused it). `mode` "mesos" is Contrail mode; absent or "local", local mode. Errors name
// the key and the layer it came from.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isObject, type NetConf } from '../../cni/config.js';
import { CniError, configError, ErrorCode } from '../../cni/errors.js';
import type { MasterSpec } from '../../overlay/agent/master-spec.js';
import { parseMasters } from './local/masters.js';

export const CONF_DIR = '/etc/cni/net.d';
/** Tests (and hosts that keep CNI configs elsewhere) point the file layer at another directory. */
export const CONF_DIR_ENV = 'MESOS_CNI_CONTRAIL_CONF_DIR';
export const CONF_SUFFIX = 'contrail.conf';

export type Mode = 'mesos' | 'local';

export interface ContrailConfig {
  mode: Mode;
  name: string | undefined;
  /** The version results are printed in: stdin's, else the file's, else the 0.2.0 form (upstream). */
  cniVersion: string | undefined;
  /** Upstream keys. */
  clusterName: string;
  vrouterIp: string;
  vrouterPort: number;
  configDir: string;
  pollTimeoutS: number;
  pollRetries: number;
  mesosIp: string;
  mesosPort: string;
  vifType: string;
  parentInterface: string;
  mtu: number;
  metaPlugin: string;
  logFile: string;
  logLevel: string;
  /**
   * Ours: local mode's overlay master(s), as port records keep them: "host:port" each (followers
   * redirect), or one "zk://servers/path" (the leader elected there; local/masters.ts).
   */
  master: string[];
  /** The same as parsed from the config (a ZooKeeper URL with its credentials, if any). */
  masterSpec: MasterSpec;
  /** Ours: this agent's IP at the master (local mode); default LIBPROCESS_IP, else the address the master is reached from. */
  nodeIp: string | undefined;
  /** Ours: notifications that could not be delivered (a DEL while the manager or master was down), retried by later calls. */
  outboxDir: string;
  /** Ours: bound on each HTTP call, ms (upstream had none). */
  httpTimeoutMs: number;
  /** The file layer used, if any (for messages). */
  file: string | undefined;
}

/** Upstream's defaults (cni.go, vrouter.go), and ours. */
const DEFAULTS = {
  'cluster-name': 'k8s',
  'vrouter-ip': '127.0.0.1',
  'vrouter-port': 9091,
  'config-dir': '/var/lib/contrail/ports/vm',
  'poll-timeout': 3,
  'poll-retries': 20,
  'mesos-ip': '',
  'mesos-port': '',
  'vif-type': 'veth',
  'parent-interface': 'eth0',
  'meta-plugin': 'multus',
  'log-file': '/var/log/contrail/cni/opencontrail.log',
  'log-level': '4',
  master: '127.0.0.1:5055',
  'outbox-dir': '/var/lib/mesos-cni/contrail-outbox',
  'http-timeout': 10,
} as const;

/** Local mode's MTU: room for the VXLAN header on a 1500-byte underlay. */
export const LOCAL_MTU = 1450;
export const CONTRAIL_MTU = 1500;

const STRING_KEYS = ['mode', 'cluster-name', 'vrouter-ip', 'config-dir', 'mesos-ip', 'mesos-port', 'vif-type', 'parent-interface', 'meta-plugin', 'log-file', 'log-level', 'master', 'node-ip', 'outbox-dir'];
const INT_KEYS = ['vrouter-port', 'poll-timeout', 'poll-retries', 'mtu', 'http-timeout'];

interface Layer {
  where: string;
  doc: Record<string, unknown>;
}

/** Check the types of one layer's keys (Go's decoder refused a wrong type whatever the key). */
function checkLayer(l: Layer): void {
  const at = (k: string) => (l.where === 'stdin' ? k : `${k} (in ${l.where})`);
  if (l.doc.cniVersion !== undefined && typeof l.doc.cniVersion !== 'string') throw configError(at('cniVersion'), 'a string', l.doc.cniVersion);
  if (l.doc.name !== undefined && typeof l.doc.name !== 'string') throw configError(at('name'), 'a string', l.doc.name);
  const c = l.doc.contrail;
  if (c === undefined) return;
  if (!isObject(c)) throw configError(at('contrail'), 'an object', c);
  for (const k of STRING_KEYS) {
    if (c[k] !== undefined && typeof c[k] !== 'string') {
      const hint = k === 'mesos-port' ? ' like "6991" (a JSON string, as upstream decodes it)' : '';
      throw configError(at(`contrail.${k}`), `a string${hint}`, c[k]);
    }
  }
  for (const k of INT_KEYS) {
    if (c[k] !== undefined && (typeof c[k] !== 'number' || !Number.isInteger(c[k]))) throw configError(at(`contrail.${k}`), 'an integer', c[k]);
  }
}

/** Stdin alone (what `validate` may refuse for good: no file is read there). */
export function checkStdin(conf: NetConf): void {
  checkLayer({ where: 'stdin', doc: conf as Record<string, unknown> });
}

/** The file layer: the first file (by name) in the directory whose name ends with `contrail.conf`. */
export function readConfFile(dir: string): Layer | undefined {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch (e) {
    // Upstream failed every call when /etc/cni/net.d was missing; no directory means no file.
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw new CniError(ErrorCode.IoFailure, `read ${dir}`, (e as Error).message);
  }
  for (const n of names) {
    if (!n.endsWith(CONF_SUFFIX)) continue;
    const path = join(dir, n);
    try {
      if (!statSync(path).isFile()) continue;
    } catch {
      continue;
    }
    let doc: unknown;
    try {
      doc = JSON.parse(readFileSync(path, 'utf8'));
    } catch (e) {
      throw new CniError(ErrorCode.InvalidNetworkConfig, `${path}: not a JSON config`, (e as Error).message);
    }
    if (!isObject(doc)) throw configError(path, 'a JSON object', doc);
    return { where: path, doc };
  }
  return undefined;
}

function positive(v: number, key: string, min: number, max: number): number {
  if (v < min || v > max) throw configError(`contrail.${key}`, `an integer from ${min} to ${max}`, v);
  return v;
}

/** All three layers merged and checked. */
export function loadConfig(conf: NetConf, env: Record<string, string | undefined> = process.env): ContrailConfig {
  const stdin: Layer = { where: 'stdin', doc: conf as Record<string, unknown> };
  const file = readConfFile(env[CONF_DIR_ENV] || CONF_DIR);
  const layers = file ? [file, stdin] : [stdin];
  for (const l of layers) checkLayer(l);
  const merged: Record<string, unknown> = { ...DEFAULTS };
  let cniVersion: string | undefined;
  let name: string | undefined;
  for (const l of layers) {
    Object.assign(merged, l.doc.contrail ?? {});
    if (typeof l.doc.cniVersion === 'string' && l.doc.cniVersion !== '') cniVersion = l.doc.cniVersion;
    if (typeof l.doc.name === 'string') name = l.doc.name;
  }
  const s = (k: string) => merged[k] as string;
  const n = (k: string) => merged[k] as number;
  const modeText = merged['mode'] as string | undefined;
  if (modeText !== undefined && modeText !== 'mesos' && modeText !== 'local') {
    throw configError('contrail.mode', '"mesos" (a Contrail cluster: the mesos manager and vRouter agent) or "local" (no cluster: our overlay)', modeText);
  }
  const mode: Mode = modeText === 'mesos' ? 'mesos' : 'local';
  if (mode === 'mesos') {
    if (s('mesos-ip') === '') throw configError('contrail.mesos-ip', 'the contrail-mesos-manager host (mesos mode)', '');
    if (!/^\d{1,5}$/.test(s('mesos-port')) || Number(s('mesos-port')) < 1 || Number(s('mesos-port')) > 65535) {
      throw configError('contrail.mesos-port', 'the contrail-mesos-manager port as a string, e.g. "6991"', s('mesos-port'));
    }
    if (s('vif-type') !== 'veth') throw configError('contrail.vif-type', '"veth" (macvlan is the nested Kubernetes mode, not used by Mesos)', s('vif-type'));
  }
  const masters = parseMasters(s('master'), 'contrail.master');
  const nodeIp = merged['node-ip'] as string | undefined;
  if (nodeIp !== undefined && !/^\d{1,3}(\.\d{1,3}){3}$/.test(nodeIp)) throw configError('contrail.node-ip', "this agent's IPv4 address at the overlay master", nodeIp);
  for (const k of ['config-dir', 'outbox-dir']) if (!s(k).startsWith('/')) throw configError(`contrail.${k}`, 'an absolute path', s(k));
  return {
    mode,
    name,
    cniVersion,
    clusterName: s('cluster-name'),
    vrouterIp: s('vrouter-ip'),
    vrouterPort: positive(n('vrouter-port'), 'vrouter-port', 1, 65535),
    configDir: s('config-dir'),
    pollTimeoutS: positive(n('poll-timeout'), 'poll-timeout', 0, 3600),
    pollRetries: positive(n('poll-retries'), 'poll-retries', 1, 10_000),
    mesosIp: s('mesos-ip'),
    mesosPort: s('mesos-port'),
    vifType: s('vif-type'),
    parentInterface: s('parent-interface'),
    mtu: positive((merged['mtu'] as number | undefined) ?? (mode === 'mesos' ? CONTRAIL_MTU : LOCAL_MTU), 'mtu', 68, 65535),
    metaPlugin: s('meta-plugin'),
    logFile: s('log-file'),
    logLevel: s('log-level'),
    master: masters.stored,
    masterSpec: masters.spec,
    nodeIp,
    outboxDir: s('outbox-dir'),
    httpTimeoutMs: positive(n('http-timeout'), 'http-timeout', 1, 3600) * 1000,
    file: file?.where,
  };
}
