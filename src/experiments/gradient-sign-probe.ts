import * as tf from '@tensorflow/tfjs';
import { leastLikelyClass, lossGradientSign, noiseImage, randomLabels } from '../attacks/index.ts';
import { makeBatch } from '../data/batches.ts';
import type { ImageSet } from '../data/types.ts';
import { evaluate } from '../metrics/evaluate.ts';
import { buildClassifier, modelSpecSchema, type ModelSpec } from '../models/spec.ts';
import type { Classifier } from '../models/types.ts';
import { enumOf } from '../spec/names.ts';
import { dataSelectionProperties, trainConfigSchema } from '../train/config-schema.ts';
import { train, type TrainConfig } from '../train/loop.ts';
import { makeRng, type Rng } from '../util/rng.ts';
import { meanThroughput, metricName } from './protocol.ts';
import { modelKeyParts, selectData, trainedModel, trainingKey, type DataSelection } from './trained-models.ts';
import type { Curves, ExperimentKind, RunContext, SeedOutcome } from './types.ts';
import type { EpochPoint } from '../train/loop.ts';

/**
 * The write-up's MNIST experiment: turn each image into the sign of its loss gradient,
 * mapped by clip(sign + 1, 0, 1), and ask how well a linear model predicts the *true* label
 * from that alone. Which label the gradient was taken with is the variable:
 *   true          the write-up's setting (FGSM's gradient)
 *   least-likely  step-LL's gradient (the write-up's open question)
 *   random        a uniformly random label: control for what the sign pattern says about x itself
 *   pixels        no gradient at all, the raw image: the clean problem's linear baseline
 */
const FEATURE_SOURCES = ['true', 'least-likely', 'random', 'pixels'] as const;
export type FeatureSource = (typeof FEATURE_SOURCES)[number];

export interface GradientSignProbeParams extends DataSelection {
  /** The network whose gradients are probed. */
  sourceModel: ModelSpec;
  /** Absent: the source model stays at its random initialisation (the write-up's setting). */
  sourceTraining?: TrainConfig;
  features: FeatureSource[];
  /** The linear probe: a softmax regression trained with plain SGD. */
  probe: TrainConfig;
  batchSize: number;
}

const featureKey = (f: FeatureSource) => metricName(f);

/** Gradient-sign features as an image set (0/255 bytes, so batches come out 0/1). */
export async function gradientFeatures(source: Classifier, set: ImageSet, kind: FeatureSource, batchSize: number, rng: Rng): Promise<ImageSet> {
  if (kind === 'pixels') return set;
  const images = new Uint8Array(set.images.length);
  const perImage = set.height * set.width * set.channels;
  for (let start = 0; start < set.count; start += batchSize) {
    const idx = Array.from({ length: Math.min(batchSize, set.count - start) }, (_, i) => start + i);
    const { x, y } = makeBatch(set, idx);
    const labels =
      kind === 'true'
        ? y.clone()
        : kind === 'least-likely'
          ? leastLikelyClass(source, x)
          : tf.tensor1d(randomLabels(rng, idx.length, source.numClasses), 'int32');
    const sign = lossGradientSign(source, x, labels);
    const scaled = tf.tidy(() => noiseImage(sign).mul(255));
    tf.dispose([x, y, labels, sign]);
    try {
      images.set(await scaled.data(), start * perImage);
    } finally {
      scaled.dispose();
    }
  }
  return { ...set, images };
}

/** Trains the linear probe (softmax regression) on `trainSet` and returns its accuracy on `testSet`. */
export async function linearProbe(
  trainSet: ImageSet,
  testSet: ImageSet,
  numClasses: number,
  cfg: TrainConfig,
  batchSize: number,
  label: string,
  ctx: Pick<RunContext, 'seed' | 'progress' | 'signal'>,
): Promise<{ accuracy: number; epochs: EpochPoint[]; imagesPerSecond: number }> {
  const probe = buildClassifier(
    { kind: 'mlp', hidden: [] },
    { height: trainSet.height, width: trainSet.width, channels: trainSet.channels },
    numClasses,
    makeRng(ctx.seed, `model/probe/${label}`),
  );
  try {
    const r = await train(probe, trainSet, cfg, ctx.seed, { progress: ctx.progress, signal: ctx.signal });
    const accuracy = (await evaluate(probe, testSet, { batchSize, attacks: [], rng: makeRng(ctx.seed, 'eval') })).cleanAcc;
    return { accuracy, epochs: r.epochs, imagesPerSecond: r.imagesPerSecond };
  } finally {
    probe.dispose();
  }
}

async function sourceClassifier(p: GradientSignProbeParams, ctx: RunContext, data: Awaited<ReturnType<typeof selectData>>) {
  if (p.sourceTraining) {
    const t = await trainedModel({ data: p, model: p.sourceModel, training: p.sourceTraining, role: 'probe-source' }, data, ctx);
    return { model: t.model, owned: false };
  }
  const { train: set, dataset } = data;
  const model = buildClassifier(
    p.sourceModel,
    { height: set.height, width: set.width, channels: set.channels },
    dataset.classes.length,
    makeRng(ctx.seed, 'model/probe-source'),
  );
  return { model, owned: true };
}

export const gradientSignProbe: ExperimentKind<GradientSignProbeParams> = {
  name: 'gradient-sign-probe',
  paramsSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['dataset', 'sourceModel', 'features', 'probe', 'batchSize'],
    properties: {
      ...dataSelectionProperties,
      sourceModel: modelSpecSchema,
      sourceTraining: trainConfigSchema,
      features: { type: 'array', minItems: 1, uniqueItems: true, items: enumOf(FEATURE_SOURCES) },
      probe: trainConfigSchema,
      batchSize: { type: 'integer', minimum: 1 },
    },
  },
  metricNames: (p) => [...p.features.map((f) => `probe_acc_${featureKey(f)}`), 'source_clean_acc'],
  trainings(p) {
    const { dataset, trainSubset, testSubset } = p;
    const source = p.sourceTraining
      ? [{ role: 'probe-source', dataset, trainSubset, testSubset, model: p.sourceModel, training: p.sourceTraining, shareKey: trainingKey(modelKeyParts({ data: p, model: p.sourceModel, training: p.sourceTraining })) }]
      : [];
    // One linear probe per feature, never shared (each learns from other images). The
    // gradient features themselves (one input gradient per image and feature) are not counted.
    const probes = p.features.map((f) => ({ role: `probe-${f}`, dataset, trainSubset, testSubset, model: { kind: 'mlp' as const, hidden: [] }, training: p.probe }));
    return [...source, ...probes];
  },
  async run(p, ctx): Promise<SeedOutcome> {
    const data = await selectData(p, ctx.seed, ctx.dataDir);
    const source = await sourceClassifier(p, ctx, data);
    const metrics: Record<string, number> = {};
    const curves: Curves = {};
    const rates: number[] = [];
    try {
      metrics.source_clean_acc = (await evaluate(source.model, data.test, { batchSize: p.batchSize, attacks: [], rng: makeRng(ctx.seed, 'eval') })).cleanAcc;
      for (const f of p.features) {
        const rng = makeRng(ctx.seed, `probe/labels/${f}`);
        const trainFeatures = await gradientFeatures(source.model, data.train, f, p.batchSize, rng.fork('train'));
        const testFeatures = await gradientFeatures(source.model, data.test, f, p.batchSize, rng.fork('test'));
        const r = await linearProbe(trainFeatures, testFeatures, data.dataset.classes.length, p.probe, p.batchSize, f, ctx);
        rates.push(r.imagesPerSecond);
        curves[`probe:${f}`] = r.epochs;
        metrics[`probe_acc_${featureKey(f)}`] = r.accuracy;
      }
    } finally {
      if (source.owned) source.model.dispose();
    }
    return { metrics, curves, imagesPerSecond: meanThroughput(rates) };
  },
};
