// iptables inside network namespaces: typed rules, one-transaction restores, tags, checks.
export type { Backend, IptablesOptions } from './backend.js';
export { binary } from './backend.js';
export { IptablesError } from './errors.js';
export type { Op, SharedChain, Transaction } from './payload.js';
export { checkTransaction, renderPayload } from './payload.js';
export type { RestoreResult } from './restore.js';
export { restore, ensureChain } from './restore.js';
export { stats } from './stats.js';
export type { Neg, Rule, Target } from './rule.js';
export { renderRule } from './rule.js';
export type { SavedChain, SavedRule, SavedTable } from './save.js';
export { save, parseSave, hasChain } from './save.js';
export type { ListOptions } from './list.js';
export { saveChains } from './list.js';
export type { CheckResult, DeleteByTagOptions } from './tags.js';
export { deleteByTag, check, rulesTagged } from './tags.js';
export type { AddrType, CtState, Family, PortSpec, Protocol, Table } from './tokens.js';
export { tokenize, quote } from './tokens.js';
