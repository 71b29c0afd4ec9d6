import { accessSync, constants, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { errnoMeaning } from './errno.ts';
import { printable } from './printable.ts';

/**
 * A file that could not be written: one line naming the path and what the errno means.
 * The CLI prints it and exits 2 (the fix is the user's: space, permissions, another folder).
 */
export class WriteError extends Error {
  override readonly name = 'WriteError';
  constructor(
    readonly path: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The nearest existing ancestor of `path` (itself included). */
function nearestExisting(path: string): { path: string; isDir: boolean } | undefined {
  for (let p = path; ; p = dirname(p)) {
    try {
      return { path: p, isDir: statSync(p).isDirectory() };
    } catch {
      if (dirname(p) === p) return undefined;
    }
  }
}

/**
 * Says why writing `path` failed. Some errnos mislead (a recursive mkdir on a read-only
 * file system reports ENOENT), so the nearest existing folder is asked what is wrong with it.
 */
export function writeFailure(path: string, e: unknown): WriteError {
  if (e instanceof WriteError) return e;
  return new WriteError(path, `cannot write ${printable(path)}: ${writeFailureReason(path, e)}`, { cause: e });
}

/** writeFailure's reason alone (what is wrong, and the fix where there is one). */
export function writeFailureReason(path: string, e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  const near = nearestExisting(dirname(path));
  if (near && !near.isDir) return `${printable(near.path)} is a file, not a folder`;
  if (code === 'ENOENT' || code === 'EACCES' || code === 'EPERM') {
    try {
      if (near) accessSync(near.path, constants.W_OK);
    } catch (a) {
      return `${errnoMeaning(a)} at ${printable(near!.path)}`;
    }
  }
  const hint = code === 'ENOSPC' || code === 'EDQUOT' ? '; free some space or write to another folder' : '';
  return `${errnoMeaning(e)}${hint}`;
}
