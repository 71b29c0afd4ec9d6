import { createHash, randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createHash as pageHash } from '../../src/serve/page/shims/crypto.ts';
import * as pagePath from '../../src/serve/page/shims/path.ts';
import * as pageFs from '../../src/serve/page/shims/fs.ts';

/**
 * The page's stand-ins for node:crypto, node:path and node:fs (src/serve/page/shims): the
 * spec, params and checkpoint hashes the page computes must be the CLI's, byte for byte.
 */

describe('page shim: SHA-256', () => {
  // Lengths around the 55/56/64-byte padding boundaries, and several blocks.
  for (const n of [0, 1, 3, 55, 56, 57, 63, 64, 65, 119, 120, 128, 1000, 70_001]) {
    it(`${n} bytes hash as node:crypto does`, () => {
      const bytes = new Uint8Array(randomBytes(n));
      expect(pageHash('sha256').update(bytes).digest('hex')).toBe(createHash('sha256').update(bytes).digest('hex'));
    });
  }

  it('text, fed in pieces, hashes as node:crypto does (UTF-8)', () => {
    const text = '{"ε":6,"claim":"mnist-no-leaking","α":[1,2,3]}'.repeat(9);
    const h = pageHash('sha256');
    for (let i = 0; i < text.length; i += 13) h.update(text.slice(i, i + 13));
    expect(h.digest('hex')).toBe(createHash('sha256').update(text).digest('hex'));
  });

  it('refuses an algorithm it does not implement, by name', () => {
    expect(() => pageHash('md5')).toThrow("createHash('md5') is not available in the page; only sha256");
  });
});

describe('page shim: path', () => {
  const cases: string[][] = [
    ['/data', 'mnist', 'train-images-idx3-ubyte'],
    ['/results/fast/', '../fast/./x.json'],
    ['a/b', '../../..', 'c'],
    ['/', '..', 'etc'],
    ['', 'x'],
    ['/a//b/', ''],
  ];
  for (const parts of cases) {
    it(`join/resolve/dirname/basename of ${JSON.stringify(parts)} as node:path.posix`, () => {
      expect(pagePath.join(...parts)).toBe(posix.join(...parts));
      const abs = posix.join('/', ...parts);
      expect(pagePath.resolve('/', ...parts)).toBe(posix.resolve('/', ...parts));
      expect(pagePath.dirname(abs)).toBe(posix.dirname(abs));
      expect(pagePath.basename(abs)).toBe(posix.basename(abs));
      expect(pagePath.relative('/results/fast', abs)).toBe(posix.relative('/results/fast', abs));
    });
  }
});

describe('page shim: in-memory fs', () => {
  it('holds what writeFileAtomic (open, write, fsync, rename) writes, lists and removes it', () => {
    pageFs.mkdirSync('/t/a', { recursive: true });
    const fd = pageFs.openSync('/t/a/.tmp', 'wx');
    pageFs.writeSync(fd, new TextEncoder().encode('hello'), 0, 5);
    pageFs.fsyncSync(fd);
    pageFs.closeSync(fd);
    pageFs.renameSync('/t/a/.tmp', '/t/a/x.json');
    expect(pageFs.readFileSync('/t/a/x.json', 'utf8')).toBe('hello');
    expect(pageFs.readdirSync('/t')).toEqual(['a']);
    expect(pageFs.existsSync('/t/a/.tmp')).toBe(false);
    expect(() => pageFs.readFileSync('/t/nope')).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    pageFs.rmSync('/t', { recursive: true });
    expect(pageFs.existsSync('/t/a/x.json')).toBe(false);
  });

  it('rmdir removes an empty folder only, as the runner\'s checkpoint clean-up needs', () => {
    pageFs.mkdirSync('/r/c/seed-1', { recursive: true });
    pageFs.writeFileSync('/r/c/seed-1/checkpoint.json', '{}');
    expect(() => pageFs.rmdirSync('/r/c')).toThrow(expect.objectContaining({ code: 'ENOTEMPTY' }));
    pageFs.rmSync('/r/c/seed-1', { recursive: true });
    pageFs.rmdirSync('/r/c');
    expect(pageFs.existsSync('/r/c')).toBe(false);
    expect(pageFs.existsSync('/r')).toBe(true);
    expect(() => pageFs.rmdirSync('/r/c')).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });
});
