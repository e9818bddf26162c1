// The Contrail objects as the store keeps them (its generic records: key, claims, JSON value), both
// ways: a batch's changes to write, and the stored records read back at recovery.
import { claimsOf, recordKey, type ContrailRecord } from '../../contrail/model.js';
import type { RecordChange, StoredRecord } from '../store/types.js';
import { ContrailRecoveryError, type ContrailState } from './state.js';

const KINDS = ['network', 'pool', 'group', 'policy', 'endpoint'];

export function toStored(r: ContrailRecord): StoredRecord {
  return { key: recordKey(r), claims: claimsOf(r), value: r };
}

/** What the store writes for a batch: every touched key, before and after. */
export function recordChanges(prev: ContrailState, next: ContrailState): RecordChange[] {
  const out: RecordChange[] = [];
  for (const key of next.touched) {
    const before = prev.records.get(key);
    const after = next.records.get(key);
    if (before === after) continue;
    out.push({ key, ...(before && { before: toStored(before) }), ...(after && { after: toStored(after) }) });
  }
  return out;
}

/**
 * Stored records back to Contrail objects; one of another shape is refused (never served), and so
 * is one whose stored claims are not what its value holds: the store guards uniqueness only by the
 * claims it was given (ZooKeeper: a znode each), so an address without its claim could be handed
 * out twice, and its detach could never be written.
 */
export function fromStored(stored: readonly StoredRecord[]): ContrailRecord[] {
  return stored.map((s) => {
    const v = s.value as ContrailRecord | undefined;
    if (!v || typeof v !== 'object' || !KINDS.includes(v.kind) || recordKey(v) !== s.key) {
      throw new ContrailRecoveryError(`stored record ${JSON.stringify(s.key)} is not a Contrail object of that key`);
    }
    const want = [...claimsOf(v)].sort();
    const have = [...s.claims].sort();
    if (JSON.stringify(want) !== JSON.stringify(have)) {
      throw new ContrailRecoveryError(`stored record ${JSON.stringify(s.key)} claims [${have.join(', ')}] but holds [${want.join(', ')}]`);
    }
    return v;
  });
}
