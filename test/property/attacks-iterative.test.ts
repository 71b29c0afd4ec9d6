import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  bim,
  defaultIterations,
  fgsm,
  iterLL,
  leastLikelyClass,
  lossGradientSign,
  stepLL,
  type IterativeOptions,
} from '../../src/attacks/index.ts';
import type { Classifier } from '../../src/models/types.ts';
import { problem, withProblem } from '../helpers/linear-classifier.ts';

const ULP_SLACK = 1e-6;
const RUNS = { numRuns: 30 };
const f32 = Math.fround;

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

type Iterative = 'bim' | 'iter-ll';
const iterativeName = fc.constantFrom<Iterative>('bim', 'iter-ll');

function runIterative(name: Iterative, model: Classifier, x: tf.Tensor4D, y: tf.Tensor1D, opts: IterativeOptions): tf.Tensor4D {
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

describe('iterative attacks (BIM, iter-LL)', () => {
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

  it('take round(min(ε + 4, 1.25ε)) steps by default: one forward pass per step, plus one for the LL class', () => {
    fc.assert(
      fc.property(problem(), fc.float({ min: 0, max: 24, noNaN: true }), iterativeName, (pr, eps, name) => {
        withProblem(pr, (model, x, y) => {
          tf.dispose(runIterative(name, model, x, y, { eps }));
          expect(model.calls.length).toBe(defaultIterations(eps) + (name === 'iter-ll' ? 1 : 0));
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
