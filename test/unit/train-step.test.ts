import * as tf from '@tensorflow/tfjs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { trainConfigSchema } from '../../src/train/config-schema.ts';
import { Sgd } from '../../src/train/sgd.ts';
import { adversarialExamples, drawEpsilons, LossReader, lossWeights, trainStep, type AdversarialTraining } from '../../src/train/step.ts';
import { makeRng } from '../../src/util/rng.ts';
import { buildClassifier } from '../../src/models/spec.ts';
import { makeClassifier } from '../helpers/linear-classifier.ts';

/** One step, its loss read back and the scalar freed (trainStep leaves the loss on the device). */
async function stepAndRead(...args: Parameters<typeof trainStep>): Promise<number> {
  const loss = trainStep(...args);
  try {
    return (await loss.data())[0];
  } finally {
    loss.dispose();
  }
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

/** Runs two steps with `adv` on a small linear model; returns the `training` flag of every forward pass of the second, which must leave no tensor behind. */
async function forwardPasses(adv: AdversarialTraining): Promise<boolean[]> {
  const rng = makeRng(3, 'train-step');
  const d = 4;
  const model = makeClassifier({
    kind: 'linear', height: 2, width: 2, channels: 1, numClasses: 3,
    weights: Array.from({ length: d * 3 }, () => rng.normal()), bias: [0, 0, 0],
  });
  const sgd = new Sgd(model.trainable, { momentum: 0.9, nesterov: false, weightDecay: 0 });
  const x = tf.tensor4d(Array.from({ length: 8 * d }, () => rng.next()), [8, 2, 2, 1]);
  const y = tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1], 'int32');
  try {
    await stepAndRead(model, sgd, { x, y }, adv, 0.01, rng); // the optimiser's slots appear on the first step
    model.calls.length = 0;
    const before = tf.memory().numTensors;
    const loss = await stepAndRead(model, sgd, { x, y }, adv, 0.01, rng);
    expect(Number.isFinite(loss)).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
    return model.calls;
  } finally {
    sgd.dispose();
    model.dispose();
    tf.dispose([x, y]);
  }
}

describe('adversarial batches with the attacks of issue 17', () => {
  const common = { fraction: 0.5, epsSigma: 8, lossWeight: 1 };

  it('crafts with fgsm-pred in one inference pass before the training pass', async () => {
    expect(await forwardPasses({ attack: 'fgsm-pred', ...common })).toEqual([false, true]);
  });

  it('crafts with PGD taking the configured steps (steps + 1 inference passes)', async () => {
    expect(await forwardPasses({ attack: 'pgd', steps: 3, stepSize: 2, ...common })).toEqual([false, false, false, false, true]);
  });

  it('refuses PGD without a step count, since each example draws its own ε', async () => {
    await expect(forwardPasses({ attack: 'pgd', ...common })).rejects.toThrow(/a per-example ε needs opts\.steps/);
  });
});

describe('the training config schema', () => {
  const validate = new Ajv2020({ strict: true, allErrors: true }).compile(trainConfigSchema);
  const config = (adversarial: object) => ({
    epochs: 1, batchSize: 8, lr: { base: 0.1, milestones: [], gamma: 1 }, momentum: 0.9, nesterov: false, weightDecay: 0,
    adversarial: { fraction: 0.5, epsSigma: 12, lossWeight: 1, ...adversarial },
  });

  it('takes fgsm-pred, and PGD with steps (step size optional)', () => {
    expect(validate(config({ attack: 'fgsm-pred' }))).toBe(true);
    expect(validate(config({ attack: 'pgd', steps: 7 }))).toBe(true);
    expect(validate(config({ attack: 'pgd', steps: 7, stepSize: 2 }))).toBe(true);
  });

  it('refuses PGD without steps, and steps or a step size on a one-step attack', () => {
    expect(validate(config({ attack: 'pgd', stepSize: 2 }))).toBe(false);
    expect(validate.errors?.some((e) => e.message === "must have required property 'steps'")).toBe(true);
    for (const extra of [{ steps: 2 }, { stepSize: 2 }]) {
      expect(validate(config({ attack: 'fgsm-pred', ...extra }))).toBe(false);
    }
    expect(validate(config({ attack: 'bim', steps: 2 }))).toBe(false);
  });
});

const adv = (over: Partial<AdversarialTraining>): AdversarialTraining => ({ attack: 'fgsm', fraction: 1, lossWeight: 1, ...over });

describe('training ε distributions', () => {
  it('without epsDist the draws are the half normal’s, number for number (existing specs keep their results)', () => {
    const implicit = drawEpsilons(adv({ epsSigma: 12 }), 100, makeRng(3));
    const explicit = drawEpsilons(adv({ epsDist: 'half-normal', epsSigma: 12 }), 100, makeRng(3));
    expect([...implicit]).toEqual([...explicit]);
  });

  it('fixed: every example gets ε', () => {
    expect([...drawEpsilons(adv({ epsDist: 'fixed', eps: 8 }), 5, makeRng(1))]).toEqual([8, 8, 8, 8, 8]);
  });

  it('uniform: ε in [0, eps), with mean eps / 2', () => {
    fc.assert(
      fc.property(fc.integer(), fc.double({ min: 0.5, max: 32, noNaN: true }), (seed, top) => {
        const eps = drawEpsilons(adv({ epsDist: 'uniform', eps: top }), 50, makeRng(seed));
        expect(eps.every((e) => e >= 0 && e < Math.fround(top) + 1e-5)).toBe(true);
      }),
      { numRuns: 30 },
    );
    const many = drawEpsilons(adv({ epsDist: 'uniform', eps: 16 }), 20000, makeRng(9));
    expect(many.reduce((a, b) => a + b, 0) / many.length).toBeCloseTo(8, 0);
  });

  it('a distribution without its field is an error that names the field', () => {
    expect(() => drawEpsilons(adv({ epsDist: 'fixed' }), 3, makeRng(1))).toThrow(/epsDist 'fixed' needs 'eps'/);
    expect(() => drawEpsilons(adv({}), 3, makeRng(1))).toThrow(/epsDist 'half-normal' needs 'epsSigma'/);
    expect(() => drawEpsilons(adv({ epsDist: 'uniform' }), 3, makeRng(1))).toThrow(/epsDist 'uniform' needs 'eps'/);
  });

  // The loop's per-step stream also feeds augmentation and random starts: a spare draw here
  // would shift every later draw of the run.
  it('take exactly one number per example from the stream (uniform: u·eps; half normal: |N(0, σ)| from two), and nothing more', () => {
    const uniform = makeRng(6, 'eps');
    const u = drawEpsilons(adv({ epsDist: 'uniform', eps: 10 }), 7, uniform);
    const refU = makeRng(6, 'eps');
    expect([...u]).toEqual(Array.from({ length: 7 }, () => Math.fround(refU.next() * 10)));
    expect(uniform.next()).toBe(refU.next());

    const half = makeRng(6, 'half');
    const h = drawEpsilons(adv({ epsSigma: 12 }), 7, half);
    const refH = makeRng(6, 'half');
    expect([...h]).toEqual(Array.from({ length: 7 }, () => Math.fround(Math.abs(refH.normal()) * 12)));
    expect(half.next()).toBe(refH.next());

    const fixed = makeRng(6, 'fixed');
    drawEpsilons(adv({ epsDist: 'fixed', eps: 3 }), 7, fixed);
    expect(fixed.next()).toBe(makeRng(6, 'fixed').next());
  });
});

describe('the schema of adversarial training', () => {
  const validate = new Ajv2020({ strict: true, allErrors: true }).compile(trainConfigSchema);
  const cfg = (adversarial: unknown) => ({ epochs: 1, batchSize: 8, lr: { base: 0.1, milestones: [], gamma: 0.1 }, momentum: 0.9, nesterov: false, weightDecay: 0, adversarial });
  it.each([
    ['the write-up’s (no epsDist)', { attack: 'fgsm', fraction: 0.5, epsSigma: 12, lossWeight: 1 }, true],
    ['fixed ε, all adversarial', { attack: 'fgsm', fraction: 1, epsDist: 'fixed', eps: 8, lossWeight: 1 }, true],
    ['FGSM-RS', { attack: 'fgsm', fraction: 1, epsDist: 'fixed', eps: 8, randomStart: { stepRatio: 1.25 }, lossWeight: 1 }, true],
    ['fixed without eps', { attack: 'fgsm', fraction: 1, epsDist: 'fixed', lossWeight: 1 }, false],
    ['half normal without σ', { attack: 'fgsm', fraction: 0.5, lossWeight: 1 }, false],
    ['fraction above 1', { attack: 'fgsm', fraction: 1.5, epsSigma: 12, lossWeight: 1 }, false],
    ['an unknown distribution', { attack: 'fgsm', fraction: 1, epsDist: 'gamma', eps: 8, lossWeight: 1 }, false],
  ])('%s: valid = %s', (_what, a, ok) => {
    expect(validate(cfg(a))).toBe(ok);
  });
});

describe('FGSM with a random start (Wong, Rice & Kolter 2020)', () => {
  it('stays in the ε-ball around x and in [0, 1], and differs from plain FGSM', () => {
    const model = buildClassifier({ kind: 'cnn', channels: [4] }, { height: 8, width: 8, channels: 3 }, 10, makeRng(1));
    const x = tf.randomUniform([6, 8, 8, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
    const y = tf.tensor1d([0, 1, 2, 3, 4, 5], 'int32');
    const eps = new Float32Array([0, 2, 4, 8, 16, 32]);
    const rs = adversarialExamples(model, adv({ epsDist: 'fixed', eps: 8, randomStart: { stepRatio: 1.25 } }), x, y, eps, makeRng(2));
    const plain = adversarialExamples(model, adv({ epsDist: 'fixed', eps: 8 }), x, y, eps, makeRng(2));
    const dist = tf.tidy(() => tf.abs(rs.sub(x)).max([1, 2, 3]).dataSync());
    eps.forEach((e, i) => expect(dist[i]).toBeLessThanOrEqual(e / 255 + 1e-6));
    expect(rs.min().dataSync()[0]).toBeGreaterThanOrEqual(0);
    expect(rs.max().dataSync()[0]).toBeLessThanOrEqual(1);
    expect(tf.tidy(() => tf.abs(rs.sub(plain)).max().dataSync()[0])).toBeGreaterThan(0);
    tf.dispose([x, y, rs, plain]);
    model.dispose();
  });

  it('steps stepRatio·ε from a uniform random start, then projects into the ε-ball (hand-worked on a two-class linear model)', () => {
    // Two classes, logits = x·W: the true-label loss gradient at any x has the sign of
    // W[:, other] − W[:, y], so each pixel's FGSM direction σ is known without the model.
    // From x + δ₀ (δ₀ ~ U(−r, r)) a step of s·r along σ, projected back, leaves δ·σ = min(δ₀·σ + s·r, r):
    // never below (s − 1)·r, and at the boundary r for a fraction s/2 of the pixels.
    const [h, w, n, stepRatio] = [4, 4, 120, 0.5];
    const d = h * w;
    const rng = makeRng(21, 'fgsm-rs');
    const weights = Array.from({ length: d * 2 }, () => rng.normal());
    const model = makeClassifier({ kind: 'linear', height: h, width: w, channels: 1, numClasses: 2, weights, bias: [0, 0] });
    const labels = Array.from({ length: n }, (_, i) => i % 2);
    const x = tf.fill([n, h, w, 1], 0.5) as tf.Tensor4D;
    const y = tf.tensor1d(labels, 'int32');
    const eps = new Float32Array(n).map((_, i) => [4, 8, 12][i % 3]);
    const out = adversarialExamples(model, adv({ epsDist: 'fixed', eps: 8, randomStart: { stepRatio } }), x, y, eps, makeRng(2));
    const v = out.dataSync();
    tf.dispose([x, y, out]);
    model.dispose();
    let lowest = Infinity;
    let atBoundary = 0;
    for (let b = 0; b < n; b++) {
      const r = Math.fround(eps[b] / 255);
      for (let p = 0; p < d; p++) {
        const sigma = Math.sign(weights[p * 2 + 1 - labels[b]] - weights[p * 2 + labels[b]]);
        const u = ((v[b * d + p] - 0.5) * sigma) / r;
        expect(u).toBeGreaterThanOrEqual(stepRatio - 1 - 1e-4);
        expect(u).toBeLessThanOrEqual(1 + 1e-4);
        lowest = Math.min(lowest, u);
        if (Math.abs(u - 1) < 1e-4) atBoundary++;
      }
    }
    const pixels = n * d;
    // The seeded start reaches near its lower end: among 1920 uniform draws, none within 1% of the width of it is a 1e-8 event.
    expect(lowest).toBeLessThanOrEqual(stepRatio - 1 + 0.02);
    const p = stepRatio / 2;
    expect(Math.abs(atBoundary - pixels * p)).toBeLessThanOrEqual(4 * Math.sqrt(pixels * p * (1 - p)));
  });

  it('a training step with it leaves no tensor behind', async () => {
    const model = buildClassifier({ kind: 'cnn', channels: [4] }, { height: 8, width: 8, channels: 3 }, 10, makeRng(1));
    const sgd = new Sgd(model.trainable, { momentum: 0.9, nesterov: false, weightDecay: 0 });
    const x = tf.randomUniform([6, 8, 8, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
    const y = tf.tensor1d([0, 1, 2, 3, 4, 5], 'int32');
    const a = adv({ epsDist: 'uniform', eps: 8, randomStart: { stepRatio: 1.25 } });
    const rng = makeRng(4);
    await stepAndRead(model, sgd, { x, y }, a, 0.01, rng);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) await stepAndRead(model, sgd, { x, y }, a, 0.01, rng);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, y]);
    model.dispose();
  });
});

describe('the weighted loss of an adversarial batch (Kurakin et al.)', () => {
  it('is (λ·Σ adversarial CE + Σ clean CE) / (m − k + λk), hand-computed on a linear model with ε = 0 (adversarial = clean)', async () => {
    const weights = [1, -1, 0.5, 2, -0.5, 0]; // [pixel][class], 2 pixels, 3 classes
    const model = makeClassifier({ kind: 'linear', height: 1, width: 2, channels: 1, numClasses: 3, weights, bias: [0, 0.1, -0.1] });
    const sgd = new Sgd(model.trainable, { momentum: 0, nesterov: false, weightDecay: 0 });
    const pixels = [[0.2, 0.8], [1, 0], [0.5, 0.5], [0, 1]];
    const labels = [0, 1, 2, 1];
    const x = tf.tensor4d(pixels.flat(), [4, 1, 2, 1]);
    const y = tf.tensor1d(labels, 'int32');
    const ce = pixels.map(([a, b], i) => {
      const z = [0, 1, 2].map((k) => a * weights[k] + b * weights[3 + k] + [0, 0.1, -0.1][k]);
      return Math.log(z.reduce((s, v) => s + Math.exp(v), 0)) - z[labels[i]];
    });
    try {
      const lambda = 0.3;
      const loss = await stepAndRead(model, sgd, { x, y }, adv({ epsDist: 'fixed', eps: 0, fraction: 0.5, lossWeight: lambda }), 0, makeRng(1));
      // k = 2 adversarial (the first two), m − k = 2 clean.
      expect(loss).toBeCloseTo((lambda * (ce[0] + ce[1]) + ce[2] + ce[3]) / (2 + lambda * 2), 5);
    } finally {
      sgd.dispose();
      model.dispose();
      tf.dispose([x, y]);
    }
  });

  it('lossWeights (webgpu’s uniforms): λ/(m − k + λk) and 1/(m − k + λk) in float32', () => {
    const w = lossWeights(8, 4, 0.3);
    expect(w.adversarialWeight).toBeCloseTo(0.3 / 5.2, 7);
    expect(w.cleanWeight).toBeCloseTo(1 / 5.2, 7);
    expect(Math.fround(w.cleanWeight)).toBe(w.cleanWeight);
  });
});

describe('the loss reader', () => {
  it('hands back the pushed losses in order, then holds none, and frees every scalar', async () => {
    const before = tf.memory().numTensors;
    const reader = new LossReader();
    expect(await reader.read()).toEqual(new Float32Array(0));
    reader.push(tf.scalar(1.5));
    expect(reader.size).toBe(1);
    expect(Array.from(await reader.read())).toEqual([1.5]);
    [0.25, 2, 3].forEach((v) => reader.push(tf.scalar(v)));
    expect(reader.size).toBe(3);
    expect(Array.from(await reader.read())).toEqual([0.25, 2, 3]);
    expect(reader.size).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
    reader.push(tf.scalar(4));
    reader.dispose();
    expect(reader.size).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
  });
});
