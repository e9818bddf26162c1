// Local mode: every label on our own components. ADD asks the overlay master for the endpoint (the
// network made on first use, its address, floating IPs and groups checked and allocated in one
// transaction), then plumbs the host the way a vRouter does, routed: the container's veth with the
// network's gateway on the host end (every host answers for it), the container's /32 routed to it,
// proxy ARP for its neighbours; isolation and security groups in chains of its own, jumped to from
// FORWARD/INPUT/OUTPUT; each floating IP on its pool's interface with 1:1 NAT. Cross-host traffic is
// the overlay agent's (one VXLAN device per network). DEL undoes it all; the master is told even
// when it is away (outbox.ts).
import type { PluginContext } from '../../../cni/plugin.js';
import { CniError, ErrorCode } from '../../../cni/errors.js';
import type { Result } from '../../../cni/result.js';
import { Rollback } from '../../../cni/rollback.js';
import { removeTagged, restore } from '../../../iptables/index.js';
import { isErrno } from '../../../native/index.js';
import { NetlinkHandle } from '../../../netlink/handle.js';
import { Netns } from '../../../netns/netns.js';
import * as sysctl from '../../../netns/sysctl.js';
import { DNAT, endpointChains, endpointTag, FILTER_SHARED, filterOps, FWD, IN, localTapName, NAT_SHARED, natRules, OUT, SNAT } from '../../../overlay/contrail/rules.js';
import type { ContrailConfig } from '../config.js';
import { configureContainer, createTap } from '../iface.js';
import { localRequest, mesosLabels } from '../labels.js';
import { flush, keep } from '../outbox.js';
import { readPorts, removePort, writePort } from '../ports.js';
import type { PortMsg } from '../mesos/vrouter.js';
import { agentIp, masterPost, type Attached } from './client.js';
import { MasterLookup } from './masters.js';
import { sha256Hex } from '../../../util/digest.js';

/** What a DEL needs beyond what the container ID and interface name give (tap, chains, tag). */
export interface LocalRecord extends PortMsg {
  local: {
    master: string[];
    /** Absent while the attach is under way (a DEL then detaches and removes what may exist). */
    ip?: string;
    network?: string;
    fips?: { ip: string; interface: string; prefix: number }[];
  };
}

/** A stable uuid-shaped name for the attachment (the port file's name, upstream's vmi-uuid slot). */
export function localVmi(containerId: string, ifname: string): string {
  const h = sha256Hex(`${containerId}/${ifname}`);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

async function flushMaster(ctx: PluginContext, cfg: ContrailConfig, masters: MasterLookup): Promise<void> {
  await flush(
    cfg.outboxDir,
    async (p) => {
      await masterPost(cfg, masters, p.targets, p.path, JSON.parse(p.body));
    },
    ctx.log,
    Date.now() + cfg.httpTimeoutMs,
  );
}

const record = (ctx: PluginContext, tap: string, local: LocalRecord['local']): LocalRecord => ({
  time: new Date().toISOString(),
  'vm-id': ctx.env.containerId,
  'vm-uuid': ctx.env.containerId,
  'vm-name': ctx.env.containerId,
  'host-ifname': tap,
  'vm-ifname': ctx.env.ifname,
  'vm-namespace': ctx.env.netns ?? '',
  'vn-uuid': local.network ?? '',
  'vmi-uuid': localVmi(ctx.env.containerId, ctx.env.ifname),
  local,
});

/** Detach at the master; when it cannot be reached, keep the call for later (never fails). */
async function detach(ctx: PluginContext, cfg: ContrailConfig, masters: MasterLookup, stored: string[]): Promise<void> {
  const body = { container_id: ctx.env.containerId, ifname: ctx.env.ifname };
  try {
    await masterPost(cfg, masters, stored, '/contrail/detach', body);
  } catch (e) {
    ctx.log.warn('overlay master did not take the detach', { error: (e as Error).message });
    await keep(cfg.outboxDir, { what: `master detach ${body.container_id}/${body.ifname}`, targets: stored, path: '/contrail/detach', body: JSON.stringify(body), since: Date.now() }, ctx.log);
  }
}

export async function addLocal(ctx: PluginContext, cfg: ContrailConfig): Promise<Result> {
  const { containerId: cid, ifname } = ctx.env;
  const request = localRequest(mesosLabels(ctx.conf));
  const masters = new MasterLookup(cfg.masterSpec, cfg.httpTimeoutMs);
  await flushMaster(ctx, cfg, masters);
  const agent = await agentIp(cfg, process.env, masters);
  const tap = localTapName(cid, ifname);
  const vmi = localVmi(cid, ifname);
  const chains = endpointChains(cid, ifname);
  const tag = endpointTag(cid, ifname);
  const hostNs = Netns.current();
  const host = await NetlinkHandle.open();
  const container = await NetlinkHandle.open(ctx.netns!);
  try {
    return await Rollback.guard(ctx.log, async (rb) => {
      // The record first: a DEL after a crash from here on knows to tell the master.
      await writePort(cfg.configDir, cid, vmi, JSON.stringify(record(ctx, tap, { master: cfg.master })));
      rb.push('remove the record', () => removePort(cfg.configDir, cid, vmi));
      const { endpoint, view } = await masterPost<Attached>(cfg, masters, cfg.master, '/contrail/attach', { agent, container_id: cid, ifname, ...request });
      rb.push('detach at the master', () => detach(ctx, cfg, masters, cfg.master));
      const fips = view.fips.map((f) => ({ ip: f.ip, interface: f.interface, prefix: f.prefix }));
      await writePort(cfg.configDir, cid, vmi, JSON.stringify(record(ctx, tap, { master: cfg.master, ip: endpoint.ip, network: endpoint.network, fips })));
      for (const f of view.fips) {
        if (!(await host.link.find(f.interface))) throw new CniError(ErrorCode.Plugin, `label floating-ips: pool ${f.pool}'s interface ${f.interface} does not exist on this host`);
      }
      const prefix = Number(view.network.subnet.split('/')[1]);
      await createTap({ host, container, containerNs: ctx.netns!, hostNs, tap, ifname, mtu: cfg.mtu });
      rb.push(`delete link ${tap}`, () => host.link.del(tap));
      await configureContainer(container, { ifname, mac: endpoint.mac, address: `${endpoint.ip}/${prefix}`, gateway: view.network.gateway });
      // The host end answers ARP for the gateway (its address) and, by proxy, for every other
      // address the host routes elsewhere (the container's neighbours): the host routes it all.
      await sysctl.set(hostNs, 'net.ipv4.ip_forward', 1);
      await sysctl.set(hostNs, `net/ipv4/conf/${tap}/proxy_arp`, 1);
      await sysctl.set(hostNs, `net/ipv4/neigh/${tap}/proxy_delay`, 0);
      await host.request([
        { op: 'addr.add', spec: { dev: tap, address: `${view.network.gateway}/32` } },
        { op: 'route.add', spec: { dst: `${endpoint.ip}/32`, dev: tap } },
      ]);
      await restore(hostNs, { table: 'filter', own: [chains.egress, chains.ingress], shared: FILTER_SHARED, ops: filterOps(chains, view, tap, tag) });
      rb.push('remove the filter rules', () => removeTagged(hostNs, 4, 'filter', { chains: [FWD, IN, OUT], tag, drop: [chains.egress, chains.ingress] }));
      if (fips.length > 0) {
        for (const f of fips) {
          await host.addr.add({ dev: f.interface, address: `${f.ip}/32` });
          rb.push(`remove ${f.ip} from ${f.interface}`, () => host.addr.del({ dev: f.interface, address: `${f.ip}/32` }));
        }
        await restore(hostNs, { table: 'nat', shared: NAT_SHARED, ops: natRules(view, tag).map((rule) => ({ op: 'append', rule })) });
        rb.push('remove the NAT rules', () => removeTagged(hostNs, 4, 'nat', { chains: [DNAT, SNAT], tag }));
      }
      const link = await container.link.get(ifname);
      return {
        cniVersion: '1.1.0',
        interfaces: [
          { name: tap, mac: (await host.link.get(tap)).mac! },
          { name: ifname, mac: link.mac!, sandbox: ctx.env.netns! },
        ],
        ips: [{ address: `${endpoint.ip}/${prefix}`, gateway: view.network.gateway, interface: 1 }],
        ...(ifname === 'eth0' && { routes: [{ dst: '0.0.0.0/0', gw: view.network.gateway }] }),
      };
    });
  } finally {
    host.close();
    container.close();
    hostNs.close();
  }
}

export async function delLocal(ctx: PluginContext, cfg: ContrailConfig): Promise<void> {
  const { containerId: cid, ifname } = ctx.env;
  const masters = new MasterLookup(cfg.masterSpec, cfg.httpTimeoutMs);
  await flushMaster(ctx, cfg, masters);
  const ports = await readPorts<LocalRecord>(cfg.configDir, cid);
  if (ports.some(([, r]) => r['vm-id'] !== cid)) {
    ctx.log.info('records belong to another container: nothing to delete', { expected: cid });
    return;
  }
  const mine = ports.find(([, r]) => r.local !== undefined && r['vm-ifname'] === ifname);
  if (!mine) return;
  const [vmi, rec] = mine;
  const chains = endpointChains(cid, ifname);
  const tag = endpointTag(cid, ifname);
  const hostNs = Netns.current();
  const host = await NetlinkHandle.open();
  try {
    await removeTagged(hostNs, 4, 'filter', { chains: [FWD, IN, OUT], tag, drop: [chains.egress, chains.ingress] });
    if ((rec.local.fips ?? []).length > 0) await removeTagged(hostNs, 4, 'nat', { chains: [DNAT, SNAT], tag });
    for (const f of rec.local.fips ?? []) {
      await host.addr.del({ dev: f.interface, address: `${f.ip}/32` }).catch((e: unknown) => {
        if (!isErrno(e, 'ENODEV') && !isErrno(e, 'EADDRNOTAVAIL')) throw e;
      });
    }
    const link = await host.link.find(rec['host-ifname']);
    if (link?.kind === 'veth') await host.link.delVeth(link, ctx.netns);
  } finally {
    host.close();
    hostNs.close();
  }
  await detach(ctx, cfg, masters, rec.local.master);
  await removePort(cfg.configDir, cid, vmi);
}
