// What each plugin executable carries: its bundle (scripts/bundle.ts, built by `npm test`) holds
// the plugins its entry runs in-process (bin/*.ts, lib/plugins/loaders.ts) and no other plugin's
// code, which every start would read and deserialise from the code cache. esbuild marks each
// module it inlines with a `// dist/lib/...` comment line.
import test from 'ava';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, watch } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleEntry } from '../../../scripts/bundle.js';
import { callPlugin } from '../../helpers/cni.js';

const binDir = new URL('../../../bin/', import.meta.url).pathname;

function pluginsIn(entry: string): string[] {
  const text = readFileSync(`${binDir}${entry}.bundle.cjs`, 'utf8');
  return [...new Set([...text.matchAll(/^\/\/ dist\/lib\/plugins\/([a-z0-9-]+)\//gm)].map((m) => m[1]!))].filter((p) => p !== 'shared').sort();
}

const expected: Record<string, string[]> = {
  'host-local': ['host-local'],
  bridge: ['bridge', 'host-local'],
  macvtap: ['host-local', 'macvtap'],
  mesos: ['bridge', 'host-local', 'macvtap', 'mesos'],
  'mesos-cni-port-mapper': ['bridge', 'host-local', 'port-mapper'],
  'dcos-l4lb': ['bridge', 'dcos-l4lb', 'host-local', 'port-mapper'],
  'contrail-cni-plugin': ['contrail'],
};

for (const [entry, plugins] of Object.entries(expected)) {
  test(`the ${entry} executable carries the plugins it runs in-process and no other: ${plugins.join(', ')}`, (t) => {
    t.true(existsSync(`${binDir}${entry}.bundle.cjs`), 'built by npm run build:ts');
    t.deepEqual(pluginsIn(entry), plugins);
  });
}

test('the bridge executable carries no ZooKeeper client, overlay or contrail code', (t) => {
  const text = readFileSync(`${binDir}bridge.bundle.cjs`, 'utf8');
  t.notRegex(text, /^\/\/ dist\/lib\/(overlay|plugins\/contrail)\//m);
  t.notRegex(text, /node-zookeeper-client/);
});

test('an executable run while its bundle is rebuilt in place answers every time (each file replaced whole, never rewritten), and no temporary is left', async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'mcni-bundle-'));
  t.teardown(() => rmSync(out, { recursive: true, force: true }));
  const entry = join(binDir, 'host-local.js');
  await bundleEntry(entry, { outDir: out, codeCache: true });
  const runs: { exitCode: number; stderr: string }[] = [];
  let stop = false;
  const calls = (async () => {
    while (!stop) runs.push(await callPlugin(join(out, 'host-local.cjs'), { cniVersion: '1.1.0' }, { command: 'VERSION' }));
  })();
  // What the directory sees: a file replaced by a rename, or written in place ('change' under its
  // own name, where a reader can find it half-written).
  const changed = new Set<string>();
  const watcher = watch(out, (type, name) => {
    if (type === 'change' && name && !name.includes('.tmp')) changed.add(name);
  });
  for (let i = 0; i < 4; i++) await bundleEntry(entry, { outDir: out, codeCache: true });
  await new Promise((r) => setTimeout(r, 100));
  watcher.close();
  stop = true;
  await calls;
  t.deepEqual([...changed], [], 'no file written in place');
  t.true(runs.length > 0);
  t.deepEqual(runs.filter((r) => r.exitCode !== 0), []);
  t.deepEqual(readdirSync(out).filter((f) => f.includes('.tmp')), []);
  t.true(existsSync(join(out, 'host-local.bundle.cjs.v8cache')));
});
