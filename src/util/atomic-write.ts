import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { writeFailure } from './write-error.ts';

/** Suffix of temporary files; readers of a results folder skip them. */
export const TEMP_SUFFIX = '.tmp';

/**
 * Writes `data` to `file` so that a reader (or a later run after a crash) sees either the
 * old file or the whole new one, never a prefix: the bytes go to a temporary file in the
 * same directory (rename is atomic only within one file system), are fsynced, and then
 * renamed over the target. A failed write removes its temporary file and throws a
 * WriteError naming the file and what the errno means.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const dir = dirname(file);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw writeFailure(file, e);
  }
  const temp = join(dir, `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}${TEMP_SUFFIX}`);
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  try {
    const fd = openSync(temp, 'wx');
    try {
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, file);
  } catch (e) {
    rmSync(temp, { force: true });
    throw writeFailure(file, e);
  }
  syncDir(dir);
}

/** Makes the rename itself durable; some file systems refuse to open a directory, which only costs durability. */
function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // best effort
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
