// Level-triggered local mode on one agent: on every change of the master's view and on a timer, the
// kernel is read and converged to the Contrail plane (plane.ts: VXLAN devices, neighbours, FDB
// entries, /32 routes; only `cvx*` devices and what is on them count as ours), and each local
// endpoint's two chains are rewritten when its view changed (a group's rules, a remote group's
// members, a network added or gone). Only chains the plugin made are rewritten: the transaction
// also deletes and re-appends the endpoint's jump, so a DEL that ran meanwhile makes it fail whole
// and nothing is re-created.
import type { Logger } from 'pino';
import { renderRule, restore, save, type Op, type SavedTable } from '../../../iptables/index.js';
import { NetlinkHandle, type Op as NlOp } from '../../../netlink/index.js';
import type { Netns } from '../../../netns/index.js';
import { sysctl } from '../../../netns/index.js';
import type { ContrailRecord, EndpointRec } from '../../contrail/model.js';
import { chainRules, endpointChains, endpointTag, jumpRules, localTapName } from '../../contrail/rules.js';
import { endpointView, RecordIndex } from '../../contrail/view.js';
import type { AgentInfo } from '../../master/types.js';
import { CONTRAIL_DEV, CONTRAIL_VXLAN_PORT, contrailPlane, type ContrailPlane } from './plane.js';

export interface ContrailInput {
  self: AgentInfo | undefined;
  agents: Iterable<AgentInfo>;
  records: Iterable<ContrailRecord>;
}

export class ContrailReconciler {
  #nl: NetlinkHandle | undefined;
  #input: ContrailInput | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(
    readonly ns: Netns,
    readonly intervalMs: number,
    readonly log: Logger,
  ) {}

  async open(): Promise<void> {
    this.#nl = await NetlinkHandle.open(this.ns);
    this.#timer = setInterval(() => this.#kick(), this.intervalMs);
  }

  set(input: ContrailInput): void {
    this.#input = input;
    this.#kick();
  }

  /** Converge now (tests); resolves when that run is done. */
  async reconcileNow(): Promise<void> {
    this.#kick();
    while (this.#running) await this.#running;
  }

  #kick(): void {
    if (this.#closed) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = (async () => {
      do {
        this.#again = false;
        try {
          await this.#once();
        } catch (e) {
          this.log.error({ err: (e as Error).message }, 'contrail: programming failed (retried on the next change or tick)');
        }
      } while (this.#again && !this.#closed);
    })().finally(() => (this.#running = undefined));
  }

  async #once(): Promise<void> {
    const nl = this.#nl;
    const input = this.#input;
    if (!nl || !input) return;
    const x = RecordIndex.of(input.records);
    const want = contrailPlane(input.self, input.agents, x);
    // Nothing ever held and nothing wanted: no kernel reads on agents that never see a network.
    if (want.devices.size === 0 && x.endpoints.size === 0 && !this.#hadDevices) return;
    const ops = await this.#netlink(nl, want);
    const chains = input.self ? await this.#chains(x, input.self.ip) : 0;
    if (ops > 0 || chains > 0) this.log.info({ ops, chains, networks: want.devices.size, routes: want.routes.size }, 'contrail: converged');
  }

  #hadDevices = false;

  async #netlink(nl: NetlinkHandle, want: ContrailPlane): Promise<number> {
    const links = (await nl.link.list()).filter((l) => CONTRAIL_DEV.test(l.name));
    this.#hadDevices = links.length > 0 || want.devices.size > 0;
    let n = 0;
    const byName = new Map(links.map((l) => [l.name, l]));
    for (const l of links) {
      const w = want.devices.get(l.name);
      if (!w || l.kind !== 'vxlan' || l['vni'] !== w.vni || l['port'] !== CONTRAIL_VXLAN_PORT) {
        await nl.link.del({ index: l.index });
        byName.delete(l.name);
        n++;
      }
    }
    for (const [name, d] of want.devices) {
      const l = byName.get(name);
      if (!l) {
        await nl.link.add({ kind: 'vxlan', name, vni: d.vni, port: CONTRAIL_VXLAN_PORT, learning: false, mac: d.mac, ...(d.mtu !== undefined && { mtu: d.mtu }), up: true });
        // Packets from remote containers arrive here and leave on a tap: no reverse-path surprise.
        await sysctl.set(this.ns, `net/ipv4/conf/${name}/rp_filter`, 0).catch(() => undefined);
        n++;
      } else if (l.mac?.toLowerCase() !== d.mac || !l.up || (d.mtu !== undefined && l.mtu !== d.mtu)) {
        await nl.link.set({ index: l.index, mac: d.mac, up: true, ...(d.mtu !== undefined && { mtu: d.mtu }) });
        n++;
      }
    }
    const idx = new Map((await nl.link.list()).filter((l) => CONTRAIL_DEV.test(l.name)).map((l) => [l.index, l.name]));
    const ops: NlOp[] = [];
    const [neighs, fdb, routes] = await Promise.all([nl.neigh.list({ family: 4 }), nl.neigh.list({ family: 'bridge' }), nl.route.list({ family: 4 })]);
    const haveNeigh = new Map<string, string>();
    for (const e of neighs) if (idx.has(e.dev) && e.address && e.lladdr && e.state.includes('permanent')) haveNeigh.set(`${idx.get(e.dev)}|${e.address}`, e.lladdr.toLowerCase());
    const haveFdb = new Map<string, string>();
    for (const e of fdb) if (idx.has(e.dev) && e.lladdr && e.dst && e.state.includes('permanent')) haveFdb.set(`${idx.get(e.dev)}|${e.lladdr.toLowerCase()}`, e.dst);
    const haveRoute = new Map<string, { dev: string; gw: string }>();
    for (const r of routes) if (r.dev !== undefined && idx.has(r.dev) && r.gw && r.proto === 'boot') haveRoute.set(r.dst, { dev: idx.get(r.dev)!, gw: r.gw });
    const split = (k: string) => k.split('|') as [string, string];
    for (const [k, mac] of haveNeigh) if (want.neigh.get(k) !== mac) ops.push({ op: 'neigh.del', spec: { dev: split(k)[0], address: split(k)[1] } });
    for (const [k, dst] of haveFdb) if (want.fdb.get(k) !== dst) ops.push({ op: 'neigh.del', spec: { family: 'bridge', dev: split(k)[0], lladdr: split(k)[1], dst } });
    for (const [dst, r] of haveRoute) {
      const w = want.routes.get(dst);
      if (!w || w.dev !== r.dev || w.gw !== r.gw) ops.push({ op: 'route.del', spec: { dst, gw: r.gw, dev: r.dev } });
    }
    for (const [k, mac] of want.neigh) if (haveNeigh.get(k) !== mac) ops.push({ op: 'neigh.replace', spec: { dev: split(k)[0], address: split(k)[1], lladdr: mac, state: 'permanent' } });
    for (const [k, dst] of want.fdb) if (haveFdb.get(k) !== dst) ops.push({ op: 'neigh.replace', spec: { family: 'bridge', dev: split(k)[0], lladdr: split(k)[1], dst, self: true, state: 'permanent' } });
    for (const [dst, w] of want.routes) {
      const h = haveRoute.get(dst);
      if (!h || h.dev !== w.dev || h.gw !== w.gw) ops.push({ op: 'route.replace', spec: { dst, gw: w.gw, dev: w.dev, onlink: true } });
    }
    if (ops.length > 0) await nl.request(ops);
    return n + ops.length;
  }

  /** Rewrite the chains of local endpoints whose rules differ from their view. Returns how many. */
  async #chains(x: RecordIndex, self: string): Promise<number> {
    const local = [...x.endpoints.values()].filter((e) => e.agent === self);
    if (local.length === 0) return 0;
    const saved = await save(this.ns, 4, 'filter');
    let n = 0;
    for (const e of local) {
      try {
        if (await this.#rewrite(x, e, saved)) n++;
      } catch (err) {
        this.log.warn({ endpoint: `${e.container_id}/${e.ifname}`, err: (err as Error).message }, 'contrail: chains not rewritten');
      }
    }
    return n;
  }

  async #rewrite(x: RecordIndex, e: EndpointRec, saved: SavedTable): Promise<boolean> {
    const c = endpointChains(e.container_id, e.ifname);
    // Chains the plugin has not made (an ADD under way) or has removed (a DEL) are not ours to touch.
    if (!saved.chains.some((s) => s.name === c.egress) || !saved.chains.some((s) => s.name === c.ingress)) return false;
    const want = chainRules(c, endpointView(x, e));
    const text = (chain: string, args: readonly string[]) => JSON.stringify([chain, ...args]);
    const have = saved.rules.filter((r) => r.chain === c.egress || r.chain === c.ingress).map((r) => text(r.chain, r.args));
    const rendered = want.map((r) => {
      const w = renderRule(r, 4, 'filter');
      return text(w.chain, w.args);
    });
    const sorted = (l: string[]) => [...l.filter((t) => t.includes(`"${c.egress}"`)), ...l.filter((t) => !t.includes(`"${c.egress}"`))];
    if (JSON.stringify(sorted(have)) === JSON.stringify(sorted(rendered))) return false;
    const jumps = jumpRules(c, localTapName(e.container_id, e.ifname), endpointTag(e.container_id, e.ifname));
    const ops: Op[] = [...jumps.map((rule): Op => ({ op: 'delete', rule })), ...jumps.map((rule): Op => ({ op: 'append', rule })), ...want.map((rule): Op => ({ op: 'append', rule }))];
    await restore(this.ns, { table: 'filter', own: [c.egress, c.ingress], ops });
    this.log.info({ endpoint: `${e.container_id}/${e.ifname}`, rules: want.length }, 'contrail: security rules rewritten');
    return true;
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    while (this.#running) await this.#running;
    this.#nl?.close();
    this.#nl = undefined;
  }
}
