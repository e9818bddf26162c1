// The Contrail records of a ZooKeeper-backed master as stored (records/<key> and their claim
// znodes under claims/record), read and written from inside a Cluster's namespace
// (zk-records-cli.ts), for tests that inspect the store or plant a conflict in it.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Cluster } from './cluster.js';

const execFileP = promisify(execFile);
const CLI = fileURLToPath(new URL('./zk-records-cli.js', import.meta.url));

export interface StoredRecordJson {
  key: string;
  claims: string[];
  value: any;
}

export interface ZkRecords {
  /** By znode name (the URI-encoded key). */
  records: Record<string, StoredRecordJson>;
  /** Claim znode name (URI-encoded claim) → the key of the record holding it. */
  claims: Record<string, string>;
  /** The version of `meta`: one more per commit. */
  meta: number;
}

export type ZkOp = { op: 'create'; path: string; data: unknown } | { op: 'remove'; path: string };

async function run(c: Cluster, root: string, args: string[]): Promise<any> {
  const { stdout } = await execFileP('ip', ['netns', 'exec', c.ns, process.execPath, CLI, c.zkConnect, root, ...args], { timeout: 30_000 });
  return JSON.parse(stdout);
}

export const zkRecords = (c: Cluster, root: string): Promise<ZkRecords> => run(c, root, ['dump']);

/** One multi-op under `root` (paths relative to it); a refusal is returned, not thrown. */
export const zkMulti = (c: Cluster, root: string, ops: ZkOp[]): Promise<{ ok: true } | { error: string; code: number | null }> => run(c, root, ['multi', JSON.stringify(ops)]);

/** The znode path of a record (records/<URI-encoded key>) and of a claim (claims/record/<URI-encoded claim>). */
export const recordPath = (key: string): string => `records/${encodeURIComponent(key)}`;
export const claimPath = (claim: string): string => `claims/record/${encodeURIComponent(claim)}`;
