// The CLI compiled to one JavaScript file in .cache/cli/ (its packages stay in node_modules),
// rebuilt when any file that went into it has changed. Running that file keeps tsx's loader
// out of the process: tsx registers its hooks in a second V8 isolate and compiles every
// module at start-up. Measured with `label-leak data load`: resident memory before loading
// 131–167 MiB compiled against 196–208 MiB through tsx (a bare Node: 41 MiB, 75 with tsx).
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// Two levels below the root, like src/<dir>/, so `new URL('../../', import.meta.url)` in
// src/report/environment.ts still names the project root.
const outdir = join(root, '.cache', 'cli');
const outfile = join(outdir, 'label-leak.mjs');
const inputsFile = join(outdir, 'inputs.json');
// Two files: the commands (./heavy.mjs: tfjs, its backends, vega, ajv) and the entry, which
// imports them only when a command runs, so `--help` and `--version` load commander alone.
// One bundle would not do: esbuild hoists every package import of a bundle to its top.
const heavyFile = join(outdir, 'heavy.mjs');

/** True when the build exists and no input file is newer than it or gone. */
function fresh() {
  let built;
  let inputs;
  try {
    built = Math.min(statSync(outfile).mtimeMs, statSync(heavyFile).mtimeMs);
    inputs = JSON.parse(readFileSync(inputsFile, 'utf8'));
  } catch {
    return false;
  }
  if (!Array.isArray(inputs) || inputs.length === 0) return false;
  try {
    return inputs.every((f) => statSync(join(root, f)).mtimeMs <= built);
  } catch {
    return false;
  }
}

/**
 * tfjs and most of our other packages are CommonJS. Imported from an ES module, Node first runs
 * cjs-module-lexer over each one's whole source, and over every package it re-exports, to
 * find its named exports: for tfjs's bundles about a tenth of each command's start-up CPU.
 * require() skips that; the bundle then reads them as esbuild reads any CommonJS module.
 */
const REQUIRED = 'node-require';
const viaRequire = {
  name: 'cjs-via-require',
  setup(b) {
    b.onResolve({ filter: /^(@tensorflow\/tfjs[a-z-]*|@stdlib\/[a-z-]+|ajv|commander|seedrandom|cli-progress|proper-lockfile)(\/.*)?$/ }, (a) => ({ path: a.path, namespace: REQUIRED }));
    b.onLoad({ filter: /.*/, namespace: REQUIRED }, (a) => ({ contents: `module.exports = __nodeRequire(${JSON.stringify(a.path)});`, loader: 'js' }));
  },
};

async function build() {
  const { build: esbuild } = await import('esbuild');
  mkdirSync(outdir, { recursive: true });
  // Unique names, then rename: concurrent CLIs (the test suite starts several) never see a half-written file.
  const tmp = `${outfile}.${process.pid}.tmp.mjs`;
  const tmpHeavy = `${heavyFile}.${process.pid}.tmp.mjs`;
  const common = {
    absWorkingDir: root,
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: 'inline',
    // Stack traces need the map's lines, not the sources' text (which would double the file Node reads and parses at each start).
    sourcesContent: false,
    metafile: true,
    logLevel: 'error',
  };
  // ajv's standalone code for every schema the CLI validates with takes the place of the empty
  // src/util/precompiled-validators.ts: compiling them cost each command ~0.1–0.3 s of CPU a schema.
  const tmpGen = join(outdir, `precompile.${process.pid}.tmp.mjs`);
  const gen = await esbuild({ ...common, sourcemap: false, entryPoints: ['scripts/precompile-validators.ts'], outfile: tmpGen });
  let validators;
  try {
    validators = (await import(pathToFileURL(tmpGen).href)).default();
  } finally {
    rmSync(tmpGen, { force: true });
  }
  const precompiled = {
    name: 'precompiled-validators',
    setup(b) {
      b.onLoad({ filter: /[\\/]src[\\/]util[\\/]precompiled-validators\.ts$/ }, () => ({ contents: validators, loader: 'js', resolveDir: root }));
    },
  };
  const heavy = await esbuild({
    ...common,
    entryPoints: ['src/commands.ts'],
    outfile: tmpHeavy,
    // Source maps off while the packages load, on again for this bundle's own frames (its map
    // was read when Node compiled it, before it ran): tfjs ships maps for its bundles, and
    // reading them cost each start-up another tenth of its CPU for stack frames inside tfjs.
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const __nodeRequire = __createRequire(import.meta.url); const __mapsWere = process.sourceMapsEnabled; process.setSourceMapsEnabled(false);" },
    footer: { js: 'process.setSourceMapsEnabled(__mapsWere);' },
    plugins: [viaRequire, precompiled],
  });
  const entry = await esbuild({
    ...common,
    entryPoints: ['src/cli.ts'],
    outfile: tmp,
    plugins: [{
      name: 'heavy-apart',
      setup(b) {
        b.onResolve({ filter: /^\.\/commands\.ts$/ }, () => ({ path: './heavy.mjs', external: true }));
      },
    }],
  });
  const inputs = [...new Set([gen, heavy, entry].flatMap((r) => Object.keys(r.metafile.inputs)))].filter((f) => !f.startsWith('node_modules/') && !f.startsWith(`${REQUIRED}:`));
  // This file too: a change in how the CLI is built must rebuild it.
  inputs.push('bin/compiled-cli.mjs');
  const tmpInputs = `${inputsFile}.${process.pid}.tmp`;
  writeFileSync(tmpInputs, JSON.stringify(inputs));
  renameSync(tmpHeavy, heavyFile);
  renameSync(tmp, outfile);
  renameSync(tmpInputs, inputsFile);
}

/** Path of an up-to-date compiled CLI, or undefined when it cannot be built (then tsx runs the sources). */
export async function compiledCli() {
  if (process.env.LABEL_LEAK_NO_COMPILE === '1') return undefined;
  if (fresh()) return outfile;
  try {
    await build();
    return outfile;
  } catch (e) {
    process.emitWarning(`label-leak: running the TypeScript sources through tsx (compiling them failed: ${e.message})`);
    return undefined;
  }
}
