// Hostile inputs: values of every JSON type and shape, strings no field should accept (huge,
// unicode, control characters, quotes, injection aimed at iptables payloads and comments, path
// traversal), and the operations that put them into a plugin's config and environment.
import type { Rng } from './harness.js';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Strings that must never reach a payload, a comment, a file name or a link name unvalidated. */
export const INJECTIONS = [
  'x" -j ACCEPT',
  'a\n-A INPUT -j DROP',
  '"; iptables -t nat -F; "',
  '$(touch /tmp/mcni-pwned)',
  '`id`',
  '--comment "x"',
  '-j MASQUERADE',
  'CNI-x -j ACCEPT',
  'COMMIT\n*filter\n-F',
  "it's",
  'a\\b',
  'a b',
  '\t',
  'eth%d',
  '%s%n%x',
  'x'.repeat(29),
  'PREROUTING',
  'OUTPUT',
  'DNAT',
  '-',
  '!',
  '*',
  '+',
  '',
];
export const UNICODE = ['ü', 'Ω≈ç√∫', '💥🔥', 'a\u202eb', '\ufeffx', 'ｅｔｈ０', 'x\u0301', 'Ⅻ', '\ud800', 'ß'];
export const CONTROL = ['\u0001', '\u0007', '\b', '\u001b[31m', '\r', '\n', '\u007f', '\u0000', 'a\u0000b'];
export const QUOTES = ['"', "'", '\\', '\\"', '\n', '"\n"', '\\n', '`', '${x}', '}{', '[]', '{}'];
export const NAMEISH = ['..', '.', '/', 'a/b', 'a:b', '-x', '.hidden', 'lo', 'eth0', 'all', 'default', 'CON', 'a'.repeat(15), 'a'.repeat(16), 'a'.repeat(300)];

/** A hostile string: from the pools, huge, random bytes, or a mix. */
export function hostileString(r: Rng): string {
  switch (r.int(0, 7)) {
    case 0:
      return r.pick(INJECTIONS);
    case 1:
      return r.pick(UNICODE) + r.string(r.int(0, 5));
    case 2:
      return r.string(r.int(0, 3)) + r.pick(CONTROL) + r.string(r.int(0, 3));
    case 3:
      return r.pick(QUOTES);
    case 4:
      return r.pick(NAMEISH);
    case 5:
      return r.pick(['x', '€', 'ab"']).repeat(r.pick([256, 4097, 65_536, 300_000]));
    case 6: {
      let s = '';
      for (let i = r.int(1, 40); i > 0; i--) s += String.fromCharCode(r.int(1, 0x2fff));
      return s;
    }
    default:
      return r.pick(INJECTIONS) + r.pick(UNICODE) + r.pick(QUOTES);
  }
}

const NUMBERS = [0, -1, 1, 3.5, 68, 65535, 65536, 70000, 2 ** 31, 2 ** 53, -(2 ** 53), 1e308, 1e-300, 15, 241, 242];

/** Any JSON value, nested at most `depth` deep. */
export function randomValue(r: Rng, depth = 2): Json {
  switch (r.int(0, depth > 0 ? 7 : 4)) {
    case 0:
      return null;
    case 1:
      return r.chance(0.5);
    case 2:
      return r.pick(NUMBERS);
    case 3:
    case 4:
      return hostileString(r);
    case 5:
      return Array.from({ length: r.int(0, 4) }, () => randomValue(r, depth - 1));
    case 6:
      return r.chance(0.2) ? Array.from({ length: r.int(100, 3000) }, () => r.int(0, 9)) : junkObject(r, depth - 1);
    default:
      return junkObject(r, depth - 1);
  }
}

const JUNK_KEYS = ['x', 'junk', '__proto__', 'constructor', 'prototype', 'toString', '', ' ', 'ü', 'a.b', 'a"b', 'dataDir2', 'cniVersion ', 'Name', 'TYPE'];
export function junkObject(r: Rng, depth: number): { [k: string]: Json } {
  const o: { [k: string]: Json } = {};
  for (let i = r.int(0, 3); i > 0; i--) {
    const k = r.chance(0.6) ? r.pick(JUNK_KEYS) : hostileString(r).slice(0, 50);
    Object.defineProperty(o, k, { value: randomValue(r, depth), enumerable: true, writable: true, configurable: true });
  }
  return o;
}

/** A value of another JSON type than `v`. */
export function wrongType(r: Rng, v: Json): Json {
  const kind = (x: Json) => (x === null ? 'null' : Array.isArray(x) ? 'array' : typeof x);
  for (;;) {
    const w = randomValue(r, 1);
    if (kind(w) !== kind(v)) return w;
  }
}

// ---- paths in a JSON tree ----------------------------------------------------------------------

export type Path = (string | number)[];

/** Every path in the tree (objects and arrays walked), the root excluded. */
export function paths(v: Json, prefix: Path = []): Path[] {
  const out: Path[] = [];
  if (Array.isArray(v)) v.forEach((x, i) => out.push([...prefix, i], ...paths(x, [...prefix, i])));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push([...prefix, k], ...paths(x, [...prefix, k]));
  return out;
}

export function get(v: Json, p: Path): Json | undefined {
  let cur: Json | undefined = v;
  for (const k of p) cur = cur && typeof cur === 'object' ? (cur as Record<string | number, Json>)[k] : undefined;
  return cur;
}

export function set(v: Json, p: Path, value: Json | undefined): void {
  const parent = get(v, p.slice(0, -1));
  if (!parent || typeof parent !== 'object') return;
  const k = p[p.length - 1]!;
  if (value === undefined) {
    if (Array.isArray(parent)) parent.splice(Number(k), 1);
    else delete (parent as Record<string, Json>)[k];
  } else {
    Object.defineProperty(parent, k, { value, enumerable: true, writable: true, configurable: true });
  }
}

export const show = (p: Path) => p.map(String).join('.');

// ---- whole-stdin replacements ------------------------------------------------------------------

/** stdin that is not one plain JSON object: each a case a config parser must refuse or survive. */
export function brokenStdin(r: Rng, valid: string): { stdin: string; what: string } {
  switch (r.int(0, 11)) {
    case 0:
      return { stdin: '', what: 'empty stdin' };
    case 1:
      return { stdin: valid.slice(0, r.int(1, valid.length - 1)), what: 'truncated JSON' };
    case 2:
      return { stdin: `[${valid}]`, what: 'an array' };
    case 3:
      return { stdin: r.pick(['42', 'null', 'true', '"x"', '-0', '1e999']), what: 'a JSON scalar' };
    case 4:
      return { stdin: '{"a":'.repeat(r.pick([100, 5000, 200_000])) + '1' + '}'.repeat(0), what: 'deep unclosed nesting' };
    case 5: {
      const d = r.pick([1000, 20_000, 100_000]);
      return { stdin: `${valid.slice(0, -1)},"deep":${'['.repeat(d)}${']'.repeat(d)}}`, what: `nesting ${d} deep` };
    }
    case 6:
      return { stdin: `\ufeff${valid}`, what: 'a byte order mark' };
    case 7:
      return { stdin: `${valid}${valid}`, what: 'two documents' };
    case 8:
      return { stdin: valid.replace('{', '{"name":"dup","cniVersion":"9.9.9",'), what: 'duplicate keys' };
    case 9:
      return { stdin: valid.replace(/"/, '"\u0000'), what: 'a NUL byte' };
    case 10:
      return { stdin: `${valid}\n${'x'.repeat(r.pick([10, 5_000_000]))}`, what: 'trailing garbage' };
    default:
      return { stdin: Buffer.from(Array.from({ length: r.int(1, 200) }, () => r.int(0, 255))).toString('latin1'), what: 'random bytes' };
  }
}

export const CNI_VERSIONS = [undefined, '0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const;
export const BAD_VERSIONS: Json[] = ['0.0.1', '2.0.0', '1.1', '', 'v1.0.0', '1.0.0 ', 1, null, ['1.0.0'], '9'.repeat(400)];

export function randomCniArgs(r: Rng): string {
  return r.pick([
    'IgnoreUnknown=1',
    'IgnoreUnknown=1;K8S_POD_NAME=x;K8S_POD_NAMESPACE=y',
    'IP=10.0.0.5',
    'IgnoreUnknown=true;IP=999.1.1.1',
    'IP=;',
    '=;;=',
    ';;;',
    'a',
    'IgnoreUnknown=1;IP=fd00::1',
    'IgnoreUnknown=1;IP=10.0.0.1,10.0.0.2',
    `IgnoreUnknown=1;X=${'v'.repeat(60_000)}`,
    `IgnoreUnknown=1;X=${hostileString(r).replace(/\u0000/g, '').slice(0, 10_000)}`,
    hostileString(r).replace(/\u0000/g, '').slice(0, 10_000),
  ]);
}
