// Digests and random values for names (chains, links, files, index keys), from the addon rather
// than `node:crypto`: loading that module (and the streams under it) cost a fresh plugin process
// 3–5 ms, spent before its veth request went out. Not for secrets: nothing here needs more than
// uniqueness and the reference plugins' hash formats.
import { native } from '../native/index.js';

/** SHA-256 of `data` (a string as UTF-8). */
export const sha256 = (data: string | Uint8Array): Buffer => native.digest('sha256', data);
export const sha256Hex = (data: string | Uint8Array): string => sha256(data).toString('hex');
export const sha512Hex = (data: string | Uint8Array): string => native.digest('sha512', data).toString('hex');

/** `n` random bytes from the kernel (getrandom). */
export const randomBytes = (n: number): Buffer => native.randomBytes(n);
export const randomHex = (n: number): string => randomBytes(n).toString('hex');

/** A random integer in [min, max) (max − min ≤ 2³²), without modulo bias. */
export function randomInt(min: number, max: number): number {
  const range = max - min;
  if (!Number.isInteger(min) || !Number.isInteger(max) || range <= 0 || range > 2 ** 32) {
    throw new RangeError(`randomInt: expected integers with 0 < max − min ≤ 2^32, got [${min}, ${max})`);
  }
  const limit = 2 ** 32 - (2 ** 32 % range);
  for (;;) {
    const v = randomBytes(4).readUInt32BE(0);
    if (v < limit) return min + (v % range);
  }
}
