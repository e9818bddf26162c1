// contrail-cni-plugin's CHECK, STATUS and GC (upstream has none; the spec asks every plugin for
// STATUS and every plugin holding state for GC). STATUS: whoever serves ADD answers — the overlay
// master (local mode) or the manager and the vRouter agent (Contrail mode) — else code 50.
// CHECK and GC read the port records this host keeps per container (ports.ts), the one place that
// says which attachments exist here. CHECK: what ADD made is still there — the tap, the
// container's interface (its peer, MAC, addresses, routes) and, in local mode, the host's gateway
// address and route and the endpoint's rules. GC: every recorded attachment the runtime no longer
// lists is deleted as DEL deletes it (the master or manager told, or told later); no list, nothing.
// Contrail mode keeps records per container, so there a container goes when none of its
// attachments is listed.
import { readdir } from 'node:fs/promises';
import type { PluginContext } from '../../cni/plugin.js';
import { CniError, ErrorCode } from '../../cni/errors.js';
import { convertResult, type Result } from '../../cni/result.js';
import { isErrno } from '../../native/index.js';
import { missing, readTagged } from '../../iptables/index.js';
import { NetlinkHandle } from '../../netlink/handle.js';
import { Netns } from '../../netns/netns.js';
import { DNAT, endpointChains, endpointTag, jumpRules, SNAT } from '../../overlay/contrail/rules.js';
import { loadConfig, type ContrailConfig } from './config.js';
import { call } from './http.js';
import { MasterLookup } from './local/masters.js';
import type { LocalRecord } from './local/mode.js';
import { readPorts } from './ports.js';

const fail = (msg: string) => new CniError(ErrorCode.Plugin, msg);
const isDefault = (dst: string) => dst === '0.0.0.0/0' || dst === 'default';

export async function check(ctx: PluginContext): Promise<void> {
  const cfg = loadConfig(ctx.conf);
  if (!ctx.conf.prevResult) throw new CniError(ErrorCode.InvalidNetworkConfig, 'prevResult: required for CHECK');
  const prev = convertResult(ctx.conf.prevResult, '1.1.0') as Result;
  const { containerId: cid, ifname } = ctx.env;
  const rec = (await readPorts<LocalRecord>(cfg.configDir, cid)).find(([, r]) => r['vm-id'] === cid && r['vm-ifname'] === ifname)?.[1];
  if (!rec) throw fail(`no port record of ${cid}/${ifname} in ${cfg.configDir}: not attached on this host`);
  const intf = prev.interfaces?.find((i) => i.name === ifname && i.sandbox);
  if (!intf || intf.sandbox !== ctx.env.netns) throw fail(`prevResult: no interface ${ifname} with sandbox ${ctx.env.netns} (got ${JSON.stringify(intf?.sandbox ?? null)})`);
  const hostNs = Netns.current();
  const host = await NetlinkHandle.open();
  const container = await NetlinkHandle.open(ctx.netns!);
  try {
    const tap = await host.link.find(rec['host-ifname']);
    if (tap?.kind !== 'veth') throw fail(`host interface ${rec['host-ifname']}: not found (or not a veth)`);
    const link = await container.link.find(ifname);
    if (!link) throw fail(`container interface ${ifname}: not found in ${ctx.env.netns}`);
    if (link.kind !== 'veth' || link.link !== tap.index) throw fail(`container interface ${ifname}: not the peer of ${tap.name}`);
    if (!link.up) throw fail(`container interface ${ifname}: down`);
    if (intf.mac && intf.mac.toLowerCase() !== link.mac?.toLowerCase()) throw fail(`container interface ${ifname}: MAC ${link.mac}, prevResult has ${intf.mac}`);
    const have = new Set((await container.addr.list({ dev: link.index })).map((a) => a.address));
    const mine = (prev.ips ?? []).filter((ip) => ip.interface === undefined || prev.interfaces?.[ip.interface] === intf);
    for (const ip of mine) if (!have.has(ip.address)) throw fail(`container interface ${ifname}: address ${ip.address} missing`);
    const routes = await container.route.list({ dev: link.index });
    for (const r of prev.routes ?? []) {
      if (!routes.some((k) => (k.dst === r.dst || (isDefault(r.dst) && isDefault(k.dst))) && (r.gw === undefined || k.gw === r.gw))) {
        throw fail(`container: route to ${r.dst}${r.gw ? ` via ${r.gw}` : ''} missing`);
      }
    }
    if (rec.local?.ip) await checkLocalHost(host, hostNs, tap.name!, tap.index, rec, mine[0]?.gateway, cid, ifname);
  } finally {
    host.close();
    container.close();
    hostNs.close();
  }
}

/** Local mode's host side: the gateway on the tap, the /32 to it, the jumps into the endpoint's chains, the floating IPs. */
async function checkLocalHost(host: NetlinkHandle, hostNs: Netns, tap: string, index: number, rec: LocalRecord, gateway: string | undefined, cid: string, ifname: string): Promise<void> {
  const ip = rec.local.ip!;
  const onTap = new Set((await host.addr.list({ dev: index })).map((a) => a.address));
  if (gateway && !onTap.has(`${gateway}/32`)) throw fail(`host interface ${tap}: the gateway ${gateway}/32 missing`);
  if (!(await host.route.list({ dev: index })).some((r) => r.dst === `${ip}/32`)) throw fail(`host: route to ${ip}/32 via ${tap} missing`);
  const tag = endpointTag(cid, ifname);
  const gone = await missing(hostNs, 4, 'filter', jumpRules(endpointChains(cid, ifname), tap, tag));
  if (gone.length) throw fail(`security rules: ${gone.length} jump(s) into the endpoint's chains missing`);
  const fips = rec.local.fips ?? [];
  for (const f of fips) {
    const dev = await host.link.find(f.interface);
    const addrs = dev ? (await host.addr.list({ dev: dev.index })).map((a) => a.address) : [];
    if (!addrs.includes(`${f.ip}/32`)) throw fail(`floating IP ${f.ip}: not on ${f.interface}`);
  }
  if (fips.length > 0 && (await readTagged(hostNs, 4, 'nat', [DNAT, SNAT], tag)).length < 2 * fips.length) throw fail('floating IPs: NAT rules missing');
}

export async function status(ctx: PluginContext): Promise<void> {
  const cfg = loadConfig(ctx.conf);
  const down = (what: string, e: unknown) => new CniError(ErrorCode.PluginNotAvailable, `${what} unreachable`, (e as Error).message);
  if (cfg.mode === 'mesos') {
    // Any HTTP answer shows the service is there (neither has a health endpoint of its own).
    for (const [what, target] of [
      ['contrail-mesos-manager', `${cfg.mesosIp}:${cfg.mesosPort}`],
      ['vRouter agent', `${cfg.vrouterIp}:${cfg.vrouterPort}`],
    ] as const) {
      await call([target], '/', { method: 'GET', timeoutMs: cfg.httpTimeoutMs }).catch((e: unknown) => {
        throw down(`${what} ${target}`, e);
      });
    }
    return;
  }
  // Only a master in the role of leader serves attach: ask the one reached, then the leader it names
  // (a follower knows it; one that refuses to serve, e.g. on a conflicting store, says why).
  const targets = await new MasterLookup(cfg.masterSpec, cfg.httpTimeoutMs).targets(cfg.master).catch((e: unknown) => {
    throw down('overlay master', e);
  });
  let at = targets;
  for (let hop = 0; hop < 2; hop++) {
    const r = await call(at, '/overlay-master/leader', { method: 'GET', timeoutMs: cfg.httpTimeoutMs, failover: true }).catch((e: unknown) => {
      throw down(`overlay master ${at.join(',')}`, e);
    });
    const j = r.status === 200 ? r.json<{ role?: string; leader?: string | null; self?: string; reason?: string }>() : {};
    if (j.role === 'leader') return;
    if (!j.leader || j.leader === j.self) {
      throw new CniError(ErrorCode.PluginNotAvailable, `overlay master ${at.join(',')}: no leader serves${j.reason ? ` (${j.reason})` : r.status !== 200 ? ` (HTTP ${r.status})` : ''}`);
    }
    at = [j.leader];
  }
  throw new CniError(ErrorCode.PluginNotAvailable, `overlay master ${at.join(',')}: not leading`);
}

/** The containers with port records here: [container ID, interface] of each record. */
async function recorded(cfg: ContrailConfig): Promise<[string, string][]> {
  let dirs: string[];
  try {
    dirs = (await readdir(cfg.configDir)).filter((n) => !n.startsWith('.'));
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return [];
    throw e;
  }
  const out: [string, string][] = [];
  for (const d of dirs.sort()) for (const [, r] of await readPorts<LocalRecord>(cfg.configDir, d)) if (r['vm-id'] === d) out.push([d, r['vm-ifname']]);
  return out;
}

/** GC: DEL every recorded attachment the runtime does not list (`del` is the mode's DEL). */
export async function gc(ctx: PluginContext, del: (ctx: PluginContext, cfg: ContrailConfig) => Promise<void>): Promise<void> {
  const cfg = loadConfig(ctx.conf);
  const valid = ctx.validAttachments;
  if (!valid) return;
  // Contrail mode's records are per container (the vRouter agent may give it several interfaces,
  // and its DEL takes them all); local mode's per attachment.
  const perContainer = cfg.mode === 'mesos';
  const seen = new Set<string>();
  const stale = (await recorded(cfg)).filter(([cid, ifname]) => {
    if (perContainer ? valid.hasContainer(cid) || seen.has(cid) : valid.has(cid, ifname)) return false;
    seen.add(cid);
    return true;
  });
  for (const [cid, ifname] of stale) await del({ ...ctx, netns: undefined, env: { ...ctx.env, containerId: cid, ifname } }, cfg);
  if (stale.length) ctx.log.info('released stale attachments', { attachments: stale.map(([c, i]) => `${c}/${i}`) });
}
