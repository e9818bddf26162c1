// Shared by the reliability tests: one call of a plugin as a runtime makes it (standalone, or
// through a daemon's launcher), the one-document rule every answer must follow, and leak checks.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import type { ExecResult } from '../../lib/cni/invoke.js';
import { callPlugin, ourBinDir, REFERENCE_DIR, type CniCall } from './cni.js';
import { ipJson, nsExec, type TestNs } from './fixture.js';

/** Run plugin `type` from `bin` (default: our installed Node entries) inside `host`. */
export async function run(host: TestNs, type: string, conf: object | string, c: Omit<CniCall, 'hostNs'>, bin?: string): Promise<ExecResult> {
  const dir = bin ?? (await ourBinDir());
  return callPlugin(join(dir, type), typeof conf === 'string' ? (JSON.parse(conf) as object) : conf, {
    path: `${dir}:${REFERENCE_DIR}`,
    ...c,
    hostNs: host.name,
  });
}

/**
 * What every answer must be: exit 0 with empty stdout or one JSON result, or exit 1 with one
 * `{code, msg}` document; never a stack trace on stderr. Returns the parsed document.
 */
export function oneDocument(t: ExecutionContext, r: ExecResult, what: string): { code?: number; msg?: string } | undefined {
  t.false(/\n\s+at .+:\d+:\d+\)?\n/.test(r.stderr), `${what}: a stack trace on stderr: ${r.stderr}`);
  if (r.exitCode === 0 && r.stdout === '') return undefined;
  t.true(r.exitCode === 0 || r.exitCode === 1, `${what}: exit ${r.exitCode}`);
  let doc: { code?: number; msg?: string } | undefined;
  t.notThrows(() => (doc = JSON.parse(r.stdout)), `${what}: stdout is not one JSON document: ${JSON.stringify(r.stdout)}`);
  t.true(r.stdout.endsWith('\n') && r.stdout.trim().split('\n').length === 1, `${what}: more than one line on stdout`);
  if (r.exitCode === 1) t.true(typeof doc?.code === 'number' && typeof doc?.msg === 'string', `${what}: error without code/msg: ${r.stdout}`);
  return doc;
}

/** Lease files (addresses) of network `name` under host-local dataDir `dir`. */
export async function leaseFiles(dir: string, name: string): Promise<string[]> {
  try {
    return (await readdir(join(dir, name))).filter((f) => /^[0-9a-f.:]+$/.test(f) && /\d/.test(f));
  } catch {
    return [];
  }
}

/** Links other than lo in `ns`. */
export async function links(ns: TestNs): Promise<string[]> {
  return (await ipJson<{ ifname: string }[]>(ns, ['link', 'show'])).map((l) => l.ifname).filter((n) => n !== 'lo');
}

/** The nat rules of both families in `ns` that mention `text`. */
export async function natRulesWith(ns: TestNs, text: string): Promise<string[]> {
  const out: string[] = [];
  for (const save of ['iptables-save', 'ip6tables-save']) {
    out.push(...(await nsExec(ns, [save, '-t', 'nat'])).split('\n').filter((l) => l.includes(text)));
  }
  return out;
}
