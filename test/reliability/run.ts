// `npm run test:reliability`: pick the seed (RELIABILITY_SEED, else a random one) so every ava
// worker uses the same, run ava on test/reliability/ (ava.reliability.config.mjs; extra arguments
// go to ava, e.g. one file), then print the counts of every category as one markdown table.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const COLUMNS = ['inputs', 'calls', 'crashes', 'hangs', 'bad outputs', 'path mismatches', 'leaks'];
const FAILURES = COLUMNS.slice(2);

interface Report {
  category: string;
  seed: number;
  n: number;
  ms: number;
  counts: Record<string, number>;
  findings: { kind: string; what: string; input: unknown }[];
}

const root = fileURLToPath(new URL('../../../', import.meta.url));
const seed = process.env.RELIABILITY_SEED || String(Math.floor(Math.random() * 2 ** 31));
const n = process.env.RELIABILITY_N || '40';
const reports = mkdtempSync(join(tmpdir(), 'mcni-rel-report-'));
const t0 = Date.now();
console.log(`# reliability suite: RELIABILITY_SEED=${seed} RELIABILITY_N=${n}`);

const ava = spawn(process.execPath, [join(root, 'node_modules', 'ava', 'entrypoints', 'cli.mjs'), '--config', 'ava.reliability.config.mjs', ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, RELIABILITY_SEED: seed, RELIABILITY_N: n, RELIABILITY_REPORT_DIR: reports },
});
const code: number = await new Promise((resolve) => ava.on('exit', (c, s) => resolve(c ?? (s ? 128 : 1))));

const rows: Report[] = readdirSync(reports)
  .filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(readFileSync(join(reports, f), 'utf8')) as Report)
  .sort((a, b) => a.category.localeCompare(b.category));
rmSync(reports, { recursive: true, force: true });
const total: Record<string, number> = Object.fromEntries(COLUMNS.map((c) => [c, rows.reduce((s, r) => s + (r.counts[c] ?? 0), 0)]));
const line = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
console.log(`\n## Reliability suite: seed ${seed}, N ${n}, ${new Date().toISOString().slice(0, 10)}, ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
console.log(line(['category', ...COLUMNS, 's']));
console.log(line(['---', ...COLUMNS.map(() => '---:'), '---:']));
for (const r of rows) console.log(line([r.category, ...COLUMNS.map((c) => r.counts[c] ?? 0), (r.ms / 1000).toFixed(0)]));
console.log(line(['**total**', ...COLUMNS.map((c) => `**${total[c]}**`), '']));
const found = FAILURES.reduce((s, c) => s + total[c]!, 0);
if (found) {
  console.log(`\n${found} finding(s); replay with RELIABILITY_SEED=${seed} RELIABILITY_N=${n} (RELIABILITY_INPUT=<index> for one fuzz input):`);
  for (const r of rows) for (const f of r.findings.slice(0, 3)) console.log(`- ${r.category}: ${f.kind}: ${f.what.slice(0, 400)}`);
}
if (!rows.length) console.log('no category reported its counts');
process.exit(code !== 0 ? code : found || !rows.length ? 1 : 0);
