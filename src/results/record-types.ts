import type { BackendInfo } from '../backend/info.ts';
import type { DataUsed } from '../data/provenance.ts';
import type { Assertion, PlainPrecondition, SpecVerdict, Verdict, WriteUpFigure } from '../spec/claim.ts';
import type { Tier } from '../spec/names.ts';

/**
 * A result record as stored (./record-schema.ts is the authority). Everything
 * here is JSON-safe: numbers that cannot be finite are `null`.
 */

export const RECORD_FORMAT = 1;

export type { DataUsed };

/** A curve point as stored: non-finite values (a diverged loss) become null. */
export type StoredPoint = Record<string, number | null>;

export interface SeedResult {
  seed: number;
  status: 'ok' | 'error';
  /** Finite metrics only; an errored seed may have none. */
  metrics: Record<string, number>;
  curves: Record<string, StoredPoint[]>;
  wallSeconds: number;
  imagesPerSecond?: number;
  error?: { name: string; message: string };
  startedAt: string;
  finishedAt: string;
}

/** What an assertion or a precondition checks: a metric (− minus) against a region. */
export interface CheckedQuantity {
  name: string;
  metric: string;
  minus?: string;
  op: Assertion['op'];
  threshold: number;
  tolerance: number;
  /** The region in words, e.g. "> 0.005". */
  region: string;
}

export interface AssertionResult extends CheckedQuantity {
  /** Seeds that contributed, and their values, in the same order. */
  seeds: number[];
  values: number[];
  n: number;
  mean: number | null;
  sd: number | null;
  /** 95% Student's t interval; a null bound is unbounded (fewer than two seeds). */
  ci: { low: number | null; high: number | null };
  verdict: Verdict;
  /** One line for people: mean, CI, per-seed values, verdict. */
  summary: string;
}

/** One precondition checked in every finished seed (src/claims/assess.ts). */
export interface PreconditionResult extends CheckedQuantity {
  /** Finished seeds and their values, in the same order; null where the seed lacks the metric. */
  seeds: number[];
  values: (number | null)[];
  /** Seeds whose value is missing or outside the region. */
  failedSeeds: number[];
  holds: boolean;
  summary: string;
}

export interface Environment {
  /** Installed package versions (tfjs and its backends, this project). */
  packages: Record<string, string>;
  /** `git rev-parse HEAD`, or "unknown" outside a repository. */
  gitCommit: string;
  /** Uncommitted changes in the working tree; null when unknown. */
  gitDirty: boolean | null;
  node: string;
  machine: { cpuModel: string; cpus: number; os: string; memoryGiB: number };
}

export interface ResultRecord {
  format: typeof RECORD_FORMAT;
  claim: {
    id: string;
    version: number;
    hash: string;
    title: string;
    statement: string;
    experiment: string;
    writeUpFigure: WriteUpFigure;
    /** The assertions that apply to this tier, so statistics can be recomputed from the record alone. */
    assertions: Assertion[];
    /** The preconditions that apply to this tier, cells expanded; absent in records made before specs had them. */
    preconditions?: PlainPrecondition[];
    /** The claim this run is a positive control of (the spec's `controlOf`). */
    controlOf?: string;
  };
  tier: Tier;
  params: Record<string, unknown>;
  paramsHash: string;
  /** `label-leak run --set` changes to the tier's params (already in `params`). */
  overrides?: string[];
  expected: SpecVerdict;
  /** The seeds this run was asked for. */
  seeds: number[];
  /** Seeds not finished yet (an interrupted run); empty when the record is complete. */
  pendingSeeds: number[];
  outcomes: SeedResult[];
  assertions: AssertionResult[];
  /** Each precondition seed by seed; a failed one makes the verdict `error`. Absent: none were checked. */
  preconditions?: PreconditionResult[];
  verdict: SpecVerdict;
  backend: BackendInfo;
  environment: Environment;
  /**
   * The data each seed read: per dataset its files' SHA-256, where they came from, official
   * or not (data/provenance.ts). Absent in records made before records named their data.
   */
  data?: DataUsed[];
  startedAt: string;
  finishedAt: string;
  /** Wall time of the run that wrote the record (finishedAt − startedAt). */
  wallSeconds: number;
}
