// Per-key serialisation: jobs with the same key (a container ID, a lock file) run one after another
// in arrival order, jobs with different keys run concurrently. A repeated ADD or an ADD racing its
// DEL then sees the state the previous one left, as it would if the runtime had waited for it.

export interface QueueOptions {
  /**
   * Give up waiting for the jobs ahead after this long: the job never starts and the call rejects
   * with `timeoutError()`; jobs queued behind it keep their order.
   */
  timeoutMs?: number;
  timeoutError?: () => Error;
}

export class KeyedQueue {
  readonly #tails = new Map<string, Promise<unknown>>();
  #running = 0;

  /** Jobs started and not yet settled. */
  get running(): number {
    return this.#running;
  }

  /** Keys with a job running or waiting. */
  get keys(): number {
    return this.#tails.size;
  }

  /** Run `job` after every job queued before it under `key` (undefined: no ordering). */
  run<T>(key: string | undefined, job: () => Promise<T>, opts: QueueOptions = {}): Promise<T> {
    const start = () => {
      this.#running++;
      return job().finally(() => this.#running--);
    };
    if (key === undefined) return start();
    const prev = this.#tails.get(key) ?? Promise.resolve();
    const result = waitFor(prev, opts).then(start);
    // The next job waits for the previous one as well as this one: a job that timed out waiting
    // must not let the one behind it overtake the job it was waiting for.
    const tail = Promise.all([prev, result.catch(() => undefined)]).then(() => undefined);
    this.#tails.set(key, tail);
    // Forget the key once nothing else queued behind this job, so idle keys cost nothing.
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }
}

/** `prev` settled (either way), or the timeout's error. */
function waitFor(prev: Promise<unknown>, opts: QueueOptions): Promise<void> {
  const settled = prev.then(
    () => undefined,
    () => undefined,
  );
  if (opts.timeoutMs === undefined) return settled;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(opts.timeoutError?.() ?? new Error(`waited more than ${opts.timeoutMs} ms`)), opts.timeoutMs);
  });
  return Promise.race([settled, expired]).finally(() => clearTimeout(timer));
}
