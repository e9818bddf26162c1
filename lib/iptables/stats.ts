// Counts of iptables processes this module started (and of netlink calls that replaced them): metrics for a daemon, and the way a test
// proves that a no-op (removeTagged with nothing tagged) ran no restore at all.
export const stats = {
  /** iptables-save runs */
  saves: 0,
  /** iptables -S CHAIN runs (saveChains) */
  lists: 0,
  /** iptables-restore runs */
  restores: 0,
  /** transactions re-planned after losing a shared-chain creation race */
  retries: 0,
  /** transactions committed as part of a batch (group.ts, and nf_tables writes in nft.ts) */
  grouped: 0,
  /** transactions run again alone after their batch failed */
  rerunAlone: 0,
  /** chains listed over nf_tables netlink (nft.ts), no process */
  nftLists: 0,
  /** tagged-rule lookups a chain's tag index answered without a listing (tag-index.ts) */
  nftIndexHits: 0,
  /** delete transactions committed over nf_tables netlink (nft.ts), no process */
  nftDeletes: 0,
  /** transactions written over nf_tables netlink (nft_write.cc), no process */
  nftWrites: 0,
  /** nfnetlink sockets opened (nft.ts): one per exchange running at once in a namespace, reused after */
  nftSockets: 0,
};
