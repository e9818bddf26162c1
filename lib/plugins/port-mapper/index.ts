// mesos-cni-port-mapper: a drop-in for Mesos' port-mapper CNI plugin. ADD runs the delegate and
// puts the container's DNAT rules in place in one iptables transaction per address family (once
// the delegate has answered, or, for an in-process delegate of ours, as soon as it says its
// addresses), undoing the delegate if that fails; DEL removes the rules and runs the delegate's
// DEL, whose address release waits for the rules (so a freed address never receives a mapped
// port); CHECK verifies the rules and asks the delegate.
import type { Plugin, PluginContext } from '../../cni/plugin.js';
import { asCniError, CniError, codeFor, ErrorCode } from '../../cni/errors.js';
import { stoutJson } from '../../cni/mesos.js';
import { convertResult, type AnyResult, type LegacyResult, type Result } from '../../cni/result.js';
import { Rollback } from '../../cni/rollback.js';
import { formatIp, parsePrefix, type IpPrefix } from '../../ip.js';
import { Netns } from '../../netns/netns.js';
import { NetlinkHandle } from '../../netlink/handle.js';
import type { SavedRule } from '../../iptables/index.js';
import { parseConfig, type PortMapperConfig } from './config.js';
import { badArgs, Code } from './errors.js';
import { install, missing, readTagged, remove } from './nat.js';
import { preflight } from './preflight.js';
import { containerRules } from './rules.js';
import { gc, status } from './lifecycle.js';

/** The delegate's absolute path (preflight found it; it may have vanished since). */
async function delegatePath(ctx: PluginContext, cfg: PortMapperConfig): Promise<string> {
  try {
    return await ctx.delegate.find(cfg.delegateType);
  } catch {
    throw badArgs(`Could not find the delegate plugin '${cfg.delegateType}' in '${ctx.env.path.join(':')}'`);
  }
}

const because = (e: unknown) => asCniError(e).message;

/**
 * The container's first IPv4 and first IPv6 address from the delegate's result, whatever its
 * version (upstream read only a 0.1/0.2 `ip4`).
 */
export function containerAddresses(r: AnyResult, path: string): IpPrefix[] {
  const found: [4 | 6, unknown][] = [];
  const l = r as LegacyResult;
  if (l.ip4 !== undefined || l.ip6 !== undefined) {
    if (l.ip4 !== undefined) found.push([4, l.ip4?.ip]);
    if (l.ip6 !== undefined) found.push([6, l.ip6?.ip]);
  } else {
    for (const ip of (r as Result).ips ?? []) {
      const family = typeof ip?.address === 'string' && ip.address.includes(':') ? 6 : 4;
      if (!found.some(([f]) => f === family)) found.push([family, ip?.address]);
    }
  }
  if (found.length === 0) throw new CniError(Code.DelegateFailure, `Delegate CNI plugin '${path}' did not return an IPv4 or IPv6 address`);
  return found.map(([family, text]) => {
    try {
      const p = parsePrefix(text, `ip${family}.ip`);
      if (p.family !== family) throw new Error(`${JSON.stringify(text)} is not an IPv${family} address`);
      return p;
    } catch (e) {
      throw new CniError(Code.DelegateFailure, `Could not parse IPv${family} address return by delegate CNI plugin '${path}': ${(e as Error).message}`);
    }
  });
}

async function add(ctx: PluginContext): Promise<AnyResult> {
  const cfg = parseConfig(ctx.conf);
  const path = await delegatePath(ctx, cfg);
  // Upstream sends the delegate its config stout-serialised (sorted keys, compact).
  const stdin = stoutJson(cfg.delegate);
  if (cfg.mappings.length === 0) {
    try {
      return await ctx.delegate.add(cfg.delegate, { stdin }); // no iptables command at all
    } catch (e) {
      throw new CniError(codeFor(e, Code.DelegateFailure), `Could not execute the delegate plugin '${path}' for ADD command: ${because(e)}`);
    }
  }
  const host = Netns.current();
  // Read the container's IPv4 rules while the delegate works (off the critical path): only its
  // own tag is looked up in them, and nothing else writes rules with that tag.
  const early = readTagged(host, 4, cfg.chain, ctx.env.containerId).catch(() => undefined);
  const installAll = async (addresses: IpPrefix[], have4: SavedRule[] | undefined, after?: PromiseLike<unknown>) => {
    for (const address of addresses) {
      const rules = containerRules(cfg, ctx.env.containerId, address);
      if (rules.chain.length === 0) continue; // every mapping names a host IP of the other family
      try {
        await install(host, cfg.chain, ctx.env.containerId, rules, address.family === 4 ? have4 : undefined, after);
      } catch (e) {
        throw new CniError(codeFor(e, Code.PortMapFailure), `Failed to add DNAT rule with tag: ${because(e)}`);
      }
    }
  };
  const removeRules = () => remove(host, cfg.chain, ctx.env.containerId);
  // A delegate of ours run in-process says its addresses once they are fixed: the rules are
  // rendered while it makes its links and go in beside its own (writeAfter: once its host link
  // exists), off the critical path. Should it fail after all, its rollback runs the undo returned
  // here before it releases the addresses, so a released address never receives a mapped port.
  let started: { addresses: IpPrefix[]; installed: Promise<void> } | undefined;
  const onAddresses = (texts: readonly string[], writeAfter?: PromiseLike<unknown>) => {
    if (started) return undefined;
    let addresses: IpPrefix[];
    try {
      addresses = containerAddresses({ cniVersion: '1.1.0', ips: texts.map((address) => ({ address })) }, path);
    } catch {
      return undefined; // the result will say what is wrong with them, once it is in
    }
    const installed = early.then((have4) => installAll(addresses, have4, writeAfter));
    installed.catch(() => undefined); // awaited once the delegate has answered
    started = { addresses, installed };
    return () => installed.catch(() => undefined).then(removeRules);
  };
  try {
    return await Rollback.guard(ctx.log, async (rb) => {
      let result: AnyResult;
      try {
        result = await ctx.delegate.add(cfg.delegate, { stdin, onAddresses });
      } catch (e) {
        // Its rollback removed the rules written early; should one fail to, they go here too.
        if (started) rb.push('remove the rules', () => started!.installed.catch(() => undefined).then(removeRules));
        throw new CniError(codeFor(e, Code.DelegateFailure), `Could not execute the delegate plugin '${path}' for ADD command: ${because(e)}`);
      }
      // The runtime may never DEL a failed ADD: the delegate's attachment must not leak.
      rb.push('delegate DEL', () => ctx.delegate.del(cfg.delegate, { stdin }));
      const addresses = containerAddresses(result, path);
      // A failed transaction changed nothing, but an earlier family's may have landed.
      if (addresses.length > 1 || started) rb.push('remove the rules', removeRules);
      if (started && sameAddresses(started.addresses, addresses)) {
        await started.installed;
      } else {
        // Not said early (an executable delegate), or not what the result holds: the rules from
        // the result, replacing any written early.
        if (started) await started.installed.catch(() => undefined).then(removeRules);
        await installAll(addresses, started ? undefined : await early);
      }
      return result;
    });
  } finally {
    await early; // settled before the caller moves on (its rejection is already handled)
    host.close();
  }
}

const sameAddresses = (a: readonly IpPrefix[], b: readonly IpPrefix[]) =>
  a.length === b.length && a.every((x, i) => formatIp(x.bytes) === formatIp(b[i]!.bytes) && x.prefix === b[i]!.prefix);

/**
 * The container's first IPv4 and first IPv6 address (link-local aside), read from its interface
 * while it is still there; none when the namespace or the interface is gone.
 */
async function linkAddresses(netns: string | undefined, ifname: string): Promise<IpPrefix[]> {
  if (!netns) return [];
  let nl: NetlinkHandle | undefined;
  try {
    nl = await NetlinkHandle.open(netns);
    const link = await nl.link.find(ifname);
    if (!link) return [];
    const addrs = (await nl.addr.list({ dev: link.index })).filter((a) => a.scope !== 'link');
    return ([4, 6] as const).flatMap((f) => addrs.filter((a) => a.family === f).slice(0, 1).map((a) => parsePrefix(a.address, 'address')));
  } catch {
    return []; // the namespace went away: DEL reads the rules from the table instead
  } finally {
    nl?.close();
  }
}

/**
 * DEL: the rules go before the address is released, so a freed address never receives a mapped
 * port. Upstream ran the delegate's DEL only after the rules were gone; the delegate's veth
 * deletion waits out an RCU grace period (~20 ms), as does an iptables-restore that deletes on
 * nf_tables, so an in-process delegate of ours starts at once and only its IPAM release waits for
 * the rules (releaseAfter). An executable
 * delegate still starts after them. A failed removal fails the DEL before any release.
 */
async function del(ctx: PluginContext): Promise<void> {
  const cfg = parseConfig(ctx.conf);
  const path = await delegatePath(ctx, cfg);
  // The rules as ADD wrote them, rebuilt from the container's addresses, read before the delegate's
  // DEL takes the interface away: where rules are not found by tag over netlink, they are deleted
  // exactly from these without reading the table.
  const known = (await linkAddresses(ctx.env.netns, ctx.env.ifname)).map((a) => containerRules(cfg, ctx.env.containerId, a));
  const host = Netns.current();
  // An in-process delegate of ours may delete rules in the same table in this DEL (the bridge its
  // masquerade rules): one nf_tables commit for both leaves the next ADD one RCU grace period to
  // wait for instead of two (nft.ts DeleteOptions). Ours wait for theirs until the delegate's
  // address release starts waiting for ours (its rules are deleted by then), or it has finished.
  let nothingMore!: () => void;
  const delegateDone = new Promise<void>((resolve) => (nothingMore = resolve));
  const share = (await ctx.delegate.runsInProcess(cfg.delegateType)) && delegateDone;
  const rules = remove(host, cfg.chain, ctx.env.containerId, known, share)
    .catch((e: unknown) => {
      throw new CniError(codeFor(e, Code.PortMapFailure), `Unable to remove iptables DNAT rules: Unable to delete DNAT rules: ${because(e)}`);
    })
    .finally(() => host.close());
  const gate = ctx.releaseAfter ? Promise.all([ctx.releaseAfter, rules]) : rules;
  // A delegate that fails before its release never awaits this: its rejection is reported below.
  gate.catch(() => undefined);
  // Whoever waits on this is about to release the address: no rule of this DEL is still to come.
  const releaseAfter: PromiseLike<unknown> = { then: (ok, bad) => (nothingMore(), gate.then(ok, bad)) };
  const delegate = ctx.delegate.del(cfg.delegate, { stdin: stoutJson(cfg.delegate), releaseAfter });
  delegate.finally(nothingMore).catch(() => undefined); // its rejection is reported below
  const [removed, delegated] = await Promise.allSettled([rules, delegate]);
  if (removed.status === 'rejected') throw removed.reason;
  if (delegated.status === 'rejected') {
    throw new CniError(codeFor(delegated.reason, Code.DelegateFailure), `Could not execute the delegate plugin '${path}' for DEL command: ${because(delegated.reason)}`);
  }
}

/** CHECK (not in upstream): the rules from prevResult's addresses and the chain's jumps, then the delegate's CHECK. */
async function check(ctx: PluginContext): Promise<void> {
  const cfg = parseConfig(ctx.conf);
  const path = await delegatePath(ctx, cfg);
  const prev = ctx.conf.prevResult;
  if (prev === undefined) throw new CniError(ErrorCode.InvalidNetworkConfig, 'prevResult: required for CHECK');
  if (cfg.mappings.length > 0) {
    const host = Netns.current();
    try {
      for (const address of containerAddresses(prev, path)) {
        const rules = containerRules(cfg, ctx.env.containerId, address);
        if (rules.chain.length === 0) continue;
        const gone = await missing(host, cfg.chain, rules);
        if (gone.length) throw new CniError(Code.PortMapFailure, `CHECK: ${gone.length} rule(s) missing from the IPv${address.family} nat table, first: ${gone[0]}`);
      }
    } finally {
      host.close();
    }
  }
  // CHECK needs a config version that has it: the delegate's own, else ours.
  const version = (cfg.delegate.cniVersion as string | undefined) ?? cfg.cniVersion;
  const conf = { ...cfg.delegate, ...(version ? { cniVersion: version } : {}), prevResult: convertResult(prev, version) };
  try {
    await ctx.delegate.check(conf, { stdin: stoutJson(conf) });
  } catch (e) {
    throw new CniError(codeFor(e, Code.DelegateFailure), `Could not execute the delegate plugin '${path}' for CHECK command: ${because(e)}`);
  }
}

/**
 * What ADD prints. Called by Mesos (its `org.apache.mesos` args, no CNI_ARGS), the form Mesos reads
 * whatever `cniVersion` the operator wrote at the top: upstream's `ip4`/`ip6`/`dns` only, keys
 * sorted — a 0.3+ result is "no IP" to Mesos (TaskStatus and /etc/hosts lose the address). Called by
 * any other runtime, the result in the config's version.
 */
export function answer(ctx: PluginContext, result: AnyResult): AnyResult {
  const cfg = parseConfig(ctx.conf);
  if (!cfg.fromMesos || ctx.env.argsRaw !== undefined) return convertResult(result, cfg.cniVersion);
  const legacy = convertResult(result, undefined) as LegacyResult;
  const view = { ...(legacy.dns ? { dns: legacy.dns } : {}), ...(legacy.ip4 ? { ip4: legacy.ip4 } : {}), ...(legacy.ip6 ? { ip6: legacy.ip6 } : {}) };
  return JSON.parse(stoutJson(view)) as LegacyResult;
}

export const plugin: Plugin = { type: 'mesos-cni-port-mapper', answer, usesNetns: false, readFailureCode: Code.ReadFailure, preflight, add, del, check, status, gc };
