// The tag index of a chain (nf_tables only): a set in the chain's table, beside it, with one key per
// tag that has rules in the chain (and in the other chains its owner writes in the same
// transactions), added and removed in the same batch as those rules and created in the batch that
// creates the chain, so an index that exists is complete. A tag's rules are then found absent by
// one hash lookup instead of a listing whose cost grows with the chain (the kernel fills every
// expression of every rule: ~6 ms for 1000 rules, on every port-mapper ADD of a busy host). A chain
// made before the index existed has none, and its readers keep listing. Removals always list
// (nft.ts): the index can only make a reader miss rules some other path wrote without it, and for
// a removal that would leave them behind. iptables-nft ignores the set (-S, -save and -restore
// --noflush read and write the table as before); legacy iptables has no sets, and there the index
// is not used at all.
import type { NativeNftIndex } from '../native/index.js';
import { sha256 } from '../util/digest.js';

/** The set of `chain`'s tag index. */
export const indexSet = (chain: string): string => `mesos-cni-tags.${chain}`;

/** A tag's key: 16 bytes of its SHA-256 (a collision can only make a reader list: never miss). */
export const indexKey = (tag: string): Buffer => sha256(tag).subarray(0, 16);

/** What a write or a delete does to `chain`'s index: `tag` added or removed (created with the chain). */
export function indexOps(chain: string, change: { add?: readonly string[]; remove?: readonly string[] }): NativeNftIndex {
  return { set: indexSet(chain), createWith: chain, add: (change.add ?? []).map(indexKey), remove: (change.remove ?? []).map(indexKey) };
}
