// nftables through the `nft` command inside a namespace: a table listed as JSON objects, and a
// script applied as one transaction (all of it or nothing). For the rules only some configs ask for
// (macspoofchk, ipMasqBackend nftables): each use costs one process, so it stays off the paths of
// the configs that do not.
import { accessSync, constants } from 'node:fs';
import { execInNetns, which, type Netns } from '../../netns/index.js';

// The nftables tool is a system binary: the sbin directories first, so an unrelated `nft` earlier in
// a runtime's PATH (node_modules/.bin has one) is never run; then PATH.
const NFT_DIRS = ['/usr/sbin', '/sbin', '/usr/local/sbin'];
let nftBin: Promise<string> | undefined;
function nft(): Promise<string> {
  // Synchronously, as `which` asks (a few microseconds each; asynchronously, an event-loop turn each).
  nftBin ??= (async () => {
    for (const d of NFT_DIRS) {
      try {
        accessSync(`${d}/nft`, constants.X_OK);
        return `${d}/nft`;
      } catch {
        // not in this directory
      }
    }
    return which('nft');
  })();
  return nftBin;
}

/** One object of `nft -j list …` (a table, chain or rule), as nft prints it. */
export interface NftObject {
  table?: { family: string; name: string; handle: number };
  chain?: { family: string; table: string; name: string; handle: number; hook?: string };
  rule?: { family: string; table: string; chain: string; handle: number; comment?: string; expr?: unknown[] };
}

/** `nft -j list table FAMILY NAME`: its objects, or [] when there is no such table. */
export async function listTable(ns: Netns, family: string, table: string): Promise<NftObject[]> {
  const r = await execInNetns(ns, await nft(), ['-j', 'list', 'table', family, table], { check: false });
  if (r.status !== 0) {
    if (/No such file or directory/.test(r.stderr)) return [];
    throw new Error(`nft list table ${family} ${table}: ${r.stderr.trim() || `exit status ${r.status}`}`);
  }
  let doc: { nftables?: NftObject[] };
  try {
    doc = JSON.parse(r.stdout) as { nftables?: NftObject[] };
  } catch (e) {
    throw new Error(`nft -j list table ${family} ${table}: ${(e as Error).message} (stdout ${JSON.stringify(r.stdout.slice(0, 200))}, stderr ${JSON.stringify(r.stderr.slice(0, 200))})`);
  }
  return (doc.nftables ?? []).filter((o) => !('metainfo' in o));
}

/** `nft -f -` with `script`: one transaction. */
export async function apply(ns: Netns, script: string): Promise<void> {
  await execInNetns(ns, await nft(), ['-f', '-'], { stdin: script });
}

/** Whether an `nft` executable is there (no process). */
export async function installed(): Promise<boolean> {
  return nft().then(() => true, () => false);
}

/** Whether `nft` is installed and runs (STATUS). */
export async function available(ns: Netns): Promise<boolean> {
  const r = await execInNetns(ns, await nft().catch(() => 'nft'), ['--version'], { check: false }).catch(() => undefined);
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
