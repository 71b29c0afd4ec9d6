import type { BackendInfo } from '../backend/info.ts';
import type { DatasetName } from '../data/types.ts';
import type { InputShape, ModelSpec } from '../models/spec.ts';
import type { Classifier } from '../models/types.ts';
import type { TrainConfig } from '../train/loop.ts';

/** Per-epoch numbers a training experiment records (any subset may be present). */
export interface EpochPoint {
  epoch: number;
  trainLoss?: number;
  cleanAcc?: number;
  advAcc?: number;
  [metric: string]: number | undefined;
}

/** One point of the write-up's loss-versus-ε curve (ε in 0–255 pixel units). */
export interface EpsPoint {
  eps: number;
  loss: number;
  acc: number;
}

/** Named curves; the report plots `epochs` and `lossVsEps` (and their `control:` twins). */
export interface Curves {
  epochs?: EpochPoint[];
  lossVsEps?: EpsPoint[];
  [name: string]: EpochPoint[] | EpsPoint[] | undefined;
}

/** What one seed of an experiment produces. Metric names are what assertions refer to. */
export interface SeedOutcome {
  metrics: Record<string, number>;
  curves: Curves;
  /** Training throughput, images per second, where the experiment trains. */
  imagesPerSecond?: number;
}

/** Progress of a long run, for the CLI's bar; the experiment reports, the edge renders. */
export interface ProgressSink {
  start(label: string, total: number): void;
  tick(done: number, info?: Record<string, string | number>): void;
  stop(): void;
}

/** What a trained model is, for whoever keeps it (`label-leak run --save-models`). */
export interface TrainedModelInfo {
  /** Its part in the experiment: 'adversarial', 'control', 'probe-source', 'sweep-<dataset>'. */
  role: string;
  /** Hash of data selection, model, training, seed and backend: one per distinct model. */
  key: string;
  model: ModelSpec;
  input: InputShape;
  dataset: DatasetName;
  classes: string[];
  training: TrainConfig;
}

export interface RunContext {
  seed: number;
  dataDir?: string;
  backend: BackendInfo;
  progress: ProgressSink;
  /** Where this seed may keep checkpoints; absent means no checkpointing. */
  checkpointDir?: string;
  /** Steps between checkpoints. */
  checkpointEvery?: number;
  /** Set when the user interrupts: the experiment checkpoints and throws `Interrupted`. */
  signal?: AbortSignal;
  /** Called with every model the seed trains (or re-uses), once trained. */
  onTrained?: (model: Classifier, info: TrainedModelInfo) => Promise<void>;
}

export interface ExperimentKind<P = unknown> {
  /** The `experiment` field of a spec. */
  name: string;
  /** JSON Schema (2020-12, ajv strict) for one tier's `params`. */
  paramsSchema: Record<string, unknown>;
  /** Metric names this kind produces, so specs can be checked before anything runs. */
  metricNames(params: P): string[];
  /**
   * What the params schema cannot say (e.g. a sweep's cells, each checked as its inner kind's
   * params); pointers are relative to the tier's `params`. Called only on schema-valid params.
   */
  problems?(params: P): { pointer: string; reason: string }[];
  run(params: P, ctx: RunContext): Promise<SeedOutcome>;
}

export class Interrupted extends Error {
  constructor() {
    super('interrupted; a checkpoint was written — run again with --resume to continue');
    this.name = 'Interrupted';
  }
}

/** Training diverged (NaN/Inf): the seed ends with an error verdict, never a pass. */
export class NonFiniteError extends Error {
  constructor(where: string, value: number) {
    super(`non-finite value ${value} in ${where}`);
    this.name = 'NonFiniteError';
  }
}
