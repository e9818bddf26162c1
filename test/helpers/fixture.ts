// Test fixtures: throwaway network namespaces (a fake host and its containers), removed after the
// test whether it passes or fails. Tests never touch the machine's own root namespace.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import test, { type ExecutionContext } from 'ava';
import * as netns from '../../lib/netns/index.js';
import { NetlinkHandle } from '../../lib/netlink/index.js';

export const isRoot = process.getuid?.() === 0;

/** `test` when root; otherwise the test is registered as skipped with the reason in its title. */
export const rootTest: typeof test = isRoot
  ? test
  : (Object.assign((title: string, ..._rest: unknown[]) => test.skip(`${title} (skipped: needs root)`, () => {}), {
      serial: (title: string) => test.skip(`${title} (skipped: needs root)`, () => {}),
    }) as unknown as typeof test);

let seq = 0;
/** A short name unique across parallel test files (pid-based), usable for links (≤ 15 chars). */
export function uniq(prefix: string): string {
  return `${prefix}${process.pid.toString(36)}${(seq++).toString(36)}`.slice(0, 15);
}

export interface TestNs {
  name: string;
  path: string;
  ns: netns.Netns;
  nl: NetlinkHandle;
}

/** Create `count` namespaces with an open Netns and netlink handle each; all removed at teardown. */
export async function namespaces(t: ExecutionContext, count: number, prefix = 'mt'): Promise<TestNs[]> {
  const out: TestNs[] = [];
  t.teardown(async () => {
    for (const n of out) {
      n.nl.close();
      n.ns.close();
      await netns.del(n.path);
    }
  });
  for (let i = 0; i < count; i++) {
    const name = uniq(prefix);
    const path = await netns.add(name);
    const ns = await netns.open(path);
    out.push({ name, path, ns, nl: await NetlinkHandle.open(ns) });
  }
  return out;
}

const execFileP = promisify(execFile);

/**
 * nftables' own `nft`, by its path: under npm (`npm test`) node_modules/.bin comes first on PATH,
 * and there `nft` is ava's @vercel/nft (a file tracer), which exits 0 on any argument.
 */
export const NFT = '/usr/sbin/nft';

/** Run a command inside a namespace (`ip netns exec`), for oracles and traffic in tests. */
export async function nsExec(ns: TestNs | string, cmd: string[], opts: { timeoutMs?: number } = {}): Promise<string> {
  const name = typeof ns === 'string' ? ns : ns.name;
  const { stdout } = await execFileP('ip', ['netns', 'exec', name, ...cmd], { timeout: opts.timeoutMs ?? 10_000 });
  return stdout;
}

/** `ip -j ...` inside a namespace, parsed: an independent view of kernel state. */
export async function ipJson<T = unknown>(ns: TestNs, args: string[]): Promise<T> {
  const { stdout } = await execFileP('ip', ['-n', ns.name, '-j', ...args]);
  return JSON.parse(stdout || '[]') as T;
}
