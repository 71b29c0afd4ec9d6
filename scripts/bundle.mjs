#!/usr/bin/env node
// Packs the CLI and its JavaScript dependencies into one ESM file, so the harness can run
// on a machine that has Node.js but no node_modules (see docs/gpu.md, "bundle route").
//
//   node scripts/bundle.mjs [--entry src/cli.ts] [--outdir dist] [--metafile FILE]
//
// --metafile writes esbuild's record of which input files went into the bundle (JSON).
//
// Layout written to OUTDIR:
//   label-leak.mjs                the CLI with every pure-JS dependency inside
//   tfjs-backend-wasm*.wasm       the wasm backend's binaries; src/backend/wasm-files.ts
//                                 looks beside the running script for them
//   node_modules/webgpu/          index.js, package.json, dist/linux-x64/dawn.node: the one
//                                 native module the webgpu backend needs, placed where
//                                 Node's own resolution finds `import('webgpu')` from the bundle
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));

/**
 * Native or optional packages that cannot live inside a JS bundle. They are loaded at run
 * time with a variable specifier (src/backend), so leaving them out only matters if some
 * dependency names them literally.
 */
export const EXTERNALS = ['webgpu', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'];

// esbuild wraps CommonJS dependencies (tfjs-backend-wasm's Emscripten glue, seedrandom, …)
// in a shim that calls the ambient `require`; an ESM file has none, nor `__dirname` and
// `__filename`, which the Emscripten glue reads. The banner supplies all three under names
// no module declares, and `define` points the free identifiers at them. `require` must keep
// its own name because esbuild's shim tests `typeof require`.
const BANNER = [
  "import { createRequire as __llCreateRequire } from 'node:module';",
  "import { fileURLToPath as __llFileURLToPath } from 'node:url';",
  "import { dirname as __llDirnameOf } from 'node:path';",
  'const require = __llCreateRequire(import.meta.url);',
  'const __llFilename = __llFileURLToPath(import.meta.url);',
  'const __llDirname = __llDirnameOf(__llFilename);',
].join('\n');

function mib(bytes) {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

function copyInto(src, destDir, name = src.split('/').pop()) {
  mkdirSync(destDir, { recursive: true });
  const dest = join(destDir, name);
  copyFileSync(src, dest);
  return dest;
}

/** Copies the .wasm binaries of the installed tfjs-backend-wasm beside the bundle. */
function copyWasm(outdir) {
  const wasmDir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
  const files = readdirSync(wasmDir).filter((f) => f.endsWith('.wasm'));
  if (files.length === 0) throw new Error(`no .wasm files in ${wasmDir}`);
  return files.map((f) => copyInto(join(wasmDir, f), outdir));
}

/**
 * Copies the linux-x64 part of the `webgpu` package (optional dependency). Returns the
 * copied paths, or a reason when the package is not installed.
 */
function copyWebgpu(outdir) {
  let pkgDir;
  try {
    pkgDir = dirname(require.resolve('webgpu/package.json'));
  } catch {
    return { skipped: 'the optional package `webgpu` is not installed; the bundle has no webgpu backend' };
  }
  const dawn = join(pkgDir, 'dist', 'linux-x64', 'dawn.node');
  if (!existsSync(dawn)) return { skipped: `${dawn} is missing` };
  const dest = join(outdir, 'node_modules', 'webgpu');
  const copied = [
    copyInto(join(pkgDir, 'index.js'), dest),
    // package.json says "type": "module" (index.js is ESM) and names index.js as main.
    copyInto(join(pkgDir, 'package.json'), dest),
    copyInto(join(pkgDir, 'LICENSE.md'), dest),
    copyInto(dawn, join(dest, 'dist', 'linux-x64')),
  ];
  return { copied };
}

export async function bundle({ entry = join(root, 'src', 'cli.ts'), outdir = join(root, 'dist') } = {}) {
  const outfile = join(outdir, 'label-leak.mjs');
  // Stale binaries or an old webgpu copy must not survive a rebuild.
  rmSync(outdir, { recursive: true, force: true });
  const result = await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: EXTERNALS,
    banner: { js: BANNER },
    define: { __dirname: '__llDirname', __filename: '__llFilename' },
    // Prefer each package's Node entry ("main") over its browser-leaning "module" build.
    mainFields: ['main', 'module'],
    legalComments: 'eof',
    metafile: true,
    logLevel: 'warning',
  });
  const wasm = copyWasm(outdir);
  const webgpu = copyWebgpu(outdir);
  writeFileSync(
    join(outdir, 'README.txt'),
    [
      'label-leak bundle: run with `node label-leak.mjs --help` (Node >= 20.19); no node_modules needed.',
      'The tfjs-backend-wasm*.wasm files must stay beside label-leak.mjs (or set LABEL_LEAK_WASM_DIR).',
      'node_modules/webgpu holds dawn.node for the webgpu backend (linux-x64 only); keep it beside the',
      'bundle so `import("webgpu")` resolves. The tensorflow backend (tfjs-node-gpu) does not work from',
      'the bundle: run it from a checkout with `npm ci`. See docs/gpu.md.',
      '',
    ].join('\n'),
  );
  return { outfile, wasm, webgpu, metafile: result.metafile };
}

async function main() {
  const { values } = parseArgs({
    options: { entry: { type: 'string' }, outdir: { type: 'string' }, metafile: { type: 'string' } },
  });
  const { outfile, wasm, webgpu, metafile } = await bundle({
    entry: values.entry ? resolve(values.entry) : undefined,
    outdir: values.outdir ? resolve(values.outdir) : undefined,
  });
  if (values.metafile) writeFileSync(values.metafile, JSON.stringify(metafile));
  const size = (p) => statSync(p).size;
  console.log(`bundle  ${relative(process.cwd(), outfile)}  ${mib(size(outfile))}`);
  for (const f of wasm) console.log(`wasm    ${relative(process.cwd(), f)}  ${mib(size(f))}`);
  if (webgpu.skipped) console.log(`webgpu  skipped: ${webgpu.skipped}`);
  else for (const f of webgpu.copied) console.log(`webgpu  ${relative(process.cwd(), f)}  ${mib(size(f))}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
