import { BackendUnavailableError } from '../backend/errors.ts';
import { MissingTierError, SpecError, UnknownClaimError } from '../claims/errors.ts';
import { ResumeError } from '../claims/runner.ts';
import { DatasetMissingError } from '../data/data-dir.ts';
import { DataFileError } from '../data/errors.ts';
import { ModelFileError } from '../models/model-files.ts';
import { DiffError } from '../report/diff.ts';
import { MergeError } from '../report/merge.ts';
import { RecordError } from '../results/record.ts';
import { CheckpointError } from '../train/checkpoint.ts';
import { WriteError } from '../util/write-error.ts';
import { LockFileError } from '../util/lock.ts';

/**
 * Errors that mean "the input is wrong", not "the program is": the CLI prints their message
 * (which names the file, field or fix) without a stack trace and exits 2.
 */
export const usageErrorTypes: (new (...args: any[]) => Error)[] = [
  SpecError,
  UnknownClaimError,
  MissingTierError,
  DatasetMissingError,
  DataFileError,
  BackendUnavailableError,
  ResumeError,
  MergeError,
  RecordError,
  ModelFileError,
  DiffError,
  CheckpointError,
  WriteError,
  LockFileError,
];
