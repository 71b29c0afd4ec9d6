import { errnoMeaning } from '../util/errno.ts';
import { printable } from '../util/printable.ts';

/** What is wrong with a data file; tests and the CLI tell cases apart by it. */
export type DataFileProblem =
  | 'missing'
  | 'magic'
  | 'dtype'
  | 'truncated'
  | 'oversized'
  | 'label'
  | 'shape'
  | 'gzip'
  | 'meta'
  | 'unreadable'
  | 'not-a-folder'
  | 'size'
  | 'not-writable'
  | 'disk-full';

/** A data file that cannot be read as what it claims to be. The message starts with the path. */
export class DataFileError extends Error {
  override readonly name = 'DataFileError';
  constructor(
    readonly file: string,
    readonly problem: DataFileProblem,
    detail: string,
  ) {
    super(`${printable(file)}: ${detail}`);
  }
}

/** A failed read of a data file, as a DataFileError that names the file, the cause and the fix. */
export function readFailure(file: string, e: unknown): DataFileError {
  if (e instanceof DataFileError) return e;
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT') return new DataFileError(file, 'missing', 'file not found');
  const fix =
    code === 'EACCES' || code === 'EPERM'
      ? `; make it readable (e.g. chmod a+r ${file}) or point --data-dir at a readable copy`
      : code === 'EISDIR'
        ? '; a data file must be a regular file'
        : '';
  return new DataFileError(file, 'unreadable', `cannot read: ${errnoMeaning(e)}${fix}`);
}

export { errnoMeaning };
