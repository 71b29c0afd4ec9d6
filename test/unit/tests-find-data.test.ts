import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

// Tests find data the way `run` does (--data-dir, LABEL_LEAK_DATA_DIR, the cache) or build
// their own: never from a fixed path outside the clone, which a user's fresh clone lacks
// (CI has ../shared beside its clone, so such a test passes there and fails for everyone
// else). `.ci/run` also runs the tests that touch data from a clone with nothing beside it.

const ROOT = join(import.meta.dirname, '..', '..');
const OUTSIDE = [/\.\.\/shared\b/, /\bshared\/datasets\b/];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : sources(p);
    return /\.(ts|mjs|js)$/.test(e.name) ? [p] : [];
  });
}

describe('tests read no data from outside the clone', () => {
  it('no test or helper names ../shared or shared/datasets', () => {
    const offenders = sources(join(ROOT, 'test'))
      .filter((file) => file !== import.meta.filename)
      .flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .map((line, i) => ({ line, at: `${relative(ROOT, file)}:${i + 1}` }))
        .filter(({ line }) => OUTSIDE.some((re) => re.test(line)))
        .map(({ at, line }) => `${at}: ${line.trim()}`),
    );
    expect(offenders).toEqual([]);
  });
});
