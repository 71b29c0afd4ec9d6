import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { fgsm, fgsmAlong, fgsmPred, leastLikelyClass, lossGradientSign, stepLL, stepRand } from '../../src/attacks/index.ts';
import { makeRng } from '../../src/util/rng.ts';
import {
  crossEntropy64,
  inputSize,
  linearInputGradient64,
  logits64,
  problem,
  row,
  softmax64,
  withProblem,
  type LinearParams,
  type Problem,
} from '../helpers/linear-classifier.ts';

// float32 rounding of x ± ε/255 may overshoot ε by an ulp of 1.
const ULP_SLACK = 1e-6;
const RUNS = { numRuns: 40 };

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

type OneStep = 'fgsm' | 'fgsm-pred' | 'step-ll' | 'step-rand';
const oneStepNames: OneStep[] = ['fgsm', 'fgsm-pred', 'step-ll', 'step-rand'];

function runOneStep(
  name: OneStep,
  model: Parameters<typeof fgsm>[0],
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  eps: number | tf.Tensor1D,
  seed = 1,
): tf.Tensor4D {
  if (name === 'fgsm') return fgsm(model, x, y, eps);
  if (name === 'fgsm-pred') return fgsmPred(model, x, eps);
  if (name === 'step-ll') return stepLL(model, x, eps);
  return stepRand(model, x, eps, makeRng(seed, 'step-rand'));
}

function craft(name: OneStep, pr: Problem, eps: number): { x: Float32Array; adv: Float32Array } {
  return withProblem(pr, (model, x, y) => {
    const adv = runOneStep(name, model, x, y, eps);
    const out = { x: x.dataSync() as Float32Array, adv: adv.dataSync() as Float32Array };
    adv.dispose();
    return out;
  });
}

const epsPixels = fc.float({ min: 0, max: 64, noNaN: true });
const anyEpsPixels = fc.float({ min: 0, max: 255, noNaN: true });
const attackName = fc.constantFrom(...oneStepNames);

describe('one-step attacks (FGSM, FGSM-pred, step-LL, step-rand)', () => {
  it('never move a pixel by more than ε (L∞ ball)', () => {
    fc.assert(
      fc.property(problem(), epsPixels, attackName, (pr, eps, name) => {
        const { x, adv } = craft(name, pr, eps);
        for (let i = 0; i < x.length; i++) {
          expect(Math.abs(adv[i] - x[i])).toBeLessThanOrEqual(eps / 255 + ULP_SLACK);
        }
      }),
      RUNS,
    );
  });

  it('keep every pixel in [0, 1], however large ε is', () => {
    fc.assert(
      fc.property(problem(), anyEpsPixels, attackName, (pr, eps, name) => {
        const { adv } = craft(name, pr, eps);
        for (const v of adv) {
          expect(v).toBeGreaterThanOrEqual(0);
          expect(v).toBeLessThanOrEqual(1);
        }
      }),
      RUNS,
    );
  });

  it('are the identity at ε = 0', () => {
    fc.assert(
      fc.property(problem(), attackName, (pr, name) => {
        const { x, adv } = craft(name, pr, 0);
        expect(Array.from(adv)).toEqual(Array.from(x));
      }),
      RUNS,
    );
  });

  it('perturb each row of a per-example ε tensor exactly as that row’s scalar ε would', () => {
    const withEpsilons = problem().chain((pr) =>
      fc.tuple(fc.constant(pr), fc.array(epsPixels, { minLength: pr.batch, maxLength: pr.batch })),
    );
    fc.assert(
      fc.property(withEpsilons, attackName, fc.nat(), ([pr, epsRows], name, seed) => {
        withProblem(pr, (model, x, y) => {
          const d = inputSize(pr.params);
          const epsTensor = tf.tensor1d(epsRows);
          const perRow = runOneStep(name, model, x, y, epsTensor, seed);
          const got = perRow.dataSync();
          epsRows.forEach((eps, i) => {
            const scalar = runOneStep(name, model, x, y, eps, seed);
            expect(row(got, i, d)).toEqual(row(scalar.dataSync(), i, d));
            scalar.dispose();
          });
          tf.dispose([epsTensor, perRow]);
        });
      }),
      { numRuns: 25 },
    );
  });

  it('perturb each example independently of the rest of its batch', () => {
    fc.assert(
      fc.property(problem(), epsPixels, fc.constantFrom<OneStep>('fgsm', 'fgsm-pred', 'step-ll'), (pr, eps, name) => {
        withProblem(pr, (model, x, y) => {
          const d = inputSize(pr.params);
          const whole = runOneStep(name, model, x, y, eps);
          const got = whole.dataSync();
          for (let i = 0; i < pr.batch; i++) {
            const xi = tf.slice(x, [i, 0, 0, 0], [1, -1, -1, -1]);
            const yi = tf.slice(y, [i], [1]);
            const alone = runOneStep(name, model, xi, yi, eps);
            expect(row(got, i, d)).toEqual(Array.from(alone.dataSync()));
            tf.dispose([xi, yi, alone]);
          }
          whole.dispose();
        });
      }),
      { numRuns: 25 },
    );
  });
});

describe('FGSM', () => {
  it('is clip(x + ε·sign(∇ₓL(y)), 0, 1)', () => {
    fc.assert(
      fc.property(problem(), epsPixels, (pr, eps) => {
        withProblem(pr, (model, x, y) => {
          const adv = fgsm(model, x, y, eps);
          const expected = tf.tidy(() =>
            tf.clipByValue(tf.add(x, tf.mul(tf.div(tf.scalar(eps), 255), lossGradientSign(model, x, y))), 0, 1),
          );
          expect(Array.from(adv.dataSync())).toEqual(Array.from(expected.dataSync()));
          tf.dispose([adv, expected]);
        });
      }),
      RUNS,
    );
  });

  it('is fgsmAlong(x, sign(∇ₓL(y)), ε): the step the loss-versus-ε sweep takes, bit for bit', () => {
    fc.assert(
      fc.property(problem(), epsPixels, (pr, eps) => {
        withProblem(pr, (model, x, y) => {
          const sign = lossGradientSign(model, x, y);
          const [along, adv] = [fgsmAlong(x, sign, eps), fgsm(model, x, y, eps)];
          expect(Array.from(along.dataSync())).toEqual(Array.from(adv.dataSync()));
          tf.dispose([sign, along, adv]);
        });
      }),
      RUNS,
    );
  });

  it('never decreases a linear softmax model’s loss, at any ε (the loss is convex in x)', () => {
    fc.assert(
      fc.property(problem(['linear']), anyEpsPixels, (pr, eps) => {
        const d = inputSize(pr.params);
        const { x, adv } = craft('fgsm', pr, eps);
        for (let i = 0; i < pr.batch; i++) {
          const before = crossEntropy64(pr.params, row(x, i, d), pr.labels[i]);
          const after = crossEntropy64(pr.params, row(adv, i, d), pr.labels[i]);
          // float32 may get the sign of a near-zero gradient wrong; that costs at most |g|·ε.
          expect(after).toBeGreaterThanOrEqual(before - 1e-6);
        }
      }),
      RUNS,
    );
  });

  it('raises a linear model’s loss by at least the first-order gain ∇L·(x_adv − x) ≥ 0', () => {
    fc.assert(
      fc.property(problem(['linear']), anyEpsPixels, (pr, eps) => {
        const p = pr.params as LinearParams;
        const d = inputSize(p);
        const { x, adv } = craft('fgsm', pr, eps);
        for (let i = 0; i < pr.batch; i++) {
          const xi = row(x, i, d);
          const g = linearInputGradient64(p, xi, pr.labels[i]);
          const gain = g.reduce((acc, gj, j) => acc + gj * (adv[i * d + j] - xi[j]), 0);
          expect(gain).toBeGreaterThanOrEqual(-1e-7);
          const rise = crossEntropy64(p, row(adv, i, d), pr.labels[i]) - crossEntropy64(p, xi, pr.labels[i]);
          expect(rise).toBeGreaterThanOrEqual(gain - 1e-9);
        }
      }),
      RUNS,
    );
  });
});

/** The model's own prediction for each example, as float32 logits rank them. */
function predictions(model: Parameters<typeof fgsm>[0], x: tf.Tensor4D): tf.Tensor1D {
  return tf.tidy(() => tf.argMax(model.logits(x, false), 1) as tf.Tensor1D);
}

describe('FGSM-pred (FGSM toward the model’s own prediction)', () => {
  it('equals FGSM exactly when the labels are the model’s predictions', () => {
    fc.assert(
      fc.property(problem(), anyEpsPixels, (pr, eps) => {
        withProblem(pr, (model, x) => {
          const predicted = predictions(model, x);
          const pred = fgsmPred(model, x, eps);
          const viaFgsm = fgsm(model, x, predicted, eps);
          expect(Array.from(pred.dataSync())).toEqual(Array.from(viaFgsm.dataSync()));
          tf.dispose([predicted, pred, viaFgsm]);
        });
      }),
      RUNS,
    );
  });

  it('differs from true-label FGSM only on examples the model gets wrong', () => {
    fc.assert(
      fc.property(problem(), epsPixels, (pr, eps) => {
        withProblem(pr, (model, x, y) => {
          const d = inputSize(pr.params);
          const predicted = Array.from(predictions(model, x).dataSync());
          const pred = fgsmPred(model, x, eps).dataSync();
          const truth = fgsm(model, x, y, eps).dataSync();
          for (let i = 0; i < pr.batch; i++) {
            if (predicted[i] === pr.labels[i]) expect(row(pred, i, d)).toEqual(row(truth, i, d));
          }
        });
      }),
      RUNS,
    );
  });

  it('raises a linear model’s loss on its own prediction, to first order, and makes one forward pass', () => {
    fc.assert(
      fc.property(problem(['linear']), anyEpsPixels, (pr, eps) => {
        const p = pr.params as LinearParams;
        const d = inputSize(p);
        withProblem(pr, (model, x) => {
          const adv = fgsmPred(model, x, eps).dataSync();
          expect(model.calls).toEqual([false]);
          const xs = x.dataSync();
          for (let i = 0; i < pr.batch; i++) {
            const xi = row(xs, i, d);
            const z = logits64(p, xi);
            const sorted = [...z].sort((a, b) => b - a);
            // near a tie float32 may predict another class than float64 does
            if (sorted[0] - sorted[1] < 1e-3) continue;
            const g = linearInputGradient64(p, xi, z.indexOf(sorted[0]));
            const gain = g.reduce((acc, gj, j) => acc + gj * (adv[i * d + j] - xi[j]), 0);
            expect(gain).toBeGreaterThanOrEqual(-1e-7);
          }
        });
      }),
      RUNS,
    );
  });
});

describe('step-LL', () => {
  it('is clip(x − ε·sign(∇ₓL(y_LL)), 0, 1) with y_LL the least likely class of x', () => {
    fc.assert(
      fc.property(problem(), epsPixels, (pr, eps) => {
        withProblem(pr, (model, x) => {
          const adv = stepLL(model, x, eps);
          const expected = tf.tidy(() => {
            const ll = leastLikelyClass(model, x);
            const e = tf.div(tf.scalar(eps), 255);
            return tf.clipByValue(tf.sub(x, tf.mul(e, lossGradientSign(model, x, ll))), 0, 1);
          });
          expect(Array.from(adv.dataSync())).toEqual(Array.from(expected.dataSync()));
          tf.dispose([adv, expected]);
        });
      }),
      RUNS,
    );
  });

  it('moves toward the least likely class: to first order, log p_LL does not fall', () => {
    fc.assert(
      fc.property(problem(['linear']), anyEpsPixels, (pr, eps) => {
        const p = pr.params as LinearParams;
        const d = inputSize(p);
        const { x, adv } = craft('step-ll', pr, eps);
        for (let i = 0; i < pr.batch; i++) {
          const xi = row(x, i, d);
          const z = logits64(p, xi);
          const ll = z.indexOf(Math.min(...z));
          // ∇ log p_LL = −∇ CE(y_LL)
          const g = linearInputGradient64(p, xi, ll);
          const slope = g.reduce((acc, gj, j) => acc - gj * (adv[i * d + j] - xi[j]), 0);
          expect(slope).toBeGreaterThanOrEqual(-1e-7);
        }
      }),
      RUNS,
    );
  });

  it('raises p_LL of a linear model whenever its first-order gain beats the curvature bound', () => {
    const smallEps = fc.float({ min: Math.fround(1e-3), max: 1, noNaN: true });
    let checked = 0;
    fc.assert(
      fc.property(problem(['linear']), smallEps, (pr, eps) => {
        const p = pr.params as LinearParams;
        const d = inputSize(p);
        const K = p.numClasses;
        const { x, adv } = craft('step-ll', pr, eps);
        for (let i = 0; i < pr.batch; i++) {
          const xi = row(x, i, d);
          const z = logits64(p, xi);
          const sorted = [...z].sort((a, b) => a - b);
          // near a tie float32 may pick another least likely class than float64 does
          if (sorted[1] - sorted[0] < 1e-3) continue;
          const ll = z.indexOf(sorted[0]);
          const g = linearInputGradient64(p, xi, ll);
          const delta = row(adv, i, d).map((v, j) => v - xi[j]);
          const gain = -g.reduce((acc, gj, j) => acc + gj * delta[j], 0);
          // CE(y_LL) along δ has second derivative Var_p(Wδ) ≤ range(Wδ)²/4 (Popoviciu)
          const wDelta = Array.from({ length: K }, (_, k) => delta.reduce((acc, dj, j) => acc + dj * p.weights[j * K + k], 0));
          const curvature = (Math.max(...wDelta) - Math.min(...wDelta)) ** 2 / 8;
          if (gain <= curvature + 1e-12) continue;
          checked++;
          const before = softmax64(z)[ll];
          const after = softmax64(logits64(p, row(adv, i, d)))[ll];
          expect(after).toBeGreaterThan(before);
        }
      }),
      RUNS,
    );
    expect(checked).toBeGreaterThan(0);
  });
});

describe('step-rand', () => {
  it('is clip(x − ε·sign(∇ₓL(y_rand)), 0, 1) with one uniform label per example drawn from the rng', () => {
    fc.assert(
      fc.property(problem(), epsPixels, fc.nat(), (pr, eps, seed) => {
        withProblem(pr, (model, x) => {
          const rng = makeRng(seed, 'attack');
          const twin = makeRng(seed, 'attack');
          const adv = stepRand(model, x, eps, rng);
          const drawn = Array.from({ length: pr.batch }, () => twin.int(pr.params.numClasses));
          const expected = tf.tidy(() => {
            const labels = tf.tensor1d(drawn, 'int32');
            const e = tf.div(tf.scalar(eps), 255);
            return tf.clipByValue(tf.sub(x, tf.mul(e, lossGradientSign(model, x, labels))), 0, 1);
          });
          expect(Array.from(adv.dataSync())).toEqual(Array.from(expected.dataSync()));
          // exactly one draw per example, so later streams stay aligned
          expect(rng.next()).toBe(twin.next());
          tf.dispose([adv, expected]);
        });
      }),
      RUNS,
    );
  });
});
