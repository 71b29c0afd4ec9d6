/** Errno codes in words, for one-line messages. */
const MEANING: Record<string, string> = {
  ENOENT: 'no such file or folder',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EISDIR: 'is a folder, not a file',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EEXIST: 'already exists',
  EIO: 'input/output error (a failing disk or network file system)',
  ELOOP: 'too many symbolic links (a link loop)',
  EMFILE: 'too many open files',
  ENAMETOOLONG: 'file name too long',
};

/** "permission denied (EACCES)"; an unknown code keeps its own message. */
export function errnoMeaning(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  const code = err?.code;
  if (code && MEANING[code]) return `${MEANING[code]} (${code})`;
  return code ? `${code}: ${err.message}` : String((e as Error)?.message ?? e);
}
