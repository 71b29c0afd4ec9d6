import type { BackendInfo } from '../backend/info.ts';
import type { EpsPoint } from '../metrics/evaluate.ts';
import type { InputShape, ModelSpec } from '../models/spec.ts';
import type { Classifier } from '../models/types.ts';
import type { AttackName, DatasetName } from '../spec/names.ts';
import type { EpochPoint, TrainConfig } from '../train/loop.ts';
import type { ProgressSink } from '../train/progress.ts';

/** How a trained model is evaluated: the protocol's evaluation params (schema in protocol.ts). */
export interface EvaluationParams {
  /** ε of the adversarial test examples, 0–255 pixel units (the write-up: 6). */
  eps: number;
  /** Attacks whose accuracy is reported at `eps` (metric `adv_acc_<attack>`). */
  attacks: AttackName[];
  /** Iterative attacks' schedule; absent: Kurakin et al.'s defaults. */
  iterative?: { steps: number; stepSize: number };
  /** ε values of the loss-versus-ε curve (metrics `loss_eps_<ε>`, `loss_peak`, …). */
  epsSweep?: number[];
  batchSize: number;
  /** Test images used for the per-epoch accuracy curves (0: no curves). */
  curveSubset: number;
  /**
   * Also BIM accuracy per epoch on the curve subset (`bimAcc`), for the epoch the iterative
   * attack breaks a one-step-trained model; it costs BIM's steps on the subset every epoch.
   */
  curveBim?: boolean;
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

/**
 * One model an experiment trains and evaluates, as `run --dry-run` plans it: enough to count
 * its steps and kernels without training.
 */
export interface PlannedTraining {
  role: string;
  dataset: DatasetName;
  trainSubset?: number;
  testSubset?: number;
  model: ModelSpec;
  training: TrainConfig;
  /** The evaluation run on it afterwards (absent: clean accuracy only). */
  evaluation?: EvaluationParams;
  /** Equal keys share one trained model within a process (the model cache of trained-models.ts); absent: never shared. */
  shareKey?: string;
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
  /**
   * What one seed trains and evaluates, for `run --dry-run`'s plan and estimate; absent or
   * undefined: the dry run lists the claim as not estimated.
   */
  trainings?(params: P): PlannedTraining[] | undefined;
  run(params: P, ctx: RunContext): Promise<SeedOutcome>;
}
