// ipMasq for the bridge plugin: a per-container nat chain that accepts traffic to the container's
// own subnet and masquerades the rest (not multicast), reached from POSTROUTING for the container's
// address. Added in one iptables-restore transaction, removed in one, all rules tagged.
import { createHash } from 'node:crypto';
import type { Netns } from '../../netns/netns.js';
import { check, hasChain, isComment, isNftBackend, removeTagged, restore, rulesTagged, saveChains, type Rule } from '../../iptables/index.js';
import { networkOf, parsePrefix } from '../../ip.js';

export interface MasqTarget {
  network: string;
  containerId: string;
}

/** The reference plugin's chain name: CNI- + 24 hex chars of sha512(network + containerID). */
export function chainName(t: MasqTarget): string {
  return 'CNI-' + createHash('sha512').update(t.network + t.containerId).digest('hex').slice(0, 24);
}

/**
 * The tag every rule of this attachment carries: `mesos-cni bridge: <network> id: <containerID>`,
 * or, when that is no valid comment (over 255 characters, or a network name holding a quote, a
 * backslash or a control character), `mesos-cni bridge: <chain name>`, unique as well. A tag is
 * never refused, so ADD never fails on it and DEL always finds what ADD wrote.
 */
export function tag(t: MasqTarget): string {
  const readable = `mesos-cni bridge: ${t.network} id: ${t.containerId}`;
  return isComment(readable) ? readable : `mesos-cni bridge: ${chainName(t)}`;
}

/** The rules for one container address ("10.1.0.5/24"). */
export function masqRules(t: MasqTarget, address: string): { family: 4 | 6; rules: Rule[] } {
  const p = parsePrefix(address, 'ip');
  const chain = chainName(t);
  const comment = tag(t);
  const host = `${p.text.split('/')[0]}/${p.family === 4 ? 32 : 128}`;
  return {
    family: p.family,
    rules: [
      { chain, destination: networkOf(p).text, comment, target: { kind: 'ACCEPT' } },
      { chain, destination: { not: p.family === 4 ? '224.0.0.0/4' : 'ff00::/8' }, comment, target: { kind: 'MASQUERADE' } },
      { chain: 'POSTROUTING', source: host, comment, target: { kind: 'jump', chain } },
    ],
  };
}

/** Install the rules for every address, one transaction per family. */
export async function setupMasq(host: Netns, t: MasqTarget, addresses: string[]): Promise<void> {
  for (const family of [4, 6] as const) {
    const rules = addresses.map((a) => masqRules(t, a)).filter((m) => m.family === family).flatMap((m) => m.rules);
    if (rules.length === 0) continue;
    // The chain is this container's alone, so declaring it (which flushes it) is right.
    await restore(host, { family, table: 'nat', own: [chainName(t)], ops: rules.map((rule) => ({ op: 'append', rule })) });
  }
}

/**
 * Remove the jump and the chain, one transaction per family that has any; nothing when gone.
 * On iptables-nft both are found by tag and deleted over netlink (iptables/nft.ts), no process.
 * Otherwise, with the container's `addresses` (its link still had them) the rules are known
 * exactly and one transaction deletes them without reading anything; when that fails (not all
 * there) or without addresses, the chain and POSTROUTING are read for what there is.
 */
export async function teardownMasq(host: Netns, t: MasqTarget, families: readonly (4 | 6)[] = [4, 6], addresses: string[] = []): Promise<void> {
  const chain = chainName(t);
  for (const family of families) {
    if (await isNftBackend(family, 'default')) {
      await removeTagged(host, family, 'nat', ['POSTROUTING'], tag(t), [chain]);
      continue;
    }
    const known = addresses.map((a) => masqRules(t, a)).filter((m) => m.family === family);
    if (known.length > 0) {
      const jumps = known.flatMap((m) => m.rules.filter((r) => r.chain === 'POSTROUTING'));
      const exact = { family, table: 'nat' as const, own: [chain], ops: [...jumps.map((rule) => ({ op: 'delete' as const, rule })), { op: 'deleteChain' as const, chain }] };
      if (await restore(host, exact).then(() => true, () => false)) continue;
    }
    // Only the two chains involved: a whole-table save grows with every container's rules.
    const saved = await saveChains(host, family, 'nat', [chain, 'POSTROUTING'], { containing: tag(t) });
    const jumps = rulesTagged(saved, tag(t), ['POSTROUTING']);
    const owned = hasChain(saved, chain);
    if (jumps.length === 0 && !owned) continue;
    await restore(host, {
      family,
      table: 'nat',
      own: owned ? [chain] : [],
      ops: [...jumps.map((rule) => ({ op: 'deleteSaved' as const, rule })), ...(owned ? [{ op: 'deleteChain' as const, chain }] : [])],
    });
  }
}

/** Which of the expected rules are missing (for CHECK). */
export async function missingMasq(host: Netns, t: MasqTarget, addresses: string[]): Promise<Rule[]> {
  const missing: Rule[] = [];
  for (const family of [4, 6] as const) {
    const rules = addresses.map((a) => masqRules(t, a)).filter((m) => m.family === family).flatMap((m) => m.rules);
    if (rules.length) missing.push(...(await check(host, family, 'nat', rules)).missing);
  }
  return missing;
}
