// The agent's netfilter side effects, upstream's shell commands done through lib/iptables: the
// `overlay` ipset (catch-all entries; every overlay subnet `nomatch`), the MASQUERADE rule for an
// overlay's sources going anywhere but an overlay, and the RETURN at the head of Docker's
// isolation chain. Failures carry upstream's text, `Failed to execute '<command>': <cause>`, with
// the equivalent shell command, so an operator can run it by hand.
import { ipset, missing, restore, saveChains, type Op, type Rule } from '../../iptables/index.js';
import type { Netns } from '../../netns/index.js';

/** Upstream's set name (constants.hpp IPSET_OVERLAY). */
export const IPSET_OVERLAY = 'overlay';

function failed(command: string, e: unknown): Error {
  return new Error(`Failed to execute '${command}': ${(e as Error).message}`);
}

/**
 * `ipset create -exist overlay hash:net counters && ipset add -exist overlay 0.0.0.0/1 &&
 * ipset add -exist overlay 128.0.0.0/1` in one run. (Upstream also adds 127.0.0.0/1, which is
 * 0.0.0.0/1 again once its host bits are cleared, as ipset does.)
 */
export async function initIpset(ns: Netns, timeoutMs: number): Promise<void> {
  const command = `ipset create -exist ${IPSET_OVERLAY} hash:net counters && ipset add -exist ${IPSET_OVERLAY} 0.0.0.0/1 && ipset add -exist ${IPSET_OVERLAY} 128.0.0.0/1 && ipset add -exist ${IPSET_OVERLAY} 127.0.0.0/1`;
  try {
    await ipset.restore(
      ns,
      [
        { op: 'create', set: IPSET_OVERLAY, type: 'hash:net', counters: true },
        { op: 'add', set: IPSET_OVERLAY, entry: '0.0.0.0/1' },
        { op: 'add', set: IPSET_OVERLAY, entry: '128.0.0.0/1' },
      ],
      { timeoutMs },
    );
  } catch (e) {
    throw new Error(`Unable to create ipset:${failed(command, e).message}`);
  }
}

/** `-s <overlay> -m set --match-set overlay dst -j MASQUERADE` in nat POSTROUTING (no tag: upstream's exact rule). */
export function masqueradeRule(subnet: string): Rule {
  return { chain: 'POSTROUTING', source: subnet, matchSet: { name: IPSET_OVERLAY, flags: ['dst'] }, target: { kind: 'MASQUERADE' } };
}

/**
 * `ipset add -exist overlay <S> nomatch && iptables -t nat -C POSTROUTING … || iptables -t nat -A
 * POSTROUTING …`: the overlay carved out of the catch-all set, then its rule appended when absent.
 */
export async function masquerade(ns: Netns, subnet: string, timeoutMs: number): Promise<void> {
  const rule = `POSTROUTING -s ${subnet} -m set --match-set ${IPSET_OVERLAY} dst -j MASQUERADE`;
  const command = `ipset add -exist ${IPSET_OVERLAY} ${subnet} nomatch && iptables -w -t nat -C ${rule} || iptables -w -t nat -A ${rule}`;
  try {
    await ipset.restore(ns, [{ op: 'add', set: IPSET_OVERLAY, entry: subnet, nomatch: true }], { timeoutMs });
    const want = masqueradeRule(subnet);
    if ((await missing(ns, 4, 'nat', [want], { timeoutMs })).length > 0) {
      await restore(ns, { table: 'nat', ops: [{ op: 'append', rule: want }] }, { timeoutMs });
    }
  } catch (e) {
    throw failed(command, e);
  }
}

/** Upstream tries the chain of Docker before 17.06 first, then the one of later versions. */
export const ISOLATION_CHAINS = ['DOCKER-ISOLATION', 'DOCKER-ISOLATION-STAGE-2'] as const;

const isBareReturn = (args: readonly string[]) => args.length === 2 && args[0] === '-j' && args[1] === 'RETURN';

/**
 * `iptables -D <chain> -j RETURN; iptables -I <chain> 1 -j RETURN` (so overlay containers on
 * different Docker networks can talk): nothing when rule 1 already is that RETURN, else the delete
 * (when there is one to delete) and the insert in one transaction. Returns the chain used.
 */
export async function dockerIsolationReturn(ns: Netns, timeoutMs: number): Promise<string> {
  const errors: string[] = [];
  for (const chain of ISOLATION_CHAINS) {
    const command = `iptables -w -D ${chain} -j RETURN; iptables -w -I ${chain} 1 -j RETURN`;
    try {
      const saved = await saveChains(ns, 4, 'filter', [chain], { timeoutMs });
      if (!saved.chains.some((c) => c.name === chain)) throw new Error(`iptables: No chain/target/match by that name (chain ${chain} does not exist)`);
      const rules = saved.rules.filter((r) => r.chain === chain);
      if (rules[0] && isBareReturn(rules[0].args)) return chain;
      const ret: Rule = { chain, target: { kind: 'RETURN' } };
      const ops: Op[] = [...(rules.some((r) => isBareReturn(r.args)) ? [{ op: 'delete', rule: ret } as const] : []), { op: 'insert', rule: ret, position: 1 }];
      await restore(ns, { table: 'filter', ops }, { timeoutMs });
      return chain;
    } catch (e) {
      errors.push(failed(command, e).message);
    }
  }
  throw new Error(errors.join('; '));
}
