// iptables inside network namespaces: typed rules, one-transaction restores, rules found by tag.
export type { Backend, IptablesOptions } from './backend.js';
export { binary } from './backend.js';
export { IptablesError } from './errors.js';
export type { Op, SharedChain, TagIndexChange, Transaction } from './payload.js';
export { checkTransaction, renderPayload } from './payload.js';
export type { RestoreOptions, RestoreResult } from './restore.js';
export { restore, ensureChain } from './restore.js';
export { stats } from './stats.js';
export type { Neg, Rule, Target } from './rule.js';
export { renderRule } from './rule.js';
export type { SavedChain, SavedRule, SavedTable } from './save.js';
export { save, parseSave, hasChain } from './save.js';
export type { ListOptions } from './list.js';
export { saveChains } from './list.js';
export type { ReadOptions, RemoveSpec } from './tagged.js';
export { readTagged, removeTagged, missing, describeRule, rulesTagged, tagsWithPrefix } from './tagged.js';
export type { AddrType, CtState, Family, PortSpec, Protocol, Table } from './tokens.js';
export { tokenize, quote, isComment } from './tokens.js';
export { isNftBackend } from './nft.js';
export { indexSet } from './tag-index.js';
// IP sets (`ipset restore -exist` / `ipset save`): used by the overlay agent's MASQUERADE rule.
export * as ipset from './ipset.js';
export type { IpsetOp, SavedSet, IpsetEntry, SetType } from './ipset.js';
