// What each plugin executable carries: its bundle (scripts/bundle.ts, built by `npm test`) holds
// the plugins its entry runs in-process (bin/*.ts, lib/plugins/loaders.ts) and no other plugin's
// code, which every start would read and deserialise from the code cache. esbuild marks each
// module it inlines with a `// dist/lib/...` comment line.
import test from 'ava';
import { existsSync, readFileSync } from 'node:fs';

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
