// nftables through the `nft` command inside a namespace: a table listed as JSON objects, and a
// script applied as one transaction (all of it or nothing). For the rules only some configs ask for
// (macspoofchk, ipMasqBackend nftables): each use costs one process, so it stays off the paths of
// the configs that do not.
import { execInNetns, type Netns } from '../../netns/index.js';

/** One object of `nft -j list …` (a table, chain or rule), as nft prints it. */
export interface NftObject {
  table?: { family: string; name: string; handle: number };
  chain?: { family: string; table: string; name: string; handle: number; hook?: string };
  rule?: { family: string; table: string; chain: string; handle: number; comment?: string; expr?: unknown[] };
}

/** `nft -j list table FAMILY NAME`: its objects, or [] when there is no such table. */
export async function listTable(ns: Netns, family: string, table: string): Promise<NftObject[]> {
  const r = await execInNetns(ns, 'nft', ['-j', 'list', 'table', family, table], { check: false });
  if (r.status !== 0) {
    if (/No such file or directory/.test(r.stderr)) return [];
    throw new Error(`nft list table ${family} ${table}: ${r.stderr.trim() || `exit status ${r.status}`}`);
  }
  const doc = JSON.parse(r.stdout) as { nftables?: NftObject[] };
  return (doc.nftables ?? []).filter((o) => !('metainfo' in o));
}

/** `nft -f -` with `script`: one transaction. */
export async function apply(ns: Netns, script: string): Promise<void> {
  await execInNetns(ns, 'nft', ['-f', '-'], { stdin: script });
}

/** Whether `nft` is installed (STATUS). */
export async function available(ns: Netns): Promise<boolean> {
  const r = await execInNetns(ns, 'nft', ['--version'], { check: false }).catch(() => undefined);
  return r?.status === 0;
}

/** A name or comment safe inside an nft script: only these characters, else the caller hashes it. */
export const SAFE = /^[A-Za-z0-9_.-]+$/;

/** The interface a rule matches with `iifname X`, if it does. */
export function iifnameOf(rule: NftObject['rule']): string | undefined {
  for (const e of rule?.expr ?? []) {
    const m = (e as { match?: { left?: { meta?: { key?: string } }; right?: unknown } }).match;
    if (m?.left?.meta?.key === 'iifname' && typeof m.right === 'string') return m.right;
  }
  return undefined;
}

/** The chain a rule jumps to, if it does. */
export function jumpOf(rule: NftObject['rule']): string | undefined {
  for (const e of rule?.expr ?? []) {
    const j = (e as { jump?: { target?: string } }).jump;
    if (j?.target) return j.target;
  }
  return undefined;
}
