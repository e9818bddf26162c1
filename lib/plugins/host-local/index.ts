// The host-local IPAM plugin: addresses from configured ranges, leases on disk shared with the
// reference plugin (same files, same flock), requested IPs honoured or refused with a clear error.
import type { Plugin, PluginContext } from '../../cni/plugin.js';
import { CniError, ErrorCode } from '../../cni/errors.js';
import type { IpConfig, Result } from '../../cni/result.js';
import { LATEST } from '../../cni/version.js';
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ipToBig, parseIp } from '../../ip.js';
import { describeSet, rangeFor, type RangeSet } from './range.js';
import { parseConfig } from './config.js';
import { readResolvConf } from './dns.js';
import { allocate, HostLocalError } from './allocate.js';
import { LeaseStore } from './store.js';

async function add(ctx: PluginContext): Promise<Result> {
  const cfg = parseConfig(ctx.conf, ctx.env);
  const dns = cfg.resolvConf ? await readResolvConf(cfg.resolvConf) : undefined;
  const { containerId: id, ifname } = ctx.env;
  // Each requested address must fall in some range set; it is used by the first set holding it.
  const pending = new Map(cfg.requested.map((ip) => [ip.text, ip]));
  const store = await LeaseStore.open(cfg.dataDir, cfg.name);
  const ips = await store.locked(async () => {
    const got: IpConfig[] = [];
    try {
      for (const [idx, set] of cfg.rangeSets.entries()) {
        const want = [...pending.values()].find((ip) => rangeFor(set, ip.family, ipToBig(ip.bytes)));
        if (want) pending.delete(want.text);
        try {
          got.push(await allocate(store, set, idx, id, ifname, want));
        } catch (e) {
          if (e instanceof CniError) throw new CniError(e.code, `failed to allocate for range ${idx}: ${e.msg}`);
          throw e;
        }
      }
      if (pending.size) {
        throw new CniError(HostLocalError.Requested, `failed to allocate all requested IPs: ${[...pending.keys()].join(' ')}`);
      }
      return got;
    } catch (e) {
      // Nothing half-allocated stays behind.
      for (const ip of got) await store.release(ip.address.split('/')[0]!);
      throw e;
    }
  });
  ctx.log.debug('allocated', { ips: ips.map((i) => i.address) });
  return { cniVersion: LATEST, ips, ...(cfg.routes.length ? { routes: cfg.routes } : {}), ...(dns ? { dns } : {}) };
}

/**
 * DEL: release the container's leases. Nothing is created for it: with no store, or no lease of
 * this container in it, there is nothing to do and nothing to lock (a read-only or full disk does
 * not fail a DEL that has nothing to release). The container's own lock (skel) keeps its ADD out.
 */
async function del(ctx: PluginContext): Promise<void> {
  const cfg = parseConfig(ctx.conf, ctx.env);
  const store = LeaseStore.existing(cfg.dataDir, cfg.name);
  await ctx.releaseAfter; // e.g. the port mapper's DNAT rules to this address must be gone first
  if (!store || (await store.byId(ctx.env.containerId, ctx.env.ifname)).length === 0) return;
  await store.locked(async () => {
    for (const lease of await store.byId(ctx.env.containerId, ctx.env.ifname)) await store.release(lease.ip);
  });
}

async function check(ctx: PluginContext): Promise<void> {
  const cfg = parseConfig(ctx.conf, ctx.env);
  const store = LeaseStore.existing(cfg.dataDir, cfg.name);
  const leases = store ? await store.locked(() => store.byId(ctx.env.containerId, ctx.env.ifname)) : [];
  if (leases.length === 0) {
    throw new CniError(ErrorCode.UnknownContainer, `host-local: Failed to find address added by container ${ctx.env.containerId}`);
  }
}

/**
 * GC (1.1.0): release every lease whose attachment is not in cni.dev/valid-attachments. A lease of
 * an old version (the container ID alone) stays while any attachment of its container is valid,
 * as the reference's DEL treats it. No list at all: nothing is released (the runtime said nothing).
 */
async function gc(ctx: PluginContext): Promise<void> {
  const cfg = parseConfig(ctx.conf, ctx.env);
  const valid = ctx.validAttachments;
  const store = LeaseStore.existing(cfg.dataDir, cfg.name);
  if (!valid || !store) return;
  const released = await store.locked(async () => {
    const out: string[] = [];
    for (const l of await store.leases()) {
      // A lease too large to read has no owner we could match: it keeps its address.
      if (l.containerId === '') continue;
      const keep = l.ifname === '' ? valid.hasContainer(l.containerId) : valid.has(l.containerId, l.ifname);
      if (!keep) {
        await store.release(l.ip);
        out.push(l.ip);
      }
    }
    return out;
  });
  if (released.length) ctx.log.info('released stale leases', { ips: released });
}

/**
 * STATUS (1.1.0): ready when the store can be written (its directory, or the nearest existing
 * parent where it would be made) and some range set still has a free address; else code 50.
 */
async function status(ctx: PluginContext): Promise<void> {
  const cfg = parseConfig(ctx.conf, ctx.env);
  const dir = join(cfg.dataDir, cfg.name);
  let probe = dir;
  while (!existsSync(probe)) probe = dirname(probe);
  try {
    if (!statSync(probe).isDirectory()) throw new Error(`${probe} is not a directory`);
    accessSync(probe, constants.W_OK | constants.X_OK);
  } catch (e) {
    throw new CniError(ErrorCode.PluginNotAvailable, `host-local: cannot write the lease store ${dir}`, (e as Error).message);
  }
  const store = LeaseStore.existing(cfg.dataDir, cfg.name);
  if (!store) return;
  const taken = (await store.leases()).flatMap((l) => {
    try {
      const ip = parseIp(l.ip, 'lease');
      return [{ family: ip.family, v: ipToBig(ip.bytes) }];
    } catch {
      return [];
    }
  });
  const full = (set: RangeSet) => {
    const size = set.reduce((n, r) => n + (r.end - r.start + 1n) - (r.gateway >= r.start && r.gateway <= r.end ? 1n : 0n), 0n);
    const used = taken.filter((t) => rangeFor(set, t.family, t.v) && !set.some((r) => r.gateway === t.v)).length;
    return BigInt(used) >= size;
  };
  const exhausted = cfg.rangeSets.filter(full);
  if (exhausted.length) {
    throw new CniError(ErrorCode.PluginNotAvailable, `host-local: no IP addresses available in range set: ${describeSet(exhausted[0]!)}`);
  }
}

export const plugin: Plugin = { type: 'host-local', usesNetns: false, validate: (c, e) => void parseConfig(c, e), add, del, check, gc, status };
