// Per-key serialisation: jobs with the same key (a container ID) run one after another in arrival
// order, jobs with different keys run concurrently. A repeated ADD or an ADD racing its DEL then
// sees the state the previous one left, as it would if the runtime had waited for it.
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
  run<T>(key: string | undefined, job: () => Promise<T>): Promise<T> {
    const start = () => {
      this.#running++;
      return job().finally(() => this.#running--);
    };
    if (key === undefined) return start();
    const prev = this.#tails.get(key) ?? Promise.resolve();
    const result = prev.then(start, start);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.#tails.set(key, tail);
    // Forget the key once nothing else queued behind this job, so idle containers cost nothing.
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }
}
