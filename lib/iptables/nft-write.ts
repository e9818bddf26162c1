// A checked transaction as one nf_tables write (native/netlink/nft_write.cc): the same lines an
// iptables-restore payload would hold, each lowered to the encoder's spec. Pure; undefined when a
// line is outside what the encoder writes (then iptables-restore writes it, as ever).
import type { NativeNftOp, NativeNftWrite } from '../native/index.js';
import { lowerArgs } from './nft-rule.js';
import type { CheckedTransaction } from './payload.js';
import { indexOps } from './tag-index.js';
import { tokenize, type Family } from './tokens.js';

/** One payload line (`-A CHAIN …`, `-I CHAIN [1] …`, `-D`, `-F`, `-X`) as an op. */
function lineOp(line: string, family: Family): NativeNftOp | undefined {
  const [cmd, chain, ...args] = tokenize(line);
  if (chain === undefined) return undefined;
  if (cmd === '-F' || cmd === '-X') return args.length === 0 ? { op: cmd === '-F' ? 'flush' : 'deleteChain', chain } : undefined;
  if (cmd === '-I' && /^\d+$/.test(args[0] ?? '')) {
    // Only the head (position 1) without a listing; another position stays with iptables-restore.
    if (args[0] !== '1') return undefined;
    args.shift();
  }
  const op = cmd === '-A' ? 'append' : cmd === '-I' ? 'insert' : cmd === '-D' ? 'delete' : undefined;
  const rule = op && lowerArgs(chain, args, family);
  return op && rule ? { op, rule } : undefined;
}

/** Every line of `t` lowered, or undefined when one cannot be. `createShared` is the caller's. */
export function planNft(t: CheckedTransaction): Omit<NativeNftWrite, 'createShared'> | undefined {
  const lower = (lines: readonly string[]) => {
    const ops = lines.map((l) => lineOp(l, t.family));
    return ops.every((o) => o !== undefined) ? (ops as NativeNftOp[]) : undefined;
  };
  const ops = lower(t.lines);
  const shared = t.shared.map((s) => ({ name: s.name, onCreate: lower(s.onCreate) }));
  if (!ops || shared.some((s) => s.onCreate === undefined)) return undefined;
  const index = t.index ? [indexOps(t.index.chain, t.index)] : [];
  return { family: t.family, table: t.table, own: [...t.own], shared: shared as NativeNftWrite['shared'], ops, ...(index.length ? { index } : {}) };
}

/** Whether a plan matches ipsets by name (the addon then needs the namespace to look them up). */
export function usesSets(plan: Omit<NativeNftWrite, 'createShared'>): boolean {
  const ops = [...plan.ops, ...plan.shared.flatMap((s) => s.onCreate)];
  return ops.some((o) => 'rule' in o && o.rule.matches.some((m) => m.kind === 'set'));
}
