// Start-up cost of a plugin executable answering CNI_COMMAND=VERSION, against `node -e 0`: our
// entries as tsc emits them (ES modules), bundled by scripts/bundle.ts (one CommonJS file loaded
// with a V8 code cache), the library alone, and the reference Go plugin of the same name for scale.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleEntry } from '../scripts/bundle.js';
import { median, ms, p95 } from './stats.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const rel = (p: string) => p.slice(root.length + 1);

export interface StartupRow {
  label: string;
  cmd: string[];
  samples: number[];
  /** Overhead over `node -e 0` (median of the differences within a round), for Node entries. */
  overMs?: number;
  /** The tsc output, unbundled: ~60 ms heavier than the rest, measured in rounds of its own. */
  unbundled?: boolean;
}

function run(cmd: string[]): number {
  const t = performance.now();
  const r = spawnSync(cmd[0]!, cmd.slice(1), { input: '{"cniVersion":"1.1.0"}', env: { ...process.env, CNI_COMMAND: 'VERSION' }, encoding: 'utf8' });
  const dt = performance.now() - t;
  if (r.status !== 0) throw new Error(`${cmd.join(' ')}: exit ${r.status}: ${r.stderr || r.error}`);
  if (cmd[1] !== '-e' && !r.stdout.includes('supportedVersions')) throw new Error(`${cmd.join(' ')}: no VERSION answer: ${r.stdout}`);
  return dt;
}

/** The plugin entries (dist/bin/<name>.js marked "mesos-cni-plugin: <type>"). */
function pluginEntries(): { type: string; js: string }[] {
  const dir = join(root, 'dist', 'bin');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.js'))
    .map((f) => ({ js: join(dir, f), m: /mesos-cni-plugin: ([\w-]+)/.exec(readFileSync(join(dir, f), 'utf8')) }))
    .filter((x) => x.m)
    .map((x) => ({ type: x.m![1]!, js: x.js }))
    .sort((a, b) => a.type.localeCompare(b.type));
}

export async function measureStartup(runs: number): Promise<{ rows: StartupRow[]; notes: string[] }> {
  const node = process.execPath;
  const notes: string[] = [];
  const rows: StartupRow[] = [{ label: 'node -e 0', cmd: [node, '-e', '0'], samples: [] }];
  const plugins = pluginEntries();
  if (plugins.length === 0) notes.push('no bin/*.ts plugin entry exists yet: only the library-only entry is measured');
  for (const [i, p] of plugins.entries()) {
    if (i === 0) rows.push({ label: `${p.type}: ${rel(p.js)} (tsc output, ESM)`, cmd: [node, p.js], samples: [], unbundled: true });
    const b = await bundleEntry(p.js, { codeCache: true });
    if (b.note) notes.push(`${p.type}: ${b.note}`);
    rows.push({ label: `${p.type}: ${rel(b.out)} (bundled, ${b.format})`, cmd: [node, b.out], samples: [] });
  }
  const lib = join(root, 'dist', 'bench', 'version-entry.js');
  rows.push({ label: `library only: ${rel(lib)} (ESM)`, cmd: [node, lib], samples: [], unbundled: true });
  const libB = await bundleEntry(lib, { codeCache: true });
  rows.push({ label: `library only: ${rel(libB.out)} (bundled, ${libB.format})`, cmd: [node, libB.out], samples: [] });
  for (const p of plugins.slice(0, 1)) {
    const go = `/usr/lib/cni/${p.type}`;
    if (existsSync(go)) rows.push({ label: `${p.type}: ${go} (reference Go plugin)`, cmd: [go], samples: [] });
  }
  for (const r of rows) run(r.cmd); // warm the page cache
  // Rounds of every row, so drift in machine load hits every row alike, each round in a new random
  // order: a process's start is slower right after a heavy one (its exit is still being torn
  // down), which a fixed order would charge to the same row every time (the bundled bridge after
  // the unbundled one: +6 ms instead of +3). The unbundled entries get rounds of their own, with
  // their own `node -e 0`. A row's overhead is the median of its differences to `node -e 0`
  // within the same round.
  const base = rows[0]!;
  const rounds = (group: StartupRow[]) => {
    const own = new Map(group.map((r) => [r, [] as number[]]));
    for (let i = 0; i < runs; i++) for (const r of shuffled(group)) own.get(r)!.push(run(r.cmd));
    const baseline = own.get(base)!;
    for (const [r, samples] of own) {
      if (r === base) continue;
      r.samples = samples;
      if (r.cmd[0] === node) r.overMs = median(samples.map((v, i) => v - baseline[i]!));
    }
    return baseline;
  };
  base.samples = rounds(rows.filter((r) => !r.unbundled));
  rounds([base, ...rows.filter((r) => r.unbundled)]);
  return { rows, notes };
}

function shuffled<T>(xs: readonly T[]): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

export function startupTable(rows: StartupRow[]): string[][] {
  return [
    ['CNI_COMMAND=VERSION start-up', 'median ms', 'p95 ms', 'over node -e 0'],
    ...rows.map((r) => [r.label, ms(median(r.samples)), ms(p95(r.samples)), r.overMs === undefined ? '' : `${r.overMs >= 0 ? '+' : ''}${ms(r.overMs)} ms`]),
  ];
}
