import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  bim,
  defaultIterations,
  fgsm,
  iterLL,
  leastLikelyClass,
  crossEntropyEach,
  lossGradientSign,
  pgd,
  randomStart,
  stepLL,
  type IterativeOptions,
} from '../../src/attacks/index.ts';
import type { Classifier } from '../../src/models/types.ts';
import { makeRng } from '../../src/util/rng.ts';
import { inputSize, makeClassifier, problem, row, withProblem, type HiddenParams } from '../helpers/linear-classifier.ts';

const ULP_SLACK = 1e-6;
const RUNS = { numRuns: 30 };
const f32 = Math.fround;

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

type Iterative = 'bim' | 'iter-ll' | 'pgd';
const iterativeName = fc.constantFrom<Iterative>('bim', 'iter-ll', 'pgd');

function runIterative(name: Iterative, model: Classifier, x: tf.Tensor4D, y: tf.Tensor1D, opts: IterativeOptions, seed = 1): tf.Tensor4D {
  if (name === 'pgd') return pgd(model, x, y, { ...opts, rng: makeRng(seed, 'pgd') });
  return name === 'bim' ? bim(model, x, y, opts) : iterLL(model, x, opts);
}

const iterativeOpts: fc.Arbitrary<IterativeOptions> = fc.record(
  {
    eps: fc.float({ min: 0, max: 32, noNaN: true }),
    stepSize: fc.float({ min: Math.fround(0.25), max: 64, noNaN: true }),
    steps: fc.integer({ min: 0, max: 5 }),
  },
  { requiredKeys: ['eps'] },
).map((o) => (o.steps === undefined ? { ...o, eps: Math.min(o.eps, 12) } : o)); // default steps grow with ε

/**
 * The iteration redone in JS with float32 rounding after every operation, as the `cpu`
 * backend rounds: x_{k+1} = min(max(x_k + α·s_k, max(x − ε, 0)), min(x + ε, 1)),
 * with s_k = sign ∇L(target, x_k) and the target fixed before the first step.
 */
function referenceIterate(model: Classifier, x: tf.Tensor4D, target: tf.Tensor1D, direction: 1 | -1, eps: number, stepSize: number, steps: number): number[] {
  const e = f32(f32(eps) / 255);
  const alpha = f32(f32(f32(stepSize) / 255) * direction);
  const x0 = Array.from(x.dataSync());
  const lo = x0.map((v) => Math.max(f32(v - e), 0));
  const hi = x0.map((v) => Math.min(f32(v + e), 1));
  let xk = x0;
  for (let k = 0; k < steps; k++) {
    const s = tf.tidy(() => lossGradientSign(model, tf.tensor4d(xk, x.shape), target).dataSync());
    xk = xk.map((v, i) => Math.min(Math.max(f32(v + f32(alpha * s[i])), lo[i]), hi[i]));
  }
  return xk;
}

describe('iterative attacks (BIM, iter-LL, PGD)', () => {
  it('never leave the ε-ball around x nor the pixel range [0, 1], whatever the step size and count', () => {
    fc.assert(
      fc.property(problem(), iterativeOpts, iterativeName, (pr, opts, name) => {
        withProblem(pr, (model, x, y) => {
          const adv = runIterative(name, model, x, y, opts);
          const xs = x.dataSync();
          adv.dataSync().forEach((v, i) => {
            expect(Math.abs(v - xs[i])).toBeLessThanOrEqual(opts.eps / 255 + ULP_SLACK);
            expect(v).toBeGreaterThanOrEqual(0);
            expect(v).toBeLessThanOrEqual(1);
          });
          adv.dispose();
        });
      }),
      RUNS,
    );
  });

  it('are the identity at ε = 0, with the default or any number of steps', () => {
    fc.assert(
      fc.property(problem(), iterativeName, fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }), (pr, name, steps) => {
        withProblem(pr, (model, x, y) => {
          const adv = runIterative(name, model, x, y, { eps: 0, steps, stepSize: 4 });
          expect(Array.from(adv.dataSync())).toEqual(Array.from(x.dataSync()));
          adv.dispose();
        });
      }),
      RUNS,
    );
  });

  it('BIM ascends the true label’s loss step by step, projecting after each step', () => {
    fc.assert(
      fc.property(problem(), iterativeOpts, (pr, opts) => {
        withProblem(pr, (model, x, y) => {
          const steps = opts.steps ?? defaultIterations(opts.eps);
          const expected = referenceIterate(model, x, y, 1, opts.eps, opts.stepSize ?? 1, steps);
          const adv = bim(model, x, y, opts);
          expect(Array.from(adv.dataSync())).toEqual(expected);
          adv.dispose();
        });
      }),
      RUNS,
    );
  });

  it('iter-LL descends toward the clean image’s least likely class, kept fixed across steps', () => {
    fc.assert(
      fc.property(problem(), iterativeOpts, (pr, opts) => {
        withProblem(pr, (model, x, y) => {
          const steps = opts.steps ?? defaultIterations(opts.eps);
          const ll = leastLikelyClass(model, x);
          const expected = referenceIterate(model, x, ll, -1, opts.eps, opts.stepSize ?? 1, steps);
          const adv = iterLL(model, x, opts);
          expect(Array.from(adv.dataSync())).toEqual(expected);
          tf.dispose([ll, adv]);
        });
      }),
      RUNS,
    );
  });

  it('with one step of size ε equal FGSM and step-LL exactly', () => {
    fc.assert(
      fc.property(problem(), fc.float({ min: 0, max: 64, noNaN: true }), (pr, eps) => {
        withProblem(pr, (model, x, y) => {
          const pairs = [
            [bim(model, x, y, { eps, stepSize: eps, steps: 1 }), fgsm(model, x, y, eps)],
            [iterLL(model, x, { eps, stepSize: eps, steps: 1 }), stepLL(model, x, eps)],
          ];
          for (const [iterative, oneStep] of pairs) {
            expect(Array.from(iterative.dataSync())).toEqual(Array.from(oneStep.dataSync()));
          }
          tf.dispose(pairs.flat());
        });
      }),
      RUNS,
    );
  });

  it('step by 1 pixel by default (one default step equals FGSM at ε = 1 when the ball is wider)', () => {
    fc.assert(
      fc.property(problem(), fc.float({ min: 1, max: 32, noNaN: true }), (pr, eps) => {
        withProblem(pr, (model, x, y) => {
          const pairs = [
            [bim(model, x, y, { eps, steps: 1 }), fgsm(model, x, y, 1)],
            [iterLL(model, x, { eps, steps: 1 }), stepLL(model, x, 1)],
          ];
          for (const [iterative, oneStep] of pairs) {
            expect(Array.from(iterative.dataSync())).toEqual(Array.from(oneStep.dataSync()));
          }
          tf.dispose(pairs.flat());
        });
      }),
      RUNS,
    );
  });

  it('take round(min(ε + 4, 1.25ε)) steps by default: one forward pass per step, plus one for the LL class or PGD’s last iterate', () => {
    fc.assert(
      fc.property(problem(), fc.float({ min: 0, max: 24, noNaN: true }), iterativeName, (pr, eps, name) => {
        withProblem(pr, (model, x, y) => {
          tf.dispose(runIterative(name, model, x, y, { eps }));
          const steps = defaultIterations(eps);
          expect(model.calls.length).toBe(steps + (name === 'bim' || (name === 'pgd' && steps === 0) ? 0 : 1));
        });
      }),
      { numRuns: 15 },
    );
  });

  it('reject a step count that is negative or not an integer', () => {
    fc.assert(
      fc.property(
        problem(),
        iterativeName,
        fc.oneof(fc.integer({ min: -5, max: -1 }), fc.double({ min: 0.01, max: 5, noInteger: true, noNaN: true })),
        (pr, name, steps) => {
          withProblem(pr, (model, x, y) => {
            const before = tf.memory().numTensors;
            expect(() => runIterative(name, model, x, y, { eps: 4, steps })).toThrow(/steps must be an integer ≥ 0/);
            expect(tf.memory().numTensors).toBe(before);
            expect(model.calls).toEqual([]);
          });
        },
      ),
      { numRuns: 10 },
    );
  });
});

describe('an iterative attack whose model fails mid-way', () => {
  it('passes the error on and leaks no tensor, whichever step fails', () => {
    fc.assert(
      fc.property(problem(), iterativeName, fc.integer({ min: 1, max: 3 }), (pr, name, failAt) => {
        withProblem(pr, (model, x, y) => {
          let calls = 0;
          const failing: Classifier = {
            ...model,
            logits: (xi, training) => {
              if (++calls === failAt) throw new Error('model failed');
              return model.logits(xi, training);
            },
          };
          const before = tf.memory().numTensors;
          expect(() => runIterative(name, failing, x, y, { eps: 8, steps: 4 })).toThrow('model failed');
          expect(tf.memory().numTensors).toBe(before);
        });
      }),
      { numRuns: 10 },
    );
  });
});

/** Madry et al.'s start redone in JS with float32 rounding: x + (2u − 1)·ε, u ~ U[0, 1) per pixel, projected. */
function referenceStart(xs: ArrayLike<number>, epsRows: number[], d: number, seed: number): number[] {
  const rng = makeRng(seed, 'pgd');
  return Array.from(xs, (v, i) => {
    const e = f32(f32(epsRows[Math.floor(i / d)]) / 255);
    const offset = f32(f32(f32(2 * f32(rng.next())) - 1) * e);
    return Math.min(Math.max(f32(v + offset), Math.max(f32(v - e), 0)), Math.min(f32(v + e), 1));
  });
}

/** Each example's true-label loss in float32, as the attack computes it. */
function lossEach(model: Classifier, x: tf.Tensor4D, y: tf.Tensor1D): number[] {
  return tf.tidy(() => Array.from(crossEntropyEach(y, model.logits(x, false)).dataSync()));
}

const pgdOpts = iterativeOpts.map((o) => ({ ...o, seed: 0 })).chain((o) => fc.nat().map((seed) => ({ ...o, seed })));

describe('PGD (Madry et al. 2018)', () => {
  it('starts at x + (2u − 1)·ε with one uniform u per pixel from the rng, projected onto the ε-ball and [0, 1]', () => {
    fc.assert(
      fc.property(problem(), fc.float({ min: 0, max: 64, noNaN: true }), fc.nat(), (pr, eps, seed) => {
        withProblem(pr, (model, x) => {
          const rng = makeRng(seed, 'pgd');
          const start = randomStart(x, eps, rng);
          expect(Array.from(start.dataSync())).toEqual(referenceStart(x.dataSync(), Array(pr.batch).fill(eps), inputSize(pr.params), seed));
          // exactly one draw per pixel, so later streams stay aligned
          const twin = makeRng(seed, 'pgd');
          for (let i = 0; i < x.size; i++) twin.next();
          expect(rng.next()).toBe(twin.next());
          expect(model.calls).toEqual([]);
          start.dispose();
        });
      }),
      RUNS,
    );
  });

  it('with zero steps returns its random start, without a forward pass', () => {
    fc.assert(
      fc.property(problem(), fc.float({ min: 0, max: 64, noNaN: true }), fc.nat(), (pr, eps, seed) => {
        withProblem(pr, (model, x, y) => {
          const adv = pgd(model, x, y, { eps, steps: 0, rng: makeRng(seed, 'pgd') });
          const start = randomStart(x, eps, makeRng(seed, 'pgd'));
          expect(Array.from(adv.dataSync())).toEqual(Array.from(start.dataSync()));
          expect(model.calls).toEqual([]);
          tf.dispose([adv, start]);
        });
      }),
      RUNS,
    );
  });

  it('returns, per example, the iterate of highest true-label loss on BIM’s walk from the random start (the earliest on ties)', () => {
    fc.assert(
      fc.property(problem(), pgdOpts, (pr, opts) => {
        withProblem(pr, (model, x, y) => {
          const d = inputSize(pr.params);
          const steps = opts.steps ?? defaultIterations(opts.eps);
          const e = f32(f32(opts.eps) / 255);
          const alpha = f32(f32(opts.stepSize ?? 1) / 255);
          const x0 = Array.from(x.dataSync());
          const lo = x0.map((v) => Math.max(f32(v - e), 0));
          const hi = x0.map((v) => Math.min(f32(v + e), 1));
          let xk = referenceStart(x0, Array(pr.batch).fill(opts.eps), d, opts.seed);
          const best = xk.slice();
          const bestLoss = Array(pr.batch).fill(-Infinity);
          for (let k = 0; k <= steps; k++) {
            const xt = tf.tensor4d(xk, x.shape);
            lossEach(model, xt, y).forEach((l, i) => {
              if (steps > 0 && l > bestLoss[i]) {
                bestLoss[i] = l;
                for (let j = i * d; j < (i + 1) * d; j++) best[j] = xk[j];
              }
            });
            if (k < steps) {
              const s = lossGradientSign(model, xt, y).dataSync();
              xk = xk.map((v, i) => Math.min(Math.max(f32(v + f32(alpha * s[i])), lo[i]), hi[i]));
            }
            xt.dispose();
          }
          const adv = pgd(model, x, y, { ...opts, rng: makeRng(opts.seed, 'pgd') });
          expect(Array.from(adv.dataSync())).toEqual(best);
          adv.dispose();
        });
      }),
      RUNS,
    );
  });

  // The dispatcher always passes `training`, so only a direct call reaches PGD's own default:
  // its last forward pass (the loss of the final iterate) must be in inference mode too, or a
  // BatchNorm net would pick its best iterate by batch statistics.
  it('called without `training`, runs every forward pass in inference mode, the final iterate’s included; with it, passes it on', () => {
    fc.assert(
      fc.property(problem(), pgdOpts, fc.constantFrom(undefined, true, false), (pr, opts, training) => {
        withProblem(pr, (model, x, y) => {
          const steps = Math.max(1, opts.steps ?? 1);
          const given = training === undefined ? {} : { training };
          tf.dispose(pgd(model, x, y, { ...opts, steps, ...given, rng: makeRng(opts.seed, 'pgd') }));
          expect(model.calls).toHaveLength(steps + 1);
          expect(model.calls.every((t) => t === (training ?? false))).toBe(true);
        });
      }),
      RUNS,
    );
  });

  it('never does worse than its random start on the true-label loss it ascends, whatever the model', () => {
    fc.assert(
      fc.property(problem(), pgdOpts, (pr, opts) => {
        withProblem(pr, (model, x, y) => {
          const start = randomStart(x, opts.eps, makeRng(opts.seed, 'pgd'));
          const adv = pgd(model, x, y, { ...opts, rng: makeRng(opts.seed, 'pgd') });
          const before = lossEach(model, start, y);
          lossEach(model, adv, y).forEach((after, i) => expect(after).toBeGreaterThanOrEqual(before[i]));
          tf.dispose([start, adv]);
        });
      }),
      RUNS,
    );
  });

  it('keeps its start where the one step it takes overshoots the loss’s peak (where the last iterate would do worse)', () => {
    // One pixel, a loss shaped like a bump at x = 0.5: its gradient points at the peak, and a
    // step of 2ε from anywhere in the ball lands on the far edge, lower than the start.
    const [a, delta, c] = [40, 0.02, 3];
    const params: HiddenParams = {
      kind: 'hidden', height: 1, width: 1, channels: 1, numClasses: 2, hidden: 2,
      w1: [a, a], b1: [-a * (0.5 - delta), -a * (0.5 + delta)], w2: [0, c, 0, -c], b2: [0, 0],
    };
    const model = makeClassifier(params);
    const x = tf.fill([16, 1, 1, 1], 0.5) as tf.Tensor4D;
    const y = tf.zeros([16], 'int32') as tf.Tensor1D;
    const start = randomStart(x, 16, makeRng(5, 'pgd'));
    const adv = pgd(model, x, y, { eps: 16, stepSize: 32, steps: 1, rng: makeRng(5, 'pgd') });
    const last = bim(model, start, y, { eps: 32, stepSize: 32, steps: 1 });
    const [atStart, atAdv, atLast] = [start, adv, last].map((t) => lossEach(model, t, y));
    expect(atLast.some((l, i) => l < atStart[i])).toBe(true);
    atAdv.forEach((l, i) => expect(l).toBeGreaterThanOrEqual(atStart[i]));
    tf.dispose([x, y, start, adv, last]);
    model.dispose();
  });

  it('is fixed by its seed: the same seed gives the same example, and two seeds start apart', () => {
    fc.assert(
      fc.property(problem(), pgdOpts, (pr, opts) => {
        withProblem(pr, (model, x, y) => {
          const a = pgd(model, x, y, { ...opts, rng: makeRng(opts.seed, 'pgd') });
          const b = pgd(model, x, y, { ...opts, rng: makeRng(opts.seed, 'pgd') });
          expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
          tf.dispose([a, b]);
        });
      }),
      { numRuns: 15 },
    );
    const x = tf.fill([2, 3, 3, 1], 0.5) as tf.Tensor4D;
    const [s1, s2] = [1, 2].map((seed) => randomStart(x, 8, makeRng(seed, 'pgd')));
    expect(Array.from(s1.dataSync())).not.toEqual(Array.from(s2.dataSync()));
    tf.dispose([x, s1, s2]);
  });

  it('takes one ε per example (as training draws them) and treats each row as its scalar ε would; needs steps then', () => {
    const withEpsilons = problem().chain((pr) =>
      fc.tuple(fc.constant(pr), fc.array(fc.float({ min: 0, max: 32, noNaN: true }), { minLength: pr.batch, maxLength: pr.batch })),
    );
    fc.assert(
      fc.property(withEpsilons, fc.integer({ min: 0, max: 3 }), fc.nat(), ([pr, epsRows], steps, seed) => {
        withProblem(pr, (model, x, y) => {
          const d = inputSize(pr.params);
          const epsTensor = tf.tensor1d(epsRows);
          const before = tf.memory().numTensors;
          expect(() => pgd(model, x, y, { eps: epsTensor, rng: makeRng(seed, 'pgd') })).toThrow(/a per-example ε needs opts\.steps/);
          expect(tf.memory().numTensors).toBe(before);
          expect(model.calls).toEqual([]);
          const start = randomStart(x, epsTensor, makeRng(seed, 'pgd'));
          expect(Array.from(start.dataSync())).toEqual(referenceStart(x.dataSync(), epsRows, d, seed));
          const got = pgd(model, x, y, { eps: epsTensor, steps, stepSize: 2, rng: makeRng(seed, 'pgd') }).dataSync();
          epsRows.forEach((eps, i) => {
            const scalar = pgd(model, x, y, { eps, steps, stepSize: 2, rng: makeRng(seed, 'pgd') });
            expect(row(got, i, d)).toEqual(row(scalar.dataSync(), i, d));
            scalar.dispose();
          });
          tf.dispose([epsTensor, start]);
        });
      }),
      { numRuns: 20 },
    );
  });
});

describe('defaultIterations (Kurakin et al. 2016)', () => {
  it('is ε + 4 from ε = 16 up and round(1.25ε) below', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 255, noNaN: true }), (eps) => {
        const n = defaultIterations(eps);
        expect(Number.isInteger(n)).toBe(true);
        expect(n).toBe(eps >= 16 ? Math.round(eps + 4) : Math.round(1.25 * eps));
      }),
    );
  });
});
