// Policy-routing rules: `ip rule add/del/show`. Adds use CREATE|EXCL, so an identical rule at the
// same priority fails with EEXIST (without a priority the kernel picks a fresh one: no duplicate).
import { SpecError } from '../native/index.js';
import type { NetlinkHandle } from './handle.js';
import { commonFamily, family, table, type TableName } from './inet.js';
import { parsePrefix, type Family } from '../ip.js';
import { defineOp } from './ops.js';
import { defined, ifname, int, oneOf } from './validate.js';

const ACTIONS = { table: 1, blackhole: 6, unreachable: 7, prohibit: 8 } as const;
export type RuleAction = keyof typeof ACTIONS;

export interface RuleSpec {
  /** Default: from the addresses, else 4 (as `ip rule`). */
  family?: Family;
  /** Source prefix ('10.0.0.0/24'); absent = all. */
  from?: string;
  to?: string;
  /** The table to look up (action 'table', the default). */
  table?: TableName | number;
  priority?: number;
  /** Input / output interface names (they need not exist yet). */
  iif?: string;
  oif?: string;
  fwmark?: number;
  fwmask?: number;
  action?: RuleAction;
}

export interface RuleFilter {
  family?: Family;
  table?: TableName | number;
}

/** A rule as the kernel reports it. */
export interface Rule {
  family: Family;
  priority: number;
  from?: string;
  to?: string;
  table: number;
  action: RuleAction | 'goto' | 'nop' | number;
  iif?: string;
  oif?: string;
  fwmark?: number;
  fwmask?: number;
  /** Who made it: 'kernel' for the default rules, 'boot' for `ip rule add`, ... */
  proto?: 'unspec' | 'redirect' | 'kernel' | 'boot' | 'static' | 'ra' | 'dhcp' | number;
  flags: number;
}

function describeRule(verb: string, s: RuleSpec): string {
  const parts = [`${verb} rule`];
  if (s.priority !== undefined) parts.push(`priority ${s.priority}`);
  parts.push(`from ${s.from ?? 'all'}`);
  if (s.to !== undefined) parts.push(`to ${s.to}`);
  if (s.iif !== undefined) parts.push(`iif ${s.iif}`);
  if (s.oif !== undefined) parts.push(`oif ${s.oif}`);
  if (s.fwmark !== undefined) parts.push(`fwmark ${s.fwmark}${s.fwmask === undefined ? '' : `/${s.fwmask}`}`);
  if (s.action !== undefined && s.action !== 'table') parts.push(s.action);
  if (s.table !== undefined) parts.push(`lookup ${s.table}`);
  return parts.join(' ');
}

function prepareRule(s: RuleSpec, del: boolean): object {
  const from = s.from === undefined ? undefined : parsePrefix(s.from, 'rule.from');
  const to = s.to === undefined ? undefined : parsePrefix(s.to, 'rule.to');
  const fam = commonFamily(s.family, 'rule', [['from', from], ['to', to]], 4);
  const action = s.action === undefined ? (del ? undefined : 'table') : oneOf(s.action, 'rule.action', Object.keys(ACTIONS) as RuleAction[]);
  if (action === 'table' && s.table === undefined && !del) throw new SpecError('rule.table: required for a lookup rule');
  if (action !== undefined && action !== 'table' && s.table !== undefined) throw new SpecError(`rule.table: a ${action} rule looks up no table`);
  const out = defined({
    family: fam,
    srcLen: from?.prefix ?? 0,
    src: from?.bytes,
    dstLen: to?.prefix ?? 0,
    dst: to?.bytes,
    table: s.table === undefined ? undefined : table(s.table, 'rule.table'),
    priority: s.priority === undefined ? undefined : int(s.priority, 'rule.priority', 0, 2 ** 32 - 1),
    iif: s.iif === undefined ? undefined : ifname(s.iif, 'rule.iif'),
    oif: s.oif === undefined ? undefined : ifname(s.oif, 'rule.oif'),
    fwmark: s.fwmark === undefined ? undefined : int(s.fwmark, 'rule.fwmark', 0, 2 ** 32 - 1),
    fwmask: s.fwmask === undefined ? undefined : int(s.fwmask, 'rule.fwmask', 0, 2 ** 32 - 1),
    action: action === undefined ? undefined : ACTIONS[action],
  });
  // An empty delete would match the first rule of all (priority 0, the local table).
  if (del && Object.keys(out).every((k) => ['family', 'srcLen', 'dstLen'].includes(k))) {
    throw new SpecError('rule: a delete needs at least one of priority, from, to, table, iif, oif, fwmark, action');
  }
  return out;
}

declare module './ops.js' {
  interface OpSpecs {
    'rule.add': RuleSpec;
    'rule.del': RuleSpec;
    'rule.list': RuleFilter;
  }
}

defineOp('rule.add', {
  prepare: (_h, s) => prepareRule(s, false),
  describe: (s) => describeRule('add', s),
  undo: (s) => ({ op: 'rule.del', spec: { ...s, action: s.action ?? 'table' } }),
});

defineOp('rule.del', {
  prepare: (_h, s) => prepareRule(s, true),
  describe: (s) => describeRule('delete', s),
  ok: ['ENOENT'],
});

defineOp('rule.list', {
  prepare: (_h, s) => defined({ family: s.family === undefined ? undefined : family(s.family, 'rule.list.family') }),
  describe: () => 'list rules',
});

/** The rule verbs of one handle. */
export class RuleApi {
  constructor(private readonly h: NetlinkHandle) {}

  /** `ip rule add ...`: EEXIST when an identical rule has the same priority. */
  async add(spec: RuleSpec): Promise<void> {
    await this.h.run('rule.add', spec);
  }

  /** `ip rule del ...`: given fields narrow the match (first match goes); succeeds when none matches. */
  async del(spec: RuleSpec): Promise<void> {
    await this.h.run('rule.del', spec);
  }

  /** `ip rule show` (both families unless `family`), optionally only rules looking up `table`. */
  async list(filter: RuleFilter = {}): Promise<Rule[]> {
    const want = filter.table === undefined ? undefined : table(filter.table, 'rule.list.table');
    const rules = (await this.h.run('rule.list', filter)) as Rule[];
    return want === undefined ? rules : rules.filter((r) => r.table === want);
  }
}
