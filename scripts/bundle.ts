// Bundles each executable entry (dist/bin/<name>.js, emitted by tsc) into one file, so a plugin
// starts without resolving and reading dozens of ES modules: dist/bin/<name>.bundle.cjs, run by the
// small loader dist/bin/<name>.cjs with a V8 code cache, when the entry allows CommonJS (which also
// skips Node 20's ESM loader, ~8 ms here); else dist/bin/<name>.bundle.mjs.
// The addon stays a separate .node file, found by lib/native/binding.ts from the package root.
import { build, type BuildOptions, type Plugin } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
  // Native addons and node-gyp-build are resolved at run time from the package, not inlined; so
  // is the ZooKeeper client (with underscore and async, a third of a plugin bundle), which only
  // the daemons and a plugin given a zk:// master load: every plugin start would otherwise pay for
  // its code cache.
  external: ['*.node', 'node-gyp-build', 'node-zookeeper-client'],
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
const LAZY_BUILTINS = ['child_process', 'crypto', 'fs/promises', 'module', 'net', 'dgram', 'dns', 'readline', 'stream', 'zlib', 'http', 'https', 'os', 'worker_threads'];
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

/**
 * `<name>.cjs` for a CommonJS bundle: loads `<name>.bundle.cjs` through V8's code cache
 * (`<name>.bundle.cjs.v8cache`, written once at build time by a VERSION run, with every function
 * compiled), because Node 20 has no compile cache of its own: compiling the bundle is ~5 ms of
 * every start here, and compiling lazily what ADD and DEL run was another ~60 M instructions. A
 * missing or rejected cache (another Node or V8 flags) only means a normal compile. Runs never
 * write it. The bundle is compiled exactly as it is on disk (wrapBody), read as `encoding`.
 */
function loaderText(bundleFile: string, encoding: 'latin1' | 'utf8'): string {
  return `#!/usr/bin/env node
"use strict";
// Generated by scripts/bundle.ts: runs ${bundleFile} with V8's code cache when it matches.
const { readFileSync, writeFileSync } = require("node:fs");
const { Script } = require("node:vm");
const file = require("node:path").join(__dirname, ${JSON.stringify(bundleFile)});
const cacheFile = file + ".v8cache";
let cachedData;
try {
  cachedData = readFileSync(cacheFile);
} catch {}
const source = readFileSync(file, ${JSON.stringify(encoding)});
const writing = process.env.MESOS_CNI_WRITE_CODE_CACHE === "1";
// Writing: compile every function now (not only those a VERSION run calls), so that ADD and DEL
// find their bytecode in the cache too; back to lazy before the cache is made, whose header
// carries the flags' hash (a cache made under --no-lazy is rejected by a normal run).
if (writing) require("node:v8").setFlagsFromString("--no-lazy");
const script = new Script(source, { filename: file, cachedData });
if (writing) {
  require("node:v8").setFlagsFromString("--lazy");
  process.once("exit", () => writeFileSync(cacheFile, script.createCachedData()));
}
script.runInThisContext().call(module.exports, module.exports, require, module, file, __dirname);
`;
}

/**
 * Rewrite a CommonJS bundle as the loader compiles it: inside CommonJS's module function already
 * (no shebang to strip and no copy of 0.4 MB into a wrapped string at every start), and tell how
 * the loader reads it: as latin1 when it is ASCII (esbuild escapes anything else by default),
 * which Node turns into a string faster than it decodes UTF-8 (~0.2 ms of 0.9 here).
 */
function wrapBody(body: string, loader: string): 'latin1' | 'utf8' {
  const text = readFileSync(body, 'utf8').replace(/^#!.*/, '');
  writeFileSync(
    body,
    `// Run by ${loader} (not directly): the module function it calls with CommonJS's arguments.\n` +
      `(function (exports, require, module, __filename, __dirname) { ${text}\n});`,
  );
  return /^[\x00-\x7f]*$/.test(text) ? 'latin1' : 'utf8';
}

/** Run a plugin entry once (CNI VERSION) so that its loader writes the code cache. */
function writeCodeCache(loader: string): string | undefined {
  const r = spawnSync(process.execPath, [loader], {
    input: '{"cniVersion":"1.1.0"}',
    env: { ...process.env, CNI_COMMAND: 'VERSION', MESOS_CNI_WRITE_CODE_CACHE: '1' },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return r.status === 0 ? undefined : `no code cache (VERSION run: exit ${r.status}: ${(r.stderr || String(r.error)).trim().slice(0, 200)})`;
}

export interface BundleOptions {
  outDir?: string;
  /** Write a V8 code cache by running the entry once with CNI_COMMAND=VERSION (plugin entries only). */
  codeCache?: boolean;
}

/** Bundle one compiled entry; tries CommonJS first. */
export async function bundleEntry(entry: string, opts: BundleOptions = {}): Promise<Bundled> {
  const outDir = opts.outDir ?? dirname(entry);
  const name = basename(entry).replace(/\.m?js$/, '');
  const cjs = join(outDir, `${name}.cjs`);
  const body = join(outDir, `${name}.bundle.cjs`);
  rmSync(`${body}.v8cache`, { force: true });
  try {
    await build({
      ...common,
      entryPoints: [entry],
      outfile: body,
      format: 'cjs',
      plugins: [entryAwaitToVoid(resolve(entry)), lazyBuiltins],
      // lib/native/binding.ts finds the package root from import.meta.dirname: in CommonJS the
      // module's own __dirname. import.meta.url is a file URL made only when read (making one
      // at every start was ~0.5 ms).
      define: { 'import.meta.dirname': '__dirname', 'import.meta.filename': '__filename', 'import.meta.url': '__mcniMeta.url' },
      banner: { js: '"use strict";var __mcniMeta={get url(){return require("node:url").pathToFileURL(__filename).href}};' },
    });
  } catch (e) {
    const text = (e as { errors?: { text: string }[] }).errors?.map((x) => x.text).join('; ') ?? String(e);
    if (!/top-level await/i.test(text)) throw e;
    const esm = join(outDir, `${name}.bundle.mjs`);
    // CommonJS dependencies bundled into ESM (node-zookeeper-client) still call require() for
    // built-ins; esbuild's shim uses a `require` in scope, which ESM lacks: give it Node's.
    const banner = { js: 'import { createRequire as __mcniCreateRequire } from "node:module"; const require = __mcniCreateRequire(import.meta.url);' };
    await build({ ...common, entryPoints: [entry], outfile: esm, format: 'esm', banner });
    return { entry, out: esm, format: 'esm', note: 'top-level await other than a leading `await` statement keeps it ESM (Node 20 then also starts its ESM loader)' };
  }
  writeFileSync(cjs, loaderText(basename(body), wrapBody(body, basename(cjs))), { mode: 0o755 });
  const note = opts.codeCache ? writeCodeCache(cjs) : undefined;
  return note ? { entry, out: cjs, format: 'cjs', note } : { entry, out: cjs, format: 'cjs' };
}

/** Whether a compiled entry is a CNI plugin (marked "mesos-cni-plugin: <type>"). */
export function isPluginEntry(file: string): boolean {
  return /mesos-cni-plugin: [\w-]+/.test(readFileSync(file, 'utf8'));
}

/** Bundle every dist/bin/*.js. */
export async function bundleAll(): Promise<Bundled[]> {
  const dir = join(root, 'dist', 'bin');
  if (!existsSync(dir)) return [];
  const entries = readdirSync(dir).filter((f) => f.endsWith('.js'));
  return Promise.all(entries.map((f) => bundleEntry(join(dir, f), { codeCache: isPluginEntry(join(dir, f)) })));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const t = performance.now();
  const done = await bundleAll();
  for (const b of done) {
    console.log(`bundle: ${b.out.slice(root.length + 1)} (${b.format})${b.note ? `: ${b.note}` : ''}`);
  }
  console.log(`bundle: ${done.length} entr${done.length === 1 ? 'y' : 'ies'} in ${(performance.now() - t).toFixed(0)} ms`);
}
