#!/usr/bin/env node
// Runs the TypeScript CLI: compiled once per change into .cache/cli/ (bin/compiled-cli.mjs
// says why), or through tsx's loader if that cannot be done.
import { compiledCli } from './compiled-cli.mjs';

const compiled = await compiledCli();
if (compiled !== undefined) {
  // Stack traces then name the TypeScript sources (the build carries an inline source map).
  process.setSourceMapsEnabled(true);
  await import(compiled);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli.ts');
}
