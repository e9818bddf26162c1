// Contrail mode: the Go plugin's ADD and DEL against a real Contrail cluster (the per-agent
// contrail-mesos-manager and the vRouter agent), step for step (reference §6), with upstream's
// bugs fixed: an interface step that fails fails the ADD (upstream logged and went on, reporting
// addresses it never configured) and every step is undone; a DEL whose manager is away still
// removes the interface and port files, and the manager is told later (outbox.ts).
import type { PluginContext } from '../../../cni/plugin.js';
import { CniError, ErrorCode } from '../../../cni/errors.js';
import type { Result } from '../../../cni/result.js';
import { Rollback } from '../../../cni/rollback.js';
import { NetlinkHandle } from '../../../netlink/handle.js';
import { Netns } from '../../../netns/netns.js';
import type { ContrailConfig } from '../config.js';
import { HttpFailure } from '../http.js';
import { configureContainer, createTap } from '../iface.js';
import { flush, keep, type Pending } from '../outbox.js';
import { readPorts, removePort, writePort } from '../ports.js';
import { managerBody, managerPath, postManager } from './manager.js';
import { deleteVm, indexOf, pollVm, pollVmCfg, postVm, portMsgText, type PortMsg, type VmResult, type VrouterTarget } from './vrouter.js';

const target = (cfg: ContrailConfig): VrouterTarget => ({ address: `${cfg.vrouterIp}:${cfg.vrouterPort}`, pollTimeoutS: cfg.pollTimeoutS, pollRetries: cfg.pollRetries, timeoutMs: cfg.httpTimeoutMs });
const manager = (cfg: ContrailConfig) => `${cfg.mesosIp}:${cfg.mesosPort}`;

/** Upstream's host name: "tap" + the first 11 characters of "<ifname>-<vm-uuid>". */
export const tapName = (ifname: string, vmUuid: string): string => `tap${`${ifname}-${vmUuid}`.slice(0, 11)}`;

/** Send kept manager notifications (a DEL while it was away) before anything new; bounded, never fails. */
export async function flushManager(ctx: PluginContext, cfg: ContrailConfig): Promise<void> {
  await flush(cfg.outboxDir, (p) => postManager(p.targets[0]!, p.path, p.body, cfg.httpTimeoutMs), ctx.log, Date.now() + cfg.httpTimeoutMs);
}

function failed(step: string, e: unknown): CniError {
  if (e instanceof CniError) return e;
  return new CniError(ErrorCode.Plugin, step, (e as Error).message);
}

/** The interface name of one result: its `interface` annotation, else CNI_IFNAME for a lone interface, else eth<index>. */
function ifnameOf(r: VmResult, ifname: string): string {
  const [i, n] = indexOf(r)!;
  return r.parsed['interface'] || (n === 1 ? ifname : `eth${i}`);
}

export async function addMesos(ctx: PluginContext, cfg: ContrailConfig): Promise<Result> {
  const cid = ctx.env.containerId;
  const stdin = ctx.stdin.toString('utf8');
  await flushManager(ctx, cfg);
  const t = target(cfg);
  const hostNs = Netns.current();
  const host = await NetlinkHandle.open();
  const container = await NetlinkHandle.open(ctx.netns!);
  try {
    return await Rollback.guard(ctx.log, async (rb) => {
      try {
        await postManager(manager(cfg), managerPath('ADD'), managerBody(stdin, cid, 'ADD'), cfg.httpTimeoutMs);
      } catch (e) {
        throw failed(`contrail-mesos-manager ${manager(cfg)}${managerPath('ADD')}`, e);
      }
      // The manager created Contrail objects: a failed ADD tells it to remove them (or later, if it went away).
      rb.push('tell the manager to remove the container', () => tellManager(ctx, cfg, 'rollback'));
      const cfgs = await pollVmCfg(t, cid).catch((e: unknown) => {
        throw failed('vRouter agent', e);
      });
      const made: { ifname: string; vmi: string; msg: PortMsg }[] = [];
      let vmUuid = cid;
      for (const r of cfgs) {
        const ifname = ifnameOf(r, ctx.env.ifname);
        vmUuid = r['vm-uuid'];
        const tap = tapName(ifname, vmUuid);
        await createTap({ host, container, containerNs: ctx.netns!, hostNs, tap, ifname, mtu: cfg.mtu });
        rb.push(`delete link ${tap}`, () => host.link.del(tap));
        const msg: PortMsg = { time: new Date().toISOString(), 'vm-id': cid, 'vm-uuid': vmUuid, 'vm-name': cid, 'host-ifname': tap, 'vm-ifname': ifname, 'vm-namespace': ctx.env.netns!, 'vn-uuid': r['vn-id'] ?? '', 'vmi-uuid': r.id };
        await writePort(cfg.configDir, cid, r.id, portMsgText(msg)).catch((e: unknown) => {
          throw failed(`write port file ${cfg.configDir}/${cid}/${r.id}`, e);
        });
        rb.push(`remove port file ${r.id}`, () => removePort(cfg.configDir, cid, r.id));
        await postVm(t, msg).catch((e: unknown) => {
          throw failed(`vRouter agent POST /vm for ${r.id}`, e);
        });
        rb.push(`DELETE /vm/${vmUuid}`, () => deleteVm(t, msg));
        made.push({ ifname, vmi: r.id, msg });
      }
      const finals = new Map((await pollVm(t, vmUuid).catch((e: unknown) => {
        throw failed('vRouter agent', e);
      })).map((r) => [r.id, r]));
      let answer: Result | undefined;
      for (const m of made) {
        const r = finals.get(m.vmi);
        if (!r) throw new CniError(ErrorCode.Plugin, `VMI UUID ${m.vmi} does not exist in the Vrouter Result`);
        const address = `${r['ip-address']}/${r.plen}`;
        await configureContainer(container, { ifname: m.ifname, mac: r['mac-address'], address, gateway: r.gateway || undefined });
        const result: Result = {
          cniVersion: '1.1.0',
          interfaces: [{ name: m.ifname, mac: r['mac-address'].toLowerCase(), sandbox: ctx.env.netns! }],
          ips: [{ address, ...(r.gateway && { gateway: r.gateway }), interface: 0 }],
          ...(m.ifname === 'eth0' && r.gateway && { routes: [{ dst: '0.0.0.0/0', gw: r.gateway }] }),
          // Upstream listed an empty dns-server as the nameserver "".
          ...(r['dns-server'] && { dns: { nameservers: [r['dns-server']] } }),
        };
        // The runtime's interface is reported; upstream printed eth0's (and nothing without one).
        if (!answer || m.ifname === ctx.env.ifname || (m.ifname === 'eth0' && made.every((x) => x.ifname !== ctx.env.ifname))) answer = result;
      }
      if (!answer) throw new CniError(ErrorCode.Plugin, `the vRouter agent gave container ${cid} no interface`);
      return answer;
    });
  } finally {
    host.close();
    container.close();
    hostNs.close();
  }
}

/** POST /del_cni_info; when the manager cannot take it, keep it for later (never fails). */
async function tellManager(ctx: PluginContext, cfg: ContrailConfig, why: string): Promise<void> {
  const body = managerBody(ctx.stdin.toString('utf8'), ctx.env.containerId, 'DEL');
  try {
    await postManager(manager(cfg), managerPath('DEL'), body, cfg.httpTimeoutMs);
  } catch (e) {
    const p: Pending = { what: `manager DEL ${ctx.env.containerId} (${why})`, targets: [manager(cfg)], path: managerPath('DEL'), body, since: Date.now() };
    ctx.log.warn('contrail-mesos-manager did not take the DEL', { error: (e as Error).message, status: e instanceof HttpFailure ? e.status : 0 });
    await keep(cfg.outboxDir, p, ctx.log);
  }
}

export async function delMesos(ctx: PluginContext, cfg: ContrailConfig): Promise<void> {
  const cid = ctx.env.containerId;
  await flushManager(ctx, cfg);
  await tellManager(ctx, cfg, 'DEL');
  const ports = await readPorts<PortMsg>(cfg.configDir, cid);
  // A DEL for a container whose port files another container wrote (a stale DEL after a re-ADD) is a success that touches nothing.
  const stale = ports.find(([, m]) => m['vm-id'] !== cid);
  if (stale) {
    ctx.log.info('port files belong to another container: nothing to delete', { expected: cid, got: stale[1]['vm-id'] });
    return;
  }
  if (ports.length === 0) return;
  const t = target(cfg);
  const host = await NetlinkHandle.open();
  try {
    for (const [vmi, m] of ports) {
      const tap = m['host-ifname'] || tapName(m['vm-ifname'], m['vm-uuid']);
      const link = await host.link.find(tap);
      if (link?.kind === 'veth') await host.link.delVeth(link, ctx.netns);
      await removePort(cfg.configDir, cid, vmi);
    }
  } finally {
    host.close();
  }
  const first = ports[0]![1];
  await deleteVm(t, { ...first, 'vm-name': '', 'host-ifname': '', 'vm-ifname': '', 'vm-namespace': '', 'vn-uuid': '', 'vmi-uuid': '', time: new Date().toISOString() }).catch((e: unknown) => {
    // Upstream logged it too: the agent drops the port with the interface anyway.
    ctx.log.warn('vRouter agent DELETE /vm failed', { error: (e as Error).message });
  });
}
