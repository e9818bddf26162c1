// `mesos-cni install`: put an executable for every plugin of this package into a CNI bin dir.
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { packageRoot } from '../native/binding.js';
import { PLUGIN_MARKER } from '../cni/invoke.js';
import { PLUGIN_TYPES } from '../plugins/registry.js';

/**
 * The entry of a plugin: the one-file bundle (dist/bin/<type>.cjs) when built, else the tsc output.
 * Found from the package root, not from this module: the `mesos-cni` command runs bundled, from
 * dist/bin, where this module's own location says nothing about dist/.
 */
export function pluginEntry(type: string): string {
  const bin = join(packageRoot(), 'dist', 'bin');
  const bundle = join(bin, `${type}.cjs`);
  return existsSync(bundle) ? bundle : join(bin, `${type}.js`);
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

/** The native launcher built by binding.gyp (build/Release/mesos-cni-launcher in the package root). */
export function launcherBinary(): string {
  return join(packageRoot(), 'build', 'Release', 'mesos-cni-launcher');
}

export const LAUNCHER_MAGIC = 'MCNILNC1';

/**
 * The native launcher for `type`: the ELF image, then a trailer the loader ignores and the launcher
 * reads from /proc/self/exe (native/launcher/launcher.c): where node and the plugin's entry are for
 * the fallback, the daemon's socket, our marker; its length (u32 LE) and a magic end the file.
 */
export function launcherImage(elf: Buffer, type: string, socket: string): Buffer {
  // The marker goes last so that a reader of the file's last few KiB always sees it.
  const text = Buffer.from(`\nnode=${process.execPath}\nentry=${pluginEntry(type)}\nsocket=${socket}\n${PLUGIN_MARKER} ${type}\n`);
  const tail = Buffer.alloc(12);
  tail.writeUInt32LE(text.length, 0);
  tail.write(LAUNCHER_MAGIC, 4, 'latin1');
  return Buffer.concat([elf, text, tail]);
}

export interface LauncherOptions {
  /** The daemon's socket baked into each launcher (default /run/mesos-cni/daemon.sock). */
  socket?: string;
}

/** Install every plugin (or `only`): Node launcher scripts, or with `launcher` the native launcher. */
export async function install(dir: string, only?: string[], launcher?: LauncherOptions): Promise<string[]> {
  const types = only ?? PLUGIN_TYPES;
  const unknown = types.filter((t) => !PLUGIN_TYPES.includes(t));
  if (unknown.length) throw new Error(`install: --only: unknown plugin ${unknown.join(', ')} (have: ${PLUGIN_TYPES.join(', ')})`);
  let elf: Buffer | undefined;
  if (launcher) {
    const bin = launcherBinary();
    if (!existsSync(bin)) throw new Error(`install --launcher: ${bin} is not built (npm run build:native)`);
    elf = await readFile(bin);
  }
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const written: string[] = [];
  for (const type of types) {
    const file = join(dir, type);
    const tmp = join(dir, `.${type}.${process.pid}`);
    await writeFile(tmp, elf ? launcherImage(elf, type, launcher?.socket ?? '/run/mesos-cni/daemon.sock') : launcherText(type), { mode: 0o755 });
    await chmod(tmp, 0o755);
    await rename(tmp, file); // atomic: a runtime exec'ing it mid-install sees old or new, never half
    written.push(file);
  }
  return written;
}
