// The embedded store: one directory holding one snapshot of every agent record. Each commit writes
// the whole snapshot to a temporary file, fsyncs it, renames it over the old one and fsyncs the
// directory, so after a crash at any point the file is the old state or the new one, never a mix.
// Per-agent JSON is cached, so a commit costs the I/O and a string join, not a re-serialisation.
import { open, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { StoredAgent } from '../types.js';
import { StoreError, type RecordChange, type Store, type StoreChange, type StoreHooks, type StoredRecord } from './types.js';
import { mkdirp } from '../../../fs/mkdir.js';
import { sweepTemps, writeAtomic } from '../../../fs/atomic.js';

export const STATE_FILE = 'overlay-master.json';
export const FORMAT = 'mesos-overlay-master/1';

interface Snapshot {
  format: string;
  version: number;
  agents: StoredAgent[];
  /** Other records (Contrail objects); absent in files that never held one. */
  records?: StoredRecord[];
}

/** Read a snapshot file; undefined when there is none yet. */
export async function readSnapshot(dir: string): Promise<Snapshot | undefined> {
  const file = join(dir, STATE_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new StoreError(`embedded store ${file}: ${(e as Error).message}`);
  }
  let s: Snapshot;
  try {
    s = JSON.parse(text) as Snapshot;
  } catch (e) {
    throw new StoreError(`embedded store ${file}: not valid JSON: ${(e as Error).message}`);
  }
  if (s?.format !== FORMAT || !Number.isInteger(s.version) || !Array.isArray(s.agents) || (s.records !== undefined && !Array.isArray(s.records))) {
    throw new StoreError(`embedded store ${file}: expected {"format":"${FORMAT}","version":N,"agents":[...]}, got another shape`);
  }
  return s;
}

export class EmbeddedStore implements Store {
  readonly kind = 'embedded' as const;
  readonly #records = new Map<string, string>();
  readonly #others = new Map<string, string>();
  #version = 0;

  constructor(readonly dir: string) {}

  get location(): string {
    return join(this.dir, STATE_FILE);
  }

  /** The snapshot's version: one more per commit. */
  get version(): number {
    return this.#version;
  }

  async start(hooks: StoreHooks): Promise<void> {
    await mkdirp(this.dir, 0o755);
    // A temporary file left by a crash mid-write is never the state: the rename did not happen.
    // (`state.json.tmp<pid>` is the name versions before writeAtomic used.)
    await sweepTemps(this.dir);
    for (const f of await readdir(this.dir)) if (f.startsWith(`${STATE_FILE}.tmp`)) await rm(join(this.dir, f), { force: true });
    const snap = await readSnapshot(this.dir);
    this.#version = snap?.version ?? 0;
    for (const a of snap?.agents ?? []) this.#records.set(a.ip, JSON.stringify(a));
    for (const r of snap?.records ?? []) this.#others.set(r.key, JSON.stringify(r));
    hooks.lead(snap?.agents ?? [], snap?.records ?? []);
  }

  async commit(changes: StoreChange[], records: RecordChange[] = []): Promise<void> {
    const next = new Map(this.#records);
    for (const c of changes) {
      if (c.after) next.set(c.ip, JSON.stringify(c.after));
      else next.delete(c.ip);
    }
    const others = new Map(this.#others);
    for (const r of records) {
      if (r.after) others.set(r.key, JSON.stringify(r.after));
      else others.delete(r.key);
    }
    const version = this.#version + 1;
    const tail = others.size > 0 ? `,"records":[${[...others.values()].join(',')}]` : '';
    const text = `{"format":"${FORMAT}","version":${version},"agents":[${[...next.values()].join(',')}]${tail}}\n`;
    const file = join(this.dir, STATE_FILE);
    try {
      await writeAtomic(file, text, 0o600);
      // The rename is durable once the directory is: an acknowledged allocation survives power loss.
      const d = await open(this.dir, 'r');
      try {
        await d.sync();
      } finally {
        await d.close();
      }
    } catch (e) {
      throw new StoreError(`embedded store ${file}: write: ${(e as Error).message}`);
    }
    this.#records.clear();
    for (const [k, v] of next) this.#records.set(k, v);
    this.#others.clear();
    for (const [k, v] of others) this.#others.set(k, v);
    this.#version = version;
  }

  async close(): Promise<void> {}
}
