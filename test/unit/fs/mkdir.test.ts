// mkdirp/mkdirpSync: parents made from the top, an existing directory is fine, a file in the way and
// a procfs path fail at once (Node's recursive mkdir spins forever on the latter).
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { mkdirp, mkdirpSync } from '../../../lib/fs/mkdir.js';

for (const [name, make] of [
  ['mkdirpSync', async (d: string) => mkdirpSync(d, 0o755)],
  ['mkdirp', (d: string) => mkdirp(d, 0o755)],
] as const) {
  test(`${name}: parents, an existing directory, a file in the way, procfs`, async (t) => {
    const root = mkdtempSync(join(tmpdir(), 'mcni-mkdirp-'));
    t.teardown(() => rmSync(root, { recursive: true, force: true }));
    await make(join(root, 'a', 'b', 'c'));
    t.true(statSync(join(root, 'a', 'b', 'c')).isDirectory());
    await make(join(root, 'a', 'b'));
    writeFileSync(join(root, 'f'), '');
    await t.throwsAsync(make(join(root, 'f')), { code: 'ENOTDIR' });
    await t.throwsAsync(make(join(root, 'f', 'x')), { code: 'ENOTDIR' });
    const started = Date.now();
    await t.throwsAsync(make('/proc/self/mcni-no-such/dir'), { code: 'ENOENT' });
    t.true(Date.now() - started < 1000);
  });
}
