import { join } from 'node:path';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { writeFileAtomic } from '../util/atomic-write.ts';
import { errnoMeaning } from '../util/errno.ts';
import { NotRegularFileError, readRegularTextSync } from '../util/regular-file.ts';
import type { ResultRecord } from './record-types.ts';
import { resultSchema } from './record-schema.ts';
import { printable } from '../util/printable.ts';

export * from './record-types.ts';

/** Result records on disk: one JSON file per (claim, tier) run, checked against the schema both ways. */

let compiled: ValidateFunction<ResultRecord> | undefined;
/**
 * Compiled on the first record read or written, not on import: ~0.3 s of CPU that each
 * process which never touches a record (a refused option, `list`, every job of a test run
 * that exits early) would otherwise pay.
 */
function validator(): ValidateFunction<ResultRecord> {
  // allowUnionTypes: curve points and statistics use `number | null` for what cannot be finite.
  compiled ??= new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true }).compile<ResultRecord>(resultSchema);
  return compiled;
}

/** A record that does not match the schema, or a file that is not a record. */
export class RecordError extends Error {
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`${printable(file)}: ${reason}`);
    this.name = 'RecordError';
  }
}

export function recordPath(resultsDir: string, tier: string, claimId: string): string {
  return join(resultsDir, tier, `${claimId}.json`);
}

export function checkRecord(json: unknown, file: string): ResultRecord {
  const validate = validator();
  if (!validate(json)) {
    const id = (json as { claim?: { id?: unknown } } | null)?.claim?.id;
    if (validate.errors?.some((e) => e.instancePath === '/claim/id' && e.keyword === 'pattern')) {
      throw new RecordError(file, `claim.id ${JSON.stringify(id)} is not a claim id (lower-case letters and digits in words joined by single hyphens, e.g. mnist-no-leaking); it would name the report's files, so the record is refused — fix the id or remove the record`);
    }
    const lines = (validate.errors ?? []).map((e) => `${e.instancePath || '(document)'}: ${e.message ?? e.keyword}`);
    throw new RecordError(file, `not a valid result record:\n  ${[...new Set(lines)].join('\n  ')}`);
  }
  return json;
}

/** Validates, then writes atomically; returns the path. */
export function writeRecord(file: string, record: ResultRecord): string {
  checkRecord(record, file);
  writeFileAtomic(file, `${JSON.stringify(record, null, 2)}\n`);
  return file;
}

export function readRecord(file: string): ResultRecord {
  let text: string;
  try {
    // A FIFO or device in place of a record is named, never read (a read would block forever).
    text = readRegularTextSync(file);
  } catch (e) {
    throw new RecordError(file, `cannot read: ${e instanceof NotRegularFileError ? e.message : errnoMeaning(e)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new RecordError(file, `not valid JSON: ${(e as Error).message}`);
  }
  return checkRecord(json, file);
}
