// `mesos-cni install`: put an executable for every plugin of this package into a CNI bin dir.
import { existsSync } from 'node:fs';
import { chmod, mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PLUGIN_MARKER } from '../cni/invoke.js';
import { PLUGIN_TYPES } from '../plugins/registry.js';

/** The entry of a plugin: the one-file bundle (dist/bin/<type>.cjs) when built, else the tsc output. */
export function pluginEntry(type: string): string {
  const bundle = fileURLToPath(new URL(`../../bin/${type}.cjs`, import.meta.url));
  return existsSync(bundle) ? bundle : fileURLToPath(new URL(`../../bin/${type}.js`, import.meta.url));
}

/**
 * A tiny CommonJS launcher (bin dirs have no package.json): absolute node, the marker that lets
 * our own delegations run in-process, and a load of the real entry.
 */
export function launcherText(type: string): string {
  const entry = JSON.stringify(pluginEntry(type));
  // A bin dir inside an ESM package scope makes this file ESM, where require is undefined.
  const load = entry.endsWith('.cjs"') ? `typeof require === 'function' ? require(${entry}) : import(${entry});` : `import(${entry});`;
  return `#!${process.execPath}\n// ${PLUGIN_MARKER} ${type}\n${load}\n`;
}

export async function install(dir: string, only?: string[]): Promise<string[]> {
  const types = only ?? PLUGIN_TYPES;
  const unknown = types.filter((t) => !PLUGIN_TYPES.includes(t));
  if (unknown.length) throw new Error(`install: --only: unknown plugin ${unknown.join(', ')} (have: ${PLUGIN_TYPES.join(', ')})`);
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const written: string[] = [];
  for (const type of types) {
    const file = join(dir, type);
    const tmp = join(dir, `.${type}.${process.pid}`);
    await writeFile(tmp, launcherText(type), { mode: 0o755 });
    await chmod(tmp, 0o755);
    await rename(tmp, file); // atomic: a runtime exec'ing it mid-install sees old or new, never half
    written.push(file);
  }
  return written;
}
