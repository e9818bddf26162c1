// Port files, upstream's layout: <config-dir>/<container name>/<vmi-uuid> holding the port message
// (what the vRouter agent re-reads after a restart). Written whole (temporary file, rename); the
// directory 0755 (upstream made it 0644, a directory nobody but root could enter). Local mode keeps
// its records here too, in the same layout, with a `local` section of its own.
import { readdir, readFile, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeAtomic } from '../../fs/atomic.js';
import { mkdirp } from '../../fs/mkdir.js';
import { removeFile } from '../../fs/remove.js';

export const portDir = (configDir: string, name: string): string => join(configDir, name);
export const portFile = (configDir: string, name: string, vmiUuid: string): string => join(configDir, name, vmiUuid);

export async function writePort(configDir: string, name: string, vmiUuid: string, text: string): Promise<void> {
  await mkdirp(portDir(configDir, name), 0o755);
  await writeAtomic(portFile(configDir, name, vmiUuid), text, 0o644);
}

/** Every port file of a container: [vmi-uuid, parsed content]; none when the directory is absent. */
export async function readPorts<T>(configDir: string, name: string): Promise<[string, T][]> {
  let names: string[];
  try {
    names = (await readdir(portDir(configDir, name))).filter((n) => !n.startsWith('.')).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const out: [string, T][] = [];
  for (const n of names) {
    try {
      out.push([n, JSON.parse(await readFile(portFile(configDir, name, n), 'utf8')) as T]);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue; // removed meanwhile
      throw new Error(`port file ${portFile(configDir, name, n)}: ${(e as Error).message}`);
    }
  }
  return out;
}

/** Remove a port file, then the container's directory when it is empty. */
export async function removePort(configDir: string, name: string, vmiUuid: string): Promise<void> {
  await removeFile(portFile(configDir, name, vmiUuid));
  await rmdir(portDir(configDir, name)).catch(() => undefined); // not empty, or gone: fine
}
