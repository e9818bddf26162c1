// Digests and random values from the addon (lib/util/digest.ts), against Node's crypto module as
// the reference: the chain names, index keys and file names they make must not change.
import test from 'ava';
import { createHash } from 'node:crypto';
import { randomBytes, randomHex, randomInt, sha256, sha256Hex, sha512Hex } from '../../../lib/util/digest.js';
import { native } from '../../../lib/native/index.js';

const inputs = ['', 'abc', 'net1' + 'a'.repeat(200), 'ünïcødé ✓', '\0binary\r\n'];

test('sha256 and sha512 of strings (as UTF-8) and bytes equal node:crypto', (t) => {
  for (const s of inputs) {
    t.is(sha256Hex(s), createHash('sha256').update(s).digest('hex'));
    t.is(sha512Hex(s), createHash('sha512').update(s).digest('hex'));
    const bytes = Buffer.from(s, 'latin1');
    t.deepEqual(sha256(bytes), createHash('sha256').update(bytes).digest());
    t.is(sha512Hex(new Uint8Array(bytes)), createHash('sha512').update(bytes).digest('hex'));
  }
});

test('an unknown algorithm or data of another type is a TypeError naming the argument', (t) => {
  t.throws(() => native.digest('md5' as 'sha256', 'x'), { instanceOf: TypeError, message: /algorithm: expected sha256 or sha512, got md5/ });
  t.throws(() => native.digest('sha256', 42 as unknown as string), { instanceOf: TypeError, message: /data: expected a string or a Uint8Array/ });
});

test('random bytes: the length asked, not all alike; more than 256 refused', (t) => {
  t.is(randomBytes(0).length, 0);
  t.is(randomHex(4).length, 8);
  const seen = new Set(Array.from({ length: 50 }, () => randomHex(8)));
  t.is(seen.size, 50);
  t.throws(() => randomBytes(257), { instanceOf: RangeError, message: /expected 0\.\.256, got 257/ });
});

test('randomInt stays in [min, max) and reaches both ends of a small range; a bad range is refused', (t) => {
  const seen = new Set<number>();
  for (let i = 0; i < 400; i++) {
    const v = randomInt(3, 7);
    t.true(v >= 3 && v < 7);
    seen.add(v);
  }
  t.deepEqual([...seen].sort(), [3, 4, 5, 6]);
  const big = randomInt(1, 2 ** 31);
  t.true(big >= 1 && big < 2 ** 31);
  t.throws(() => randomInt(5, 5), { instanceOf: RangeError });
  t.throws(() => randomInt(0, 2 ** 33), { instanceOf: RangeError });
});
