import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.ts';
import { errnoMeaning } from '../util/errno.ts';
import { schemaValidator } from '../util/schema-validator.ts';
import { NotRegularFileError, readRegularTextSync } from '../util/regular-file.ts';
import type { ResultRecord } from './record-types.ts';
import { resultSchema } from './record-schema.ts';
import { printable } from '../util/printable.ts';

export * from './record-types.ts';

/** Result records on disk: one JSON file per (claim, tier) run, checked against the schema both ways. */

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
  const validate = schemaValidator<ResultRecord>(resultSchema, 'record');
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
