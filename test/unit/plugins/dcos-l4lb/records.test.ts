// The attachment records (lib/plugins/dcos-l4lb/records.ts): a network's directory goes with its
// last record and stays while another is there; a write made after it went makes it again.
import test from 'ava';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RecordStore } from '../../../../lib/plugins/dcos-l4lb/records.js';

test('the network directory goes with its last record; a later write makes it again', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'mcni-rec-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const s = new RecordStore(dir, 'net1');
  await s.write({ containerId: 'c1', ifname: 'eth0', netns: '/run/netns/a' });
  await s.write({ containerId: 'c2', ifname: 'eth0', netns: '/run/netns/b' });
  await s.remove('c1', 'eth0');
  t.deepEqual(await readdir(s.dir), ['c2@eth0'], 'another record keeps the directory');
  await s.remove('c2', 'eth0');
  t.false(existsSync(s.dir), 'the last record took the directory with it');
  await s.remove('c2', 'eth0'); // DEL twice: nothing to remove, no error
  await s.write({ containerId: 'c3', ifname: 'eth0', netns: '/run/netns/c' });
  t.deepEqual((await s.all()).map((r) => r.containerId), ['c3']);
});
