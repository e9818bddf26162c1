// A pool of numbered slots [0, size) that hands out the lowest free one: a sorted array of the
// taken slots. Allocation is lowest-free, so the taken set is dense from 0 and the first gap is
// found by binary search (taken[i] === i holds exactly up to the gap).

export class Pool {
  #taken: bigint[];

  constructor(
    readonly size: bigint,
    taken: bigint[] = [],
  ) {
    this.#taken = taken;
  }

  clone(): Pool {
    return new Pool(this.size, this.#taken.slice());
  }

  get used(): number {
    return this.#taken.length;
  }

  get free(): bigint {
    return this.size - BigInt(this.#taken.length);
  }

  #index(slot: bigint): number {
    let lo = 0;
    let hi = this.#taken.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.#taken[mid]! < slot) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  has(slot: bigint): boolean {
    const i = this.#index(slot);
    return this.#taken[i] === slot;
  }

  /** Take the lowest free slot; undefined when the pool is exhausted. */
  take(): bigint | undefined {
    // First index i where taken[i] !== i: everything before it is the dense run 0..i-1.
    let lo = 0;
    let hi = this.#taken.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.#taken[mid] === BigInt(mid)) lo = mid + 1;
      else hi = mid;
    }
    const slot = BigInt(lo);
    if (slot >= this.size) return undefined;
    this.#taken.splice(lo, 0, slot);
    return slot;
  }

  /** Take a given slot; false when it is out of range or already taken. */
  reserve(slot: bigint): boolean {
    if (slot < 0n || slot >= this.size) return false;
    const i = this.#index(slot);
    if (this.#taken[i] === slot) return false;
    this.#taken.splice(i, 0, slot);
    return true;
  }

  /** Give a slot back; false when it was not taken. */
  release(slot: bigint): boolean {
    const i = this.#index(slot);
    if (this.#taken[i] !== slot) return false;
    this.#taken.splice(i, 1);
    return true;
  }
}
