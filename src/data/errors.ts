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
  | 'meta';

/** A data file that cannot be read as what it claims to be. The message starts with the path. */
export class DataFileError extends Error {
  override readonly name = 'DataFileError';
  constructor(
    readonly file: string,
    readonly problem: DataFileProblem,
    detail: string,
  ) {
    super(`${file}: ${detail}`);
  }
}
