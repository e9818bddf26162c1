// What the agent last knew, kept across restarts (and kill -9) in `<state_dir>/state.json`: its
// identity, every agent's record as the master served it, and the watch position. A restarted
// agent serves and repairs its data plane from it before the master answers (adding only: nothing
// is withdrawn until the master's own view arrives), and resumes the watch with a delta. Overlay
// states are not kept: like upstream, a restarted agent configures every overlay again.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AgentInfo } from '../master/types.js';
import { writeAtomic } from '../../fs/atomic.js';
import { mkdirp } from '../../fs/mkdir.js';

export const STATE_FORMAT = 'mesos-overlay-agent/1';

export interface SavedState {
  format: typeof STATE_FORMAT;
  ip: string;
  epoch?: string;
  version?: number;
  agents: AgentInfo[];
}

export const statePath = (dir: string): string => join(dir, 'state.json');

/** The saved state, or why there is none usable ('' when the file does not exist). */
export async function loadState(dir: string): Promise<{ state?: SavedState; problem: string }> {
  let text: string;
  try {
    text = await readFile(statePath(dir), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { problem: '' };
    return { problem: `${statePath(dir)}: ${(e as Error).message}` };
  }
  try {
    const s = JSON.parse(text) as SavedState;
    if (s?.format !== STATE_FORMAT || typeof s.ip !== 'string' || !Array.isArray(s.agents)) return { problem: `${statePath(dir)}: not a ${STATE_FORMAT} file` };
    if (!s.agents.every((a) => typeof a?.ip === 'string' && Array.isArray(a.overlays))) return { problem: `${statePath(dir)}: an agent record without ip or overlays` };
    return { state: s, problem: '' };
  } catch (e) {
    return { problem: `${statePath(dir)}: not valid JSON: ${(e as Error).message}` };
  }
}

/**
 * Writes at most one file at a time and at most every `minGapMs`; the latest state asked for is
 * the one written. `flush()` writes what is pending now (SIGTERM).
 */
export class StateWriter {
  #pending: SavedState | undefined;
  #writing: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #last = 0;

  constructor(
    readonly dir: string,
    readonly onError: (e: Error) => void,
    readonly minGapMs = 1000,
  ) {}

  save(s: SavedState): void {
    this.#pending = s;
    if (this.#writing || this.#timer) return;
    const wait = Math.max(0, this.#last + this.minGapMs - Date.now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#write();
    }, wait);
  }

  async #write(): Promise<void> {
    const s = this.#pending;
    if (!s) return;
    this.#pending = undefined;
    this.#writing = (async () => {
      try {
        await mkdirp(this.dir, 0o700);
        await writeAtomic(statePath(this.dir), JSON.stringify(s));
      } catch (e) {
        this.onError(e as Error);
      }
    })();
    await this.#writing;
    this.#writing = undefined;
    this.#last = Date.now();
    if (this.#pending) this.save(this.#pending);
  }

  async flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    while (this.#writing) await this.#writing;
    await this.#write();
  }
}
