// Bundles each executable entry (dist/bin/<name>.js, emitted by tsc) into one file, so a plugin
// starts without resolving and reading dozens of ES modules: dist/bin/<name>.cjs when the entry
// allows it (CommonJS also skips Node 20's ESM loader, ~8 ms here), else dist/bin/<name>.bundle.mjs.
// The addon stays a separate .node file, found by lib/native/binding.ts from the package root.
import { build, type BuildOptions, type Plugin } from 'esbuild';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface Bundled {
  entry: string;
  out: string;
  format: 'cjs' | 'esm';
  /** Why the entry could not be CommonJS (e.g. top-level await), when it is ESM. */
  note?: string;
}

const common: BuildOptions = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  // Native addons and node-gyp-build are resolved at run time from the package, not inlined.
  external: ['*.node', 'node-gyp-build'],
  logLevel: 'silent',
  legalComments: 'none',
};

/**
 * An entry's own top-level `await main(...)` (a statement at column 0 of the entry file) becomes
 * `void main(...)`, which CommonJS allows: the promise still runs to completion and a rejection
 * still ends the process with exit status 1. Top-level await anywhere else keeps the bundle ESM.
 */
function entryAwaitToVoid(entry: string): Plugin {
  return {
    name: 'entry-await-to-void',
    setup(b) {
      b.onLoad({ filter: /\.js$/ }, (args) => {
        if (args.path !== entry) return undefined;
        const text = readFileSync(args.path, 'utf8');
        return { contents: text.replace(/^await\s+/gm, 'void '), loader: 'js' };
      });
    },
  };
}

// Built-in modules that Node 20 does not load at bootstrap and that a plugin needs only on some
// paths (child_process to exec a delegate, crypto for a random name, ...): ~1.5-4 ms each here.
const LAZY_BUILTINS = ['child_process', 'crypto', 'fs/promises', 'net', 'dgram', 'dns', 'readline', 'stream', 'zlib', 'http', 'https', 'os', 'worker_threads'];
const nodeRequire = createRequire(import.meta.url);

/**
 * CommonJS builds only: each of LAZY_BUILTINS becomes a proxy that loads the real module on the
 * first property read. The code only uses named imports, which esbuild turns into getters reading
 * the module at the call site; the export names are taken from this Node at bundle time, so
 * esbuild's interop can list them without loading anything.
 */
const lazyBuiltins: Plugin = {
  name: 'lazy-builtins',
  setup(b) {
    const filter = new RegExp(`^(node:)?(${LAZY_BUILTINS.map((m) => m.replace('/', '\\/')).join('|')})$`);
    // The shim's own require of the real module must stay a plain external require; resolving it
    // into the shim again would make every property read recurse forever.
    b.onResolve({ filter }, (args) =>
      args.namespace === 'lazy-builtin' ? { path: args.path, external: true } : { path: args.path.replace(/^node:/, ''), namespace: 'lazy-builtin' },
    );
    b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (args) => {
      const keys = Object.keys(nodeRequire(`node:${args.path}`) as object);
      return {
        loader: 'js',
        contents: `const keys = ${JSON.stringify(keys)};
let real;
const load = () => (real ??= require(${JSON.stringify(`node:${args.path}`)}));
module.exports = new Proxy({}, {
  get: (_, k) => (k === '__esModule' ? undefined : load()[k]),
  has: (_, k) => k in load(),
  ownKeys: () => keys,
  getOwnPropertyDescriptor: (_, k) => (keys.includes(k) ? { configurable: true, enumerable: true, writable: false, value: undefined } : undefined),
  getPrototypeOf: () => Object.prototype,
});
`,
      };
    });
  },
};

/** Bundle one compiled entry; tries CommonJS first. */
export async function bundleEntry(entry: string, outDir = dirname(entry)): Promise<Bundled> {
  const name = basename(entry).replace(/\.m?js$/, '');
  const cjs = join(outDir, `${name}.cjs`);
  try {
    await build({
      ...common,
      entryPoints: [entry],
      outfile: cjs,
      format: 'cjs',
      plugins: [entryAwaitToVoid(resolve(entry)), lazyBuiltins],
      // lib/native/binding.ts finds the package root from import.meta.url.
      define: { 'import.meta.url': '__mcniModuleUrl' },
      banner: { js: '"use strict";var __mcniModuleUrl=require("node:url").pathToFileURL(__filename).href;' },
    });
    return { entry, out: cjs, format: 'cjs' };
  } catch (e) {
    const text = (e as { errors?: { text: string }[] }).errors?.map((x) => x.text).join('; ') ?? String(e);
    if (!/top-level await/i.test(text)) throw e;
    const esm = join(outDir, `${name}.bundle.mjs`);
    await build({ ...common, entryPoints: [entry], outfile: esm, format: 'esm' });
    return { entry, out: esm, format: 'esm', note: 'top-level await other than a leading `await` statement keeps it ESM (Node 20 then also starts its ESM loader)' };
  }
}

/** Bundle every dist/bin/*.js. */
export async function bundleAll(): Promise<Bundled[]> {
  const dir = join(root, 'dist', 'bin');
  if (!existsSync(dir)) return [];
  const entries = readdirSync(dir).filter((f) => f.endsWith('.js'));
  return Promise.all(entries.map((f) => bundleEntry(join(dir, f))));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const t = performance.now();
  const done = await bundleAll();
  for (const b of done) {
    console.log(`bundle: ${b.out.slice(root.length + 1)} (${b.format})${b.note ? `: ${b.note}` : ''}`);
  }
  console.log(`bundle: ${done.length} entr${done.length === 1 ? 'y' : 'ies'} in ${(performance.now() - t).toFixed(0)} ms`);
}
