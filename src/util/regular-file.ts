import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';

/**
 * Reading a file the user named without trusting what it is. A FIFO blocks a plain read
 * until a writer comes (forever, deaf to signals in a synchronous read), a device such as
 * /dev/zero never ends: so the file is opened without blocking, its type checked on the
 * open descriptor (no window for a swap between a stat and the open), and only a regular
 * file is read, up to a byte limit.
 */

/** What a non-regular file is, in words, for "is X, not a file" messages. */
export function fileKind(s: Stats): string {
  if (s.isDirectory()) return 'a folder';
  if (s.isFIFO()) return 'a FIFO (named pipe)';
  if (s.isSocket()) return 'a socket';
  if (s.isCharacterDevice()) return 'a character device';
  if (s.isBlockDevice()) return 'a block device';
  if (s.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

/** The file is there but is not a regular file; `message` says what it is. */
export class NotRegularFileError extends Error {
  override readonly name = 'NotRegularFileError';
  constructor(
    readonly file: string,
    readonly kind: string,
  ) {
    super(`is ${kind}, not a regular file`);
  }
}

/** The file is larger than the reader allows. */
export class FileTooLargeError extends Error {
  override readonly name = 'FileTooLargeError';
  constructor(
    readonly file: string,
    readonly bytes: number,
    readonly limit: number,
  ) {
    super(`holds ${bytes} bytes, more than the ${limit} expected`);
  }
}

/**
 * The bytes of `file` when it is a regular file of at most `maxBytes` bytes. Throws
 * NotRegularFileError or FileTooLargeError (messages without the path: callers put it in
 * front in their own error type), or the errno error of open/read.
 */
export function readRegularFileSync(file: string, opts: { maxBytes?: number } = {}): Buffer {
  // O_NONBLOCK: opening a FIFO for reading with no writer would otherwise wait forever.
  const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const s = fstatSync(fd);
    if (!s.isFile()) throw new NotRegularFileError(file, fileKind(s));
    if (opts.maxBytes !== undefined && s.size > opts.maxBytes) throw new FileTooLargeError(file, s.size, opts.maxBytes);
    const out = Buffer.alloc(s.size);
    let got = 0;
    while (got < s.size) {
      const n = readSync(fd, out, got, s.size - got, got);
      if (n === 0) break; // shrank since fstat: what is there is what the caller checks
      got += n;
    }
    return got === s.size ? out : out.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

/** A UTF-8 text file (regular, see readRegularFileSync), without a leading byte-order mark. */
export function readRegularTextSync(file: string, opts: { maxBytes?: number } = {}): string {
  // TextDecoder rather than Buffer#toString: the browser page (label-leak serve) runs this too.
  const text = new TextDecoder().decode(readRegularFileSync(file, opts));
  // Editors on Windows often start UTF-8 files with U+FEFF, which JSON.parse refuses.
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
