import { statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs module without types (bin/ runs before any TypeScript loader)
import { compiledCli } from '../../bin/compiled-cli.mjs';

const ROOT = join(import.meta.dirname, '..', '..');

/** bin/label-leak.mjs runs the CLI compiled into .cache/cli/, rebuilt when a source it was built from changes. */
describe('the compiled CLI', () => {
  it('is built once, kept while its sources are unchanged, and rebuilt after one changes', async () => {
    const first = (await compiledCli()) as string;
    expect(first).toBe(join(ROOT, '.cache', 'cli', 'label-leak.mjs'));
    const builtAt = statSync(first).mtimeMs;
    expect(await compiledCli()).toBe(first);
    expect(statSync(first).mtimeMs).toBe(builtAt);

    // A source newer than the build (its mtime moved forward, contents untouched).
    const source = join(ROOT, 'src', 'claims', 'verdict.ts');
    const { atime, mtime } = statSync(source);
    const later = new Date(builtAt + 60_000);
    utimesSync(source, later, later);
    try {
      expect(await compiledCli()).toBe(first);
      expect(statSync(first).mtimeMs).toBeGreaterThan(builtAt);
    } finally {
      utimesSync(source, atime, mtime);
    }
  });

  it('is skipped, leaving tsx to run the sources, when LABEL_LEAK_NO_COMPILE=1', async () => {
    process.env.LABEL_LEAK_NO_COMPILE = '1';
    try {
      expect(await compiledCli()).toBeUndefined();
    } finally {
      delete process.env.LABEL_LEAK_NO_COMPILE;
    }
  });
});
