// The state file: written atomically and coalesced, read back, anything unusable reported.
import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadState, StateWriter, statePath, STATE_FORMAT } from '../../../../lib/overlay/agent/state-file.js';

function tmp(t: import('ava').ExecutionContext): string {
  const d = mkdtempSync(join(tmpdir(), 'oa-state-'));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

test('saves coalesce (the latest wins) and flush writes now; load reads it back', async (t) => {
  const dir = join(tmp(t), 'sub');
  const w = new StateWriter(dir, (e) => t.fail(e.message), 10_000);
  for (let v = 1; v <= 5; v++) w.save({ format: STATE_FORMAT, ip: '10.0.0.1', epoch: 'e', version: v, agents: [] });
  await w.flush();
  t.is(JSON.parse(readFileSync(statePath(dir), 'utf8')).version, 5);
  const { state, problem } = await loadState(dir);
  t.is(problem, '');
  t.is(state?.version, 5);
});

test('absent: no problem; foreign or broken files: ignored with the reason', async (t) => {
  const dir = tmp(t);
  t.deepEqual(await loadState(dir), { problem: '' });
  writeFileSync(statePath(dir), '{');
  t.regex((await loadState(dir)).problem, /not valid JSON/);
  writeFileSync(statePath(dir), JSON.stringify({ format: 'other/1', ip: 'x', agents: [] }));
  t.regex((await loadState(dir)).problem, /not a mesos-overlay-agent\/1 file/);
  writeFileSync(statePath(dir), JSON.stringify({ format: STATE_FORMAT, ip: '10.0.0.1', agents: [{ ip: 1 }] }));
  t.regex((await loadState(dir)).problem, /without ip or overlays/);
});
