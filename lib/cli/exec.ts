// `mesos-cni exec`: a cnitool-like runner. Runs a config or a conflist's chain for ADD/CHECK/DEL
// as a runtime would, and STATUS and GC of a network (1.1.0); with --mesos, exactly as the Mesos
// agent does (network_info in args, stout JSON, no CNI_ARGS, the stdin checkpointed at ADD and
// replayed at DEL, the 0.2 result read).
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CniError, ErrorCode } from '../cni/errors.js';
import { createDelegator } from '../cni/invoke.js';
import { mesosStdin, networkInfo, type PortMapping } from '../cni/mesos.js';
import type { AnyResult, LegacyResult } from '../cni/result.js';
import { addList, asList, checkList, delList, gcList, statusList, type Attachment } from '../cni/runtime.js';
import type { Attachment as ValidAttachment } from '../cni/gc.js';
import { inProcess } from '../plugins/registry.js';
import { sha512Hex } from '../util/digest.js';

export interface ExecArgs {
  command: 'add' | 'del' | 'check' | 'gc' | 'status';
  config: string;
  netns?: string;
  containerId?: string;
  ifname: string;
  cniPath: string[];
  cniArgs?: string;
  mesos: boolean;
  labels: Record<string, string>;
  portMappings: PortMapping[];
  cacheDir: string;
  /** --mesos: network_info.ip_addresses (`--mesos-ip-address`, "" for any). */
  ipAddresses?: string[];
  /** gc: the attachments still valid (`--valid-attachment CID/IFNAME`). */
  valid?: ValidAttachment[];
}

/** "CID/IFNAME" → {containerID, ifname}. */
export function parseAttachment(s: string): ValidAttachment {
  const at = s.lastIndexOf('/');
  if (at <= 0 || at === s.length - 1) throw new Error(`--valid-attachment: expected CONTAINERID/IFNAME, got ${JSON.stringify(s)}`);
  return { containerID: s.slice(0, at), ifname: s.slice(at + 1) };
}

export const DEFAULT_CACHE_DIR = '/var/lib/cni/mesos-cni';

/** "8080:80/tcp" → {host_port, container_port, protocol}. */
export function parsePortMapping(s: string): PortMapping {
  const m = /^(\d{1,5}):(\d{1,5})(?:\/(tcp|udp|sctp))?$/i.exec(s);
  const ok = m && Number(m[1]) >= 1 && Number(m[1]) <= 65535 && Number(m[2]) >= 1 && Number(m[2]) <= 65535;
  if (!m || !ok) throw new Error(`--port-mapping: expected HOST:CONTAINER[/tcp|udp|sctp] with ports 1-65535, got ${JSON.stringify(s)}`);
  return { host_port: Number(m[1]), container_port: Number(m[2]), protocol: (m[3] ?? 'tcp').toLowerCase() };
}

/** "k=v,k2=v2" → labels. */
export function parseLabels(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of s.split(',').filter(Boolean)) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new Error(`--mesos-labels: expected key=value[,key=value], got ${JSON.stringify(pair)}`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

/** cnitool's default container ID: derived from the netns path. */
function defaultContainerId(netns: string | undefined): string {
  if (!netns) throw new Error('exec: --container-id is required when --netns is not given');
  return 'cnitool-' + sha512Hex(netns).slice(0, 20);
}

interface Checkpoint {
  /** Which attachment this is (GC finds the cached attachments of a network by these). */
  network?: string;
  containerId?: string;
  ifname?: string;
  stdin?: string;
  result?: AnyResult;
  /** Capability args given at ADD: DEL and CHECK get the same ones (libcni caches them too). */
  capabilityArgs?: Record<string, unknown>;
}

function cacheFile(a: ExecArgs, network: string, containerId: string): string {
  return join(a.cacheDir, 'results', `${network}-${containerId}-${a.ifname}.json`);
}

async function readCheckpoint(file: string): Promise<Checkpoint | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Checkpoint;
  } catch {
    return undefined;
  }
}

/** What Mesos keeps of a result: only ip4, ip6 and dns (anything else is "no IP" to it). */
function mesosView(r: AnyResult): LegacyResult {
  const l = r as LegacyResult;
  return { ...(l.ip4 ? { ip4: l.ip4 } : {}), ...(l.ip6 ? { ip6: l.ip6 } : {}), ...(l.dns ? { dns: l.dns } : {}) };
}

/** The attachments of `network` in the cache, with their checkpoints. */
async function cachedAttachments(a: ExecArgs, network: string): Promise<(Checkpoint & { file: string })[]> {
  const dir = join(a.cacheDir, 'results');
  const names = await readdir(dir).catch(() => [] as string[]);
  const out: (Checkpoint & { file: string })[] = [];
  for (const name of names.filter((n) => n.endsWith('.json'))) {
    const c = await readCheckpoint(join(dir, name));
    if (c?.network === network && c.containerId && c.ifname) out.push({ ...c, file: join(dir, name) });
  }
  return out;
}

export async function execCommand(a: ExecArgs): Promise<AnyResult | undefined> {
  const doc: unknown = JSON.parse(await readFile(a.config, 'utf8'));
  const list = asList(doc);
  const opts = { inProcess };
  if (a.command === 'status' || a.command === 'gc') {
    if (a.mesos) throw new Error(`exec ${a.command}: Mesos has no ${a.command.toUpperCase()} (spec 1.1.0); run it without --mesos`);
    if (a.command === 'status') {
      await statusList(list, a.cniPath, opts);
      return undefined;
    }
    // As libcni: nothing at all when the list says disableGC; else first DEL the attachments this
    // runner made that are no longer valid, then GC (a list older than 1.1.0 gets the DELs only).
    if (list.disableGC) return undefined;
    const valid = a.valid ?? [];
    const keep = new Set(valid.map((v) => `${v.containerID}\n${v.ifname}`));
    for (const c of await cachedAttachments(a, list.name)) {
      if (keep.has(`${c.containerId}\n${c.ifname}`)) continue;
      const att: Attachment = { containerId: c.containerId!, ifname: c.ifname!, path: a.cniPath, ...(c.capabilityArgs ? { capabilityArgs: c.capabilityArgs } : {}) };
      await delList(list, att, c.result, opts);
      await rm(c.file, { force: true });
    }
    await gcList(list, a.cniPath, valid, opts);
    return undefined;
  }
  const containerId = a.containerId ?? defaultContainerId(a.netns);
  const portMappings = a.portMappings.map((m) => ({ hostPort: m.host_port, containerPort: m.container_port, protocol: m.protocol ?? 'tcp' }));
  const att: Attachment = {
    containerId,
    netns: a.netns,
    ifname: a.ifname,
    path: a.cniPath,
    args: a.mesos ? undefined : a.cniArgs,
    ...(portMappings.length ? { capabilityArgs: { portMappings } } : {}),
  };
  const ckptFile = cacheFile(a, list.name, containerId);
  const ckpt = await readCheckpoint(ckptFile);
  const who = { network: list.name, containerId, ifname: a.ifname };

  if (a.mesos) {
    if (list.plugins.length !== 1) throw new Error('exec --mesos: Mesos runs single-plugin configs, not conflists');
    const conf = list.plugins[0]! as Record<string, unknown>;
    const d = createDelegator({ command: 'ADD', containerId, netns: a.netns, ifname: a.ifname, args: [], argsRaw: undefined, path: a.cniPath }, { ...opts, runtime: true });
    if (a.command === 'add') {
      const stdin = mesosStdin(conf, networkInfo(list.name, a.labels, a.portMappings, a.ipAddresses ?? []));
      // Mesos checkpoints network.conf before the plugin runs; DEL replays it.
      await saveCheckpoint(ckptFile, { ...who, stdin });
      const r = await d.run('ADD', conf, { stdin, noArgs: true });
      const view = mesosView(r ?? {});
      if (!view.ip4) throw new CniError(ErrorCode.Plugin, `Mesos reads only a 0.1/0.2 "ip4" result; the plugin answered ${JSON.stringify(r)}`);
      await saveCheckpoint(ckptFile, { ...who, stdin, result: view });
      return view;
    }
    if (!ckpt?.stdin) return undefined; // never attached: Mesos skips DEL (MESOS-9142)
    await d.run(a.command === 'del' ? 'DEL' : 'CHECK', conf, { stdin: ckpt.stdin, noArgs: true });
    if (a.command === 'del') await rm(ckptFile, { force: true });
    return undefined;
  }

  if (a.command === 'add') {
    const result = await addList(list, att, opts);
    await saveCheckpoint(ckptFile, { ...who, result, capabilityArgs: att.capabilityArgs });
    return result;
  }
  if (!att.capabilityArgs && ckpt?.capabilityArgs) att.capabilityArgs = ckpt.capabilityArgs;
  if (a.command === 'check') {
    await checkList(list, att, ckpt?.result, opts);
    return undefined;
  }
  await delList(list, att, ckpt?.result, opts);
  await rm(ckptFile, { force: true });
  return undefined;
}

async function saveCheckpoint(file: string, c: Checkpoint): Promise<void> {
  await mkdir(join(file, '..'), { recursive: true, mode: 0o700 });
  await writeFile(file, JSON.stringify(c), { mode: 0o600 });
}
