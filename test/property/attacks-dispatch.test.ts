import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  attack,
  bim,
  fgsm,
  fgsmPred,
  iterLL,
  leastLikelyClass,
  lossGradientSign,
  noiseImage,
  pgd,
  pixelsToUnit,
  stepLL,
  stepRand,
} from '../../src/attacks/index.ts';
import { ATTACK_NAMES, type AttackName } from '../../src/spec/names.ts';
import type { Classifier } from '../../src/models/types.ts';
import { makeRng } from '../../src/util/rng.ts';
import { makeClassifier, problem, withProblem, type LinearParams } from '../helpers/linear-classifier.ts';

const RUNS = { numRuns: 20 };

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

const name = fc.constantFrom(...ATTACK_NAMES);
const eps = fc.float({ min: 0, max: 16, noNaN: true });

/** What `attack(name, …)` must do, spelled with the named functions. */
function direct(n: AttackName, model: Classifier, x: tf.Tensor4D, y: tf.Tensor1D, e: number, seed: number, steps: number, stepSize: number, training: boolean): tf.Tensor4D {
  switch (n) {
    case 'fgsm':
      return fgsm(model, x, y, e, { training });
    case 'fgsm-pred':
      return fgsmPred(model, x, e, { training });
    case 'step-ll':
      return stepLL(model, x, e, { training });
    case 'step-rand':
      return stepRand(model, x, e, makeRng(seed, 'r'), { training });
    case 'bim':
      return bim(model, x, y, { eps: e, steps, stepSize, training });
    case 'iter-ll':
      return iterLL(model, x, { eps: e, steps, stepSize, training });
    case 'pgd':
      return pgd(model, x, y, { eps: e, steps, stepSize, training, rng: makeRng(seed, 'r') });
  }
}

describe('attack (the dispatcher)', () => {
  it('names exactly the seven attacks', () => {
    expect([...ATTACK_NAMES].sort()).toEqual(['bim', 'fgsm', 'fgsm-pred', 'iter-ll', 'pgd', 'step-ll', 'step-rand']);
  });

  it('gives what the named attack gives, options passed through', () => {
    fc.assert(
      fc.property(problem(), name, eps, fc.nat(), fc.integer({ min: 1, max: 3 }), fc.float({ min: Math.fround(0.5), max: 8, noNaN: true }), fc.boolean(), (pr, n, e, seed, steps, stepSize, training) => {
        withProblem(pr, (model, x, y) => {
          const expected = direct(n, model, x, y, e, seed, steps, stepSize, training);
          const callsBefore = model.calls.length;
          const got = attack(n, model, x, y, e, { rng: makeRng(seed, 'r'), steps, stepSize, training });
          expect(model.calls.slice(callsBefore)).toEqual(model.calls.slice(0, callsBefore));
          expect(Array.from(got.dataSync())).toEqual(Array.from(expected.dataSync()));
          tf.dispose([expected, got]);
        });
      }),
      RUNS,
    );
  });

  it('routes each name to its own attack: on a model with clear gradients the seven results differ', () => {
    // Random generators often shrink to zero weights, where every attack is the identity and
    // a mis-routed name goes unseen; this seeded model has gradients in every pixel.
    const rng = makeRng(7, 'dispatch-routing');
    const [batch, K] = [8, 4];
    const params: LinearParams = {
      kind: 'linear', height: 2, width: 2, channels: 1, numClasses: K,
      weights: Array.from({ length: 4 * K }, () => rng.normal()),
      bias: Array.from({ length: K }, () => rng.normal()),
    };
    const model = makeClassifier(params);
    const x = tf.tensor4d(Array.from({ length: batch * 4 }, () => 0.25 + 0.5 * rng.next()), [batch, 2, 2, 1]);
    const y = tf.tensor1d(Array.from({ length: batch }, () => rng.int(K)), 'int32');
    const results = ATTACK_NAMES.map((n) => Array.from(attack(n, model, x, y, 8, { rng: makeRng(1, 'r'), steps: 3 }).dataSync()));
    ATTACK_NAMES.forEach((n, i) => {
      expect(results[i]).toEqual(Array.from(direct(n, model, x, y, 8, 1, 3, 1, false).dataSync()));
      results.forEach((other, j) => {
        if (j !== i) expect(other).not.toEqual(results[i]);
      });
    });
    tf.dispose([x, y]);
    model.dispose();
  });

  it('refuses step-rand and pgd without an rng, a per-example ε for BIM and iter-LL, and an unknown name', () => {
    fc.assert(
      fc.property(problem(), fc.constantFrom<AttackName>('bim', 'iter-ll'), (pr, iterative) => {
        withProblem(pr, (model, x, y) => {
          const perExample = tf.fill([pr.batch], 2) as tf.Tensor1D;
          const before = tf.memory().numTensors;
          expect(() => attack('step-rand', model, x, y, 2)).toThrow(/'step-rand' needs opts\.rng to draw its random labels/);
          expect(() => attack('pgd', model, x, y, 2)).toThrow(/'pgd' needs opts\.rng to draw its random start/);
          expect(() => attack(iterative, model, x, y, perExample)).toThrow(
            new RegExp(`'${iterative}' takes one ε for the whole batch`),
          );
          expect(() => attack('cw' as AttackName, model, x, y, 2)).toThrow(`unknown attack 'cw'; known: ${ATTACK_NAMES.join(', ')}`);
          expect(tf.memory().numTensors).toBe(before);
          expect(model.calls).toEqual([]);
          perExample.dispose();
        });
      }),
      { numRuns: 5 },
    );
  });
});

describe('fgsm-pred through the dispatcher', () => {
  it('never reads the true label: any labels give the same example', () => {
    fc.assert(
      fc.property(problem(), eps, fc.nat(), (pr, e, shift) => {
        withProblem(pr, (model, x, y) => {
          const other = tf.tidy(() => tf.mod(tf.add(y, shift), pr.params.numClasses).toInt() as tf.Tensor1D);
          const a = attack('fgsm-pred', model, x, y, e);
          const b = attack('fgsm-pred', model, x, other, e);
          expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
          tf.dispose([other, a, b]);
        });
      }),
      RUNS,
    );
  });
});

describe('every attack function', () => {
  it('returns one new tensor the caller owns, leaves x alone and leaks nothing', () => {
    fc.assert(
      fc.property(problem(), name, eps, fc.boolean(), (pr, n, e, perExample) => {
        withProblem(pr, (model, x, y) => {
          const epsArg = perExample && n !== 'bim' && n !== 'iter-ll' ? tf.fill([pr.batch], e) as tf.Tensor1D : e;
          const before = tf.memory().numTensors;
          const adv = attack(n, model, x, y, epsArg, { rng: makeRng(1, 'r'), steps: 2 });
          expect(tf.memory().numTensors).toBe(before + 1);
          expect(adv).not.toBe(x);
          expect(adv.shape).toEqual(x.shape);
          expect(adv.dtype).toBe('float32');
          adv.dispose();
          expect(x.isDisposed).toBe(false);
          expect(tf.memory().numTensors).toBe(before);
          tf.dispose(epsArg);
        });
      }),
      RUNS,
    );
  });

  it('lossGradientSign, leastLikelyClass and noiseImage each return one tensor and leak nothing', () => {
    fc.assert(
      fc.property(problem(), (pr) => {
        withProblem(pr, (model, x, y) => {
          const before = tf.memory().numTensors;
          for (const make of [() => lossGradientSign(model, x, y), () => leastLikelyClass(model, x), () => noiseImage(x)]) {
            const t = make();
            expect(tf.memory().numTensors).toBe(before + 1);
            t.dispose();
          }
          expect(tf.memory().numTensors).toBe(before);
        });
      }),
      { numRuns: 10 },
    );
  });

  it('crafts with training = false unless asked, and passes true through', () => {
    fc.assert(
      fc.property(problem(), name, fc.constantFrom(undefined, true, false), (pr, n, training) => {
        withProblem(pr, (model, x, y) => {
          const opts = training === undefined ? { rng: makeRng(2, 'r') } : { rng: makeRng(2, 'r'), training };
          tf.dispose(attack(n, model, x, y, 4, { ...opts, steps: 2 }));
          expect(model.calls.length).toBeGreaterThan(0);
          expect(model.calls.every((t) => t === (training ?? false))).toBe(true);
        });
      }),
      RUNS,
    );
  });

  it('one-step attacks make exactly one forward (and one backward) pass', () => {
    fc.assert(
      fc.property(problem(), fc.constantFrom<AttackName>('fgsm', 'fgsm-pred', 'step-ll', 'step-rand'), eps, (pr, n, e) => {
        withProblem(pr, (model, x, y) => {
          tf.dispose(attack(n, model, x, y, e, { rng: makeRng(3, 'r') }));
          expect(model.calls).toHaveLength(1);
        });
      }),
      { numRuns: 10 },
    );
  });
});

describe('ε in pixel units', () => {
  it('converts to the [0, 1] image scale by dividing by 255', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 255, noNaN: true }), (e) => {
        expect(pixelsToUnit(e)).toBe(e / 255);
      }),
    );
  });

  it('refuses a negative, infinite or NaN ε, and a per-example tensor of the wrong shape, before any work', () => {
    const bad = fc.oneof(fc.double({ max: -Number.MIN_VALUE, noNaN: true }), fc.constantFrom(NaN, Infinity, -Infinity));
    fc.assert(
      fc.property(problem(), bad, fc.constantFrom<AttackName>(...ATTACK_NAMES), (pr, e, n) => {
        expect(() => pixelsToUnit(e)).toThrow(/ε must be a finite number ≥ 0 in 0–255 pixel units/);
        withProblem(pr, (model, x, y) => {
          const before = tf.memory().numTensors;
          expect(() => attack(n, model, x, y, e, { rng: makeRng(4, 'r'), steps: 1 })).toThrow(RangeError);
          const wrong = tf.fill([pr.batch + 1], 2) as tf.Tensor1D;
          const matrix = tf.fill([pr.batch, 1], 2) as unknown as tf.Tensor1D;
          expect(() => fgsm(model, x, y, wrong)).toThrow(new RegExp(`must have shape \\[${pr.batch}\\] \\(one per image\\), got \\[${pr.batch + 1}\\]`));
          expect(() => stepLL(model, x, matrix)).toThrow(new RegExp(`got \\[${pr.batch}, 1\\]`));
          expect(() => bim(model, x, y, { eps: 2, stepSize: e, steps: 1 })).toThrow(RangeError);
          expect(() => iterLL(model, x, { eps: 2, stepSize: e, steps: 1 })).toThrow(RangeError);
          expect(() => pgd(model, x, y, { eps: 2, stepSize: e, steps: 1, rng: makeRng(4, 'r') })).toThrow(RangeError);
          tf.dispose([wrong, matrix]);
          expect(model.calls).toEqual([]);
          expect(tf.memory().numTensors).toBe(before);
        });
      }),
      { numRuns: 10 },
    );
  });
});
