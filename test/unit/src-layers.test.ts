import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The folders of src/, lowest first. A folder may import only folders before it, so no
 * arrow runs back up and no two folders import each other. A new folder goes into this
 * list (and README's "Where things are") at the height of what it imports.
 */
const LAYERS = [
  'util',
  'spec',
  'backend',
  'data',
  'models',
  'attacks',
  'train',
  'metrics',
  'experiments',
  'results',
  'claims',
  'audit',
  'report',
  'bench',
  'cli',
  'serve', // label-leak serve and its page: the CLI's modules run in the browser
  '.', // src/cli.ts, the entry point
];

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : /\.(ts|json)$/.test(e.name) ? [join(dir, e.name)] : [],
  );
}

/** Relative specifiers of static imports, re-exports and dynamic imports. */
export function importsOf(text: string): string[] {
  const found = text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm);
  return [...found].map((m) => m[1]);
}

const layerOf = (file: string) => {
  const rel = relative(SRC, file);
  return rel.includes(sep) ? rel.split(sep)[0] : '.';
};

/** Every import whose target folder is not strictly below the importing folder. */
export function backwardImports(files: string[]): string[] {
  const bad: string[] = [];
  for (const file of files.filter((f) => f.endsWith('.ts'))) {
    const from = layerOf(file);
    for (const spec of importsOf(readFileSync(file, 'utf8'))) {
      const target = normalize(join(dirname(file), spec));
      if (!target.startsWith(SRC)) continue;
      const to = layerOf(target);
      if (to !== from && LAYERS.indexOf(to) >= LAYERS.indexOf(from)) bad.push(`src/${relative(SRC, file)} (${from}) imports ${spec} (${to})`);
    }
  }
  return bad;
}

describe('the layers of src/', () => {
  const files = sourceFiles(SRC);

  it('every folder of src/ has a place in the layer order', () => {
    const folders = [...new Set(files.map(layerOf))];
    expect(folders.filter((f) => !LAYERS.includes(f))).toEqual([]);
  });

  it('no folder imports one at its own height or above it (so no two folders import each other)', () => {
    expect(backwardImports(files)).toEqual([]);
  });

  it('the check sees static, re-exported and dynamic imports', () => {
    const text = "import { a } from '../x/a.ts';\nexport * from './b.ts';\nconst c = await import('../y/c.ts');\nimport '../z/d.ts';";
    expect(importsOf(text)).toEqual(['../x/a.ts', './b.ts', '../y/c.ts', '../z/d.ts']);
  });
});
