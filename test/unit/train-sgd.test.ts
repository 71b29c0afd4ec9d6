import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { learningRateAt, Sgd } from '../../src/train/sgd.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('learning-rate schedule', () => {
  const schedule = fc.record({
    base: fc.double({ min: 1e-4, max: 1, noNaN: true }),
    milestones: fc.uniqueArray(fc.integer({ min: 1, max: 200 }), { maxLength: 4 }).map((m) => m.sort((a, b) => a - b)),
    gamma: fc.double({ min: 0.01, max: 0.99, noNaN: true }),
  });

  it('never increases from one epoch to the next (without warm-up)', () => {
    fc.assert(
      fc.property(schedule, fc.double({ min: 0, max: 300, noNaN: true }), (s, e) => {
        expect(learningRateAt(s, e + 1)).toBeLessThanOrEqual(learningRateAt(s, e) * (1 + 1e-12));
      }),
    );
  });

  it('is base × γ^(milestones passed)', () => {
    const s = { base: 0.1, milestones: [82, 123], gamma: 0.1 };
    expect(learningRateAt(s, 0)).toBeCloseTo(0.1);
    expect(learningRateAt(s, 81.9)).toBeCloseTo(0.1);
    expect(learningRateAt(s, 82)).toBeCloseTo(0.01);
    expect(learningRateAt(s, 150)).toBeCloseTo(0.001);
  });

  it('warms up linearly from base/10 to base', () => {
    const s = { base: 1, milestones: [], gamma: 0.1, warmupEpochs: 2 };
    expect(learningRateAt(s, 0)).toBeCloseTo(0.1);
    expect(learningRateAt(s, 1)).toBeCloseTo(0.55);
    expect(learningRateAt(s, 2)).toBeCloseTo(1);
  });

  it('with linear annealing, rises through the warm-up, then falls linearly to 0 at the last epoch (one cycle)', () => {
    const s = { base: 0.4, milestones: [], gamma: 1, warmupEpochs: 2, anneal: 'linear' as const };
    expect(learningRateAt(s, 0, 10)).toBeCloseTo(0.04);
    expect(learningRateAt(s, 2, 10)).toBeCloseTo(0.4);
    expect(learningRateAt(s, 6, 10)).toBeCloseTo(0.2);
    expect(learningRateAt(s, 10, 10)).toBeCloseTo(0);
  });

  it('linear annealing never increases after the warm-up and stays within [0, base]', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1e-4, max: 1, noNaN: true }),
        fc.integer({ min: 1, max: 50 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (base, total, warmFrac, at) => {
          const s = { base, milestones: [], gamma: 1, warmupEpochs: warmFrac * total * 0.5, anneal: 'linear' as const };
          const e = s.warmupEpochs + at * (total - s.warmupEpochs);
          const lr = learningRateAt(s, e, total);
          expect(lr).toBeGreaterThanOrEqual(0);
          expect(lr).toBeLessThanOrEqual(base * (1 + 1e-12));
          expect(learningRateAt(s, Math.min(total, e + 0.1), total)).toBeLessThanOrEqual(lr * (1 + 1e-12));
        },
      ),
    );
  });
});

describe('learning-rate schedule edges', () => {
  it('without anneal a run’s length changes nothing', () => {
    const s = { base: 0.1, milestones: [5], gamma: 0.1 };
    expect(learningRateAt(s, 2, 10)).toBeCloseTo(0.1, 12);
    expect(learningRateAt(s, 7, 10)).toBeCloseTo(0.01, 12);
  });

  it('with anneal but a run no longer than its warm-up, the rate is not annealed', () => {
    const s = { base: 0.4, milestones: [], gamma: 1, warmupEpochs: 2, anneal: 'linear' as const };
    expect(learningRateAt(s, 2, 2)).toBeCloseTo(0.4, 12);
  });
});

describe('SGD’s own tensors', () => {
  it('dispose frees the velocities', () => {
    const w = tf.variable(tf.ones([2, 2]));
    const before = tf.memory().numTensors;
    const sgd = new Sgd([w], { momentum: 0.9, nesterov: false, weightDecay: 0 });
    expect(tf.memory().numTensors).toBe(before + 1);
    sgd.dispose();
    expect(tf.memory().numTensors).toBe(before);
    w.dispose();
  });
});

describe('SGD with momentum', () => {
  it('matches v ← μv + g + λw, w ← w − lr·v over several steps (rank-2 weights decay, biases do not)', () => {
    const w = tf.variable(tf.tensor2d([[1, -2]]));
    const b = tf.variable(tf.tensor1d([0.5]));
    const sgd = new Sgd([w, b], { momentum: 0.9, nesterov: false, weightDecay: 0.01 });
    let vw = [0, 0];
    let vb = 0;
    let ww = [1, -2];
    let bb = 0.5;
    for (let i = 0; i < 3; i++) {
      const gw = tf.tensor2d([[0.1 * (i + 1), -0.3]]);
      const gb = tf.tensor1d([0.2]);
      sgd.apply([gw, gb], 0.1);
      vw = vw.map((v, j) => 0.9 * v + [0.1 * (i + 1), -0.3][j] + 0.01 * ww[j]);
      ww = ww.map((x, j) => x - 0.1 * vw[j]);
      vb = 0.9 * vb + 0.2;
      bb = bb - 0.1 * vb;
      tf.dispose([gw, gb]);
    }
    expect(Array.from(w.dataSync())).toEqual(ww.map((x) => expect.closeTo(x, 6)));
    expect(b.dataSync()[0]).toBeCloseTo(bb, 6);
    sgd.dispose();
    tf.dispose([w, b]);
  });

  it('with Nesterov and a constant gradient g, moves w by lr·g·Σₜ(1 + μ(1 − μᵗ)/(1 − μ)) after T steps (the closed form)', () => {
    // v_t = g(1 − μᵗ)/(1 − μ) for v_0 = 0, and each Nesterov step is g + μ·v_t.
    const [mu, lr, g, T] = [0.9, 0.05, 0.3, 6];
    const w = tf.variable(tf.tensor1d([2]));
    const sgd = new Sgd([w], { momentum: mu, nesterov: true, weightDecay: 0 });
    const grad = tf.tensor1d([g]);
    for (let t = 0; t < T; t++) sgd.apply([grad], lr);
    let travelled = 0;
    for (let t = 1; t <= T; t++) travelled += lr * g * (1 + (mu * (1 - mu ** t)) / (1 - mu));
    expect(w.dataSync()[0]).toBeCloseTo(2 - travelled, 5);
    expect(sgd.velocities[0].dataSync()[0]).toBeCloseTo((g * (1 - mu ** T)) / (1 - mu), 5);
    sgd.dispose();
    tf.dispose([w, grad]);
  });

  it('with Nesterov matches v ← μv + g + λw, w ← w − lr·(g + λw + μv) over varying gradients (rank-2 weights decay, biases do not)', () => {
    const w = tf.variable(tf.tensor2d([[1, -2]]));
    const b = tf.variable(tf.tensor1d([0.5]));
    const sgd = new Sgd([w, b], { momentum: 0.8, nesterov: true, weightDecay: 0.01 });
    let vw = [0, 0];
    let ww = [1, -2];
    let vb = 0;
    let bb = 0.5;
    for (let i = 0; i < 4; i++) {
      const gRow = [0.1 * (i + 1), -0.3 + 0.05 * i];
      const gBias = 0.2 - 0.1 * i;
      const gw = tf.tensor2d([gRow]);
      const gb = tf.tensor1d([gBias]);
      sgd.apply([gw, gb], 0.1);
      const gDecayed = gRow.map((g, j) => g + 0.01 * ww[j]);
      vw = vw.map((v, j) => 0.8 * v + gDecayed[j]);
      ww = ww.map((x, j) => x - 0.1 * (gDecayed[j] + 0.8 * vw[j]));
      vb = 0.8 * vb + gBias;
      bb = bb - 0.1 * (gBias + 0.8 * vb);
      tf.dispose([gw, gb]);
    }
    expect(Array.from(w.dataSync())).toEqual(ww.map((x) => expect.closeTo(x, 6)));
    expect(b.dataSync()[0]).toBeCloseTo(bb, 6);
    sgd.dispose();
    tf.dispose([w, b]);
  });

  it('leaves no tensors behind per step', () => {
    const w = tf.variable(tf.ones([3, 3]));
    const sgd = new Sgd([w], { momentum: 0.9, nesterov: true, weightDecay: 1e-4 });
    const g = tf.ones([3, 3]);
    sgd.apply([g], 0.1);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) sgd.apply([g], 0.1);
    expect(tf.memory().numTensors).toBe(before);
    sgd.dispose();
    tf.dispose([w, g]);
  });
});
