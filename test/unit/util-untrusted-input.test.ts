import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataFileError } from '../../src/data/errors.ts';
import { readIdxFile } from '../../src/data/idx.ts';
import { printable, printableLines } from '../../src/util/printable.ts';
import { FileTooLargeError, NotRegularFileError, readRegularFileSync, readRegularTextSync } from '../../src/util/regular-file.ts';

const tmp = mkdtempSync(join(tmpdir(), 'llk-util-untrusted-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('printable', () => {
  it('escapes C0, DEL, C1 and bidi controls, and keeps every other character', () => {
    expect(printable('a\u001b[31mb\nc\td\re\u007ff\u0085g\u202eh')).toBe('a\\x1b[31mb\\nc\\td\\re\\x7ff\\x85g\\u202eh');
    expect(printable('données/ε-sweep ✓ 猫')).toBe('données/ε-sweep ✓ 猫');
  });

  it('printableLines keeps line breaks and escapes the rest', () => {
    expect(printableLines('one\u001b\ntwo')).toBe('one\\x1b\ntwo');
  });
});

describe('readRegularFileSync', () => {
  it('reads a regular file and strips a UTF-8 byte-order mark from text', () => {
    const f = join(tmp, 'bom.json');
    writeFileSync(f, '\ufeff{"a":1}');
    expect(readRegularTextSync(f)).toBe('{"a":1}');
    expect(readRegularFileSync(f).length).toBe(10);
  });

  it('refuses a FIFO without blocking, a folder, and a character device', () => {
    const fifo = join(tmp, 'fifo');
    execFileSync('mkfifo', [fifo]);
    expect(() => readRegularFileSync(fifo)).toThrow(NotRegularFileError);
    expect(() => readRegularFileSync(fifo)).toThrow('is a FIFO (named pipe), not a regular file');
    expect(() => readRegularFileSync(tmp)).toThrow('is a folder, not a regular file');
    expect(() => readRegularFileSync('/dev/zero')).toThrow('is a character device, not a regular file');
  });

  it('refuses a file over the byte limit before reading it', () => {
    const f = join(tmp, 'big');
    writeFileSync(f, Buffer.alloc(101));
    expect(() => readRegularFileSync(f, { maxBytes: 100 })).toThrow(FileTooLargeError);
    expect(readRegularFileSync(f, { maxBytes: 101 }).length).toBe(101);
  });
});

describe('a FIFO in place of a data file', () => {
  it('is named as such by the IDX reader (MNIST, Fashion-MNIST), not waited on', async () => {
    const fifo = join(tmp, 'train-images-idx3-ubyte');
    execFileSync('mkfifo', [fifo]);
    const e = await readIdxFile(fifo).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(DataFileError);
    expect((e as Error).message).toBe(`${fifo}: cannot read: is a FIFO (named pipe), not a regular file`);
  });
});
