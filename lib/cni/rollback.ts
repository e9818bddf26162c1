// The rollback stack every ADD uses: each side effect registers its undo; on failure the undos run
// in reverse. Undo errors are logged and attached to the original error, never replace it.
import { attachUndoErrors } from '../native/errors.js';
import type { Logger } from './log.js';

interface Undo {
  what: string;
  fn: () => Promise<unknown>;
}

export class Rollback {
  #undos: Undo[] = [];

  constructor(private readonly log?: Logger) {}

  /** Register how to undo a step that just succeeded. */
  push(what: string, fn: () => Promise<unknown>): void {
    this.#undos.push({ what, fn });
  }

  /** Run every undo, newest first; returns the ones that failed. */
  async unwind(): Promise<Error[]> {
    const failed: Error[] = [];
    for (const u of this.#undos.reverse()) {
      try {
        await u.fn();
      } catch (e) {
        const err = new Error(`undo ${u.what}: ${(e as Error).message}`, { cause: e });
        this.log?.error('rollback step failed', { step: u.what, error: (e as Error).message });
        failed.push(err);
      }
    }
    this.#undos = [];
    return failed;
  }

  /** Run `body`; if it throws, unwind and rethrow the original error with `undoErrors` attached. */
  static async guard<T>(log: Logger | undefined, body: (rb: Rollback) => Promise<T>): Promise<T> {
    const rb = new Rollback(log);
    try {
      return await body(rb);
    } catch (e) {
      attachUndoErrors(e, await rb.unwind());
      throw e;
    }
  }
}
