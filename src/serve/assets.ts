import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveWasmDir } from '../backend/wasm-files.ts';
import type { PageFile } from './server.ts';
import { SETTINGS } from '../util/env.ts';

/**
 * The page's files, built in memory at start-up: index.html, page.js (src/serve/page/main.ts
 * and the src/ modules it imports, bundled by esbuild for the browser) and tfjs-backend-wasm's
 * binaries. The src/ modules run unchanged: the few Node modules they import are replaced by
 * the shims in page/shims/ (an in-memory file system the page fills with what it fetched, a
 * synchronous SHA-256, no-op locks for a tab that is its own only process).
 */

// From the project root, as environment.ts does: the CLI runs compiled into .cache/cli/, two levels down too.
const PAGE_DIR = fileURLToPath(new URL('../../src/serve/page/', import.meta.url));
const SHIMS = join(PAGE_DIR, 'shims');

/** Node module → the shim that stands in for it in the page. */
const SHIM_FOR: Record<string, string> = {
  'node:fs': 'fs.ts',
  fs: 'fs.ts',
  'node:fs/promises': 'fs-promises.ts',
  'node:path': 'path.ts',
  path: 'path.ts',
  'node:crypto': 'crypto.ts',
  'proper-lockfile': 'lockfile.ts',
};
/** Imported by src/ modules the page loads but never calls on its path; every export throws. */
const UNAVAILABLE = /^(node:)?(os|zlib|url|module|child_process|stream|stream\/web|stream\/promises|util|worker_threads|http|https|net)$|^(tar|webgpu|@tensorflow\/tfjs-node(-gpu)?)$/;

// Globals the src/ modules read (process.env, process.pid, Buffer.from, setImmediate): page-local stand-ins,
// with no `process.versions.node`, so tfjs and Emscripten still see a browser.
const BANNER = `var __llProcess = { env: {}, pid: 1, platform: 'browser', browser: true, version: '', versions: {}, argv: [], cwd: () => '/', on() {}, once() {}, stderr: { write: (s) => { console.warn(String(s).trimEnd()); return true; } } };
// setImmediate (the training loop's yield to the event loop): a MessageChannel task, which, unlike setTimeout, is not clamped to 4 ms.
var __llSetImmediate = (f, ...a) => { const c = new MessageChannel(); c.port1.onmessage = () => { c.port1.close(); f(...a); }; c.port2.postMessage(null); };
var __llBuffer = { from: (s, enc) => { if (typeof s === 'string' && (enc === undefined || enc === 'utf8' || enc === 'utf-8')) return new TextEncoder().encode(s); throw new Error('Buffer.from is not available in the page'); }, alloc: (n) => new Uint8Array(n), isBuffer: () => false };`;

export interface PageBuild {
  files: Map<string, PageFile>;
  /** Bytes of page.js. */
  bundleBytes: number;
}

export async function buildPage(): Promise<PageBuild> {
  let esbuild: typeof import('esbuild');
  try {
    // A variable specifier: the one-file CLI bundle (scripts/bundle.mjs) must not carry esbuild
    // itself; `serve` needs a checkout (the page is built from its src/).
    const name = 'esbuild';
    esbuild = (await import(name)) as typeof import('esbuild');
  } catch (e) {
    throw new Error(`esbuild (a dev dependency) did not load: ${(e as Error).message.split('\n')[0]}; run \`label-leak serve\` from a checkout after \`npm ci\` (without --omit=dev)`);
  }
  const result = await esbuild.build({
    entryPoints: [join(PAGE_DIR, 'main.ts')],
    bundle: true,
    write: false,
    platform: 'browser',
    format: 'esm',
    target: 'chrome113',
    outfile: 'page.js',
    define: { process: '__llProcess', Buffer: '__llBuffer', setImmediate: '__llSetImmediate', global: 'globalThis' },
    banner: { js: BANNER },
    logLevel: 'silent',
    legalComments: 'none',
    plugins: [
      {
        name: 'node-shims',
        setup(build) {
          build.onResolve({ filter: /^[^./]/ }, (args) => {
            const shim = SHIM_FOR[args.path];
            if (shim) return { path: join(SHIMS, shim) };
            if (UNAVAILABLE.test(args.path)) return { path: join(SHIMS, 'unavailable.ts') };
            return undefined;
          });
        },
      },
    ],
  });
  const js = result.outputFiles.find((f) => f.path.endsWith('.js'));
  if (!js) throw new Error('esbuild wrote no page.js');
  const files = new Map<string, PageFile>([
    ['/', { type: 'text/html; charset=utf-8', body: readFileSync(join(PAGE_DIR, 'index.html')) }],
    ['/page.js', { type: 'text/javascript; charset=utf-8', body: js.contents }],
    ['/page.css', { type: 'text/css; charset=utf-8', body: readFileSync(join(PAGE_DIR, 'page.css')) }],
  ]);
  const wasmDir = resolveWasmDir();
  if (wasmDir === undefined) throw new Error(`the tfjs-backend-wasm .wasm binaries were not found; set ${SETTINGS.wasmDir.name} to the folder holding tfjs-backend-wasm*.wasm`);
  for (const f of readdirSync(wasmDir).filter((n) => /^tfjs-backend-wasm[a-z-]*\.wasm$/.test(n))) {
    files.set(`/wasm/${f}`, { type: 'application/wasm', body: readFileSync(join(wasmDir, f)) });
  }
  return { files, bundleBytes: js.contents.byteLength };
}
