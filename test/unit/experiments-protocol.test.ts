import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackendInfo } from '../../src/backend/info.ts';
import type { Evaluation } from '../../src/metrics/evaluate.ts';
import { curveOf, evaluationMetricNames, evaluationMetrics, leakGap, meanThroughput, metricName, plannedTraining, trainAndEvaluate, type EvaluationParams } from '../../src/experiments/protocol.ts';
import { clearTrainedModels, selectData, trainedModel } from '../../src/experiments/trained-models.ts';
import { evaluate } from '../../src/metrics/evaluate.ts';
import { makeRng } from '../../src/util/rng.ts';
import type { TrainConfig } from '../../src/train/loop.ts';
import { silentProgress } from '../../src/train/progress.ts';

/**
 * The numbers the claims assert on are derived here from an evaluation; these tests work them
 * out by hand from small curves, so a wrong derivation cannot hide behind a trained model.
 */

const evaluation = (lossVsEps?: Evaluation['lossVsEps']): Evaluation => ({
  cleanAcc: 0.75,
  cleanLoss: 0.6,
  adversarial: { fgsm: { acc: 0.8, loss: 0.5 }, 'step-ll': { acc: 0.4, loss: 1.9 } },
  lossVsEps,
});

describe('the loss-versus-ε curve’s shape', () => {
  it('a curve that climbs and then drops: rise = peak − first point, fall = peak − last point', () => {
    // Losses 1.0, 2.5, 4.0, 3.0, 1.5 at ε 0, 2, 4, 8, 16: peak 4.0 at ε 4, rise 4.0 − 1.0, fall 4.0 − 1.5.
    const m = evaluationMetrics(
      evaluation([
        { eps: 0, loss: 1.0, acc: 0.9 },
        { eps: 2, loss: 2.5, acc: 0.7 },
        { eps: 4, loss: 4.0, acc: 0.5 },
        { eps: 8, loss: 3.0, acc: 0.6 },
        { eps: 16, loss: 1.5, acc: 0.8 },
      ]),
    );
    expect(m.loss_peak).toBe(4.0);
    expect(m.loss_peak_eps).toBe(4);
    expect(m.loss_rise).toBe(3.0);
    expect(m.loss_fall).toBe(2.5);
    expect([m.loss_eps_0, m.loss_eps_2, m.loss_eps_4, m.loss_eps_8, m.loss_eps_16]).toEqual([1.0, 2.5, 4.0, 3.0, 1.5]);
    expect([m.acc_eps_0, m.acc_eps_2, m.acc_eps_4, m.acc_eps_8, m.acc_eps_16]).toEqual([0.9, 0.7, 0.5, 0.6, 0.8]);
  });

  it('a curve that only climbs has fall 0 and its peak at the last ε', () => {
    const m = evaluationMetrics(evaluation([{ eps: 0, loss: 0.5, acc: 1 }, { eps: 4, loss: 1.25, acc: 1 }, { eps: 8, loss: 2, acc: 1 }]));
    expect([m.loss_peak, m.loss_peak_eps, m.loss_rise, m.loss_fall]).toEqual([2, 8, 1.5, 0]);
  });

  it('a curve that only falls has rise 0 and its peak at the first ε', () => {
    const m = evaluationMetrics(evaluation([{ eps: 0, loss: 3, acc: 1 }, { eps: 4, loss: 2, acc: 1 }, { eps: 8, loss: 0.5, acc: 1 }]));
    expect([m.loss_peak, m.loss_peak_eps, m.loss_rise, m.loss_fall]).toEqual([3, 0, 0, 2.5]);
  });

  it('of two equal highest points the peak is the first (the smaller ε)', () => {
    const m = evaluationMetrics(evaluation([{ eps: 0, loss: 1, acc: 1 }, { eps: 2, loss: 3, acc: 1 }, { eps: 4, loss: 3, acc: 1 }, { eps: 8, loss: 2, acc: 1 }]));
    expect([m.loss_peak, m.loss_peak_eps, m.loss_rise, m.loss_fall]).toEqual([3, 2, 2, 1]);
  });

  it('one point: peak is that point, rise and fall 0', () => {
    const m = evaluationMetrics(evaluation([{ eps: 6, loss: 1.5, acc: 0.5 }]));
    expect([m.loss_peak, m.loss_peak_eps, m.loss_rise, m.loss_fall, m.loss_eps_6, m.acc_eps_6]).toEqual([1.5, 6, 0, 0, 1.5, 0.5]);
  });

  it('without a sweep (absent or empty) there are only the clean and per-attack metrics, named with _ for -', () => {
    const expected = { clean_acc: 0.75, clean_loss: 0.6, adv_acc_fgsm: 0.8, adv_loss_fgsm: 0.5, adv_acc_step_ll: 0.4, adv_loss_step_ll: 1.9 };
    expect(evaluationMetrics(evaluation())).toEqual(expected);
    expect(evaluationMetrics(evaluation([]))).toEqual(expected);
  });
});

describe('metric names', () => {
  it('name exactly the metrics evaluationMetrics returns, with the sweep’s and without', () => {
    const ev = { eps: 8, attacks: ['fgsm', 'step-ll'] as const, batchSize: 10, curveSubset: 0 };
    expect(evaluationMetricNames({ ...ev, attacks: [...ev.attacks] })).toEqual(['clean_acc', 'clean_loss', 'adv_acc_fgsm', 'adv_loss_fgsm', 'adv_linf_fgsm', 'adv_acc_step_ll', 'adv_loss_step_ll', 'adv_linf_step_ll', 'loss_eps_1']);
    const swept = evaluationMetricNames({ ...ev, attacks: [...ev.attacks], epsSweep: [0, 4] });
    // An evaluation as evaluate() makes it: with each attack's measured L∞ step and the loss at the small ε (the preconditions' metrics).
    const full: Evaluation = { ...evaluation([{ eps: 0, loss: 1, acc: 1 }, { eps: 4, loss: 2, acc: 1 }]), perturbation: { fgsm: 8, 'step-ll': 8 }, alongSign: [{ eps: 1, loss: 1.1, acc: 0.9 }] };
    expect([...swept].sort()).toEqual(Object.keys(evaluationMetrics(full)).sort());
    expect(swept.filter((n) => /^(loss|acc)_(eps|peak|rise|fall)/.test(n) && n !== 'loss_eps_1')).toEqual(['loss_eps_0', 'acc_eps_0', 'loss_eps_4', 'acc_eps_4', 'loss_peak', 'loss_peak_eps', 'loss_rise', 'loss_fall']);
  });

  it('have the loss at the small ε once, from the sweep where the sweep has that ε', () => {
    const names = evaluationMetricNames({ eps: 8, attacks: ['fgsm'], batchSize: 10, curveSubset: 0, epsSweep: [0, 1, 4] });
    expect(names.filter((n) => n === 'loss_eps_1')).toEqual(['loss_eps_1']);
    expect(names.filter((n) => n.startsWith('loss_eps_'))).toEqual(['loss_eps_0', 'loss_eps_1', 'loss_eps_4']);
  });

  it('replace every - by _', () => {
    expect(metricName('iter-ll-x-y')).toBe('iter_ll_x_y');
  });
});

describe('the label-leaking gap', () => {
  it('is FGSM accuracy minus clean accuracy: positive when the attack helps, negative when it hurts', () => {
    expect(leakGap({ clean_acc: 0.5, adv_acc_fgsm: 0.75 })).toBe(0.25);
    expect(leakGap({ clean_acc: 0.75, adv_acc_fgsm: 0.5 })).toBe(-0.25);
  });

  it('is undefined without an FGSM accuracy (and does not read other attacks)', () => {
    expect(leakGap({ clean_acc: 0.5, adv_acc_step_ll: 0.9 })).toBeUndefined();
  });
});

describe('mean throughput', () => {
  it('averages the parts that trained, ignoring absent and zero rates', () => {
    expect(meanThroughput([100, undefined, 300, 0])).toBe(200);
    expect(meanThroughput([50])).toBe(50);
  });

  it('is undefined when no part trained', () => {
    expect(meanThroughput([])).toBeUndefined();
    expect(meanThroughput([undefined, 0])).toBeUndefined();
  });
});

describe('train and evaluate: the curves', () => {
  const sel = { dataset: 'mnist' as const, trainSubset: 60, testSubset: 20 };
  const model = { kind: 'mlp' as const, hidden: [8] };
  const training: TrainConfig = { epochs: 2, batchSize: 20, lr: { base: 0.1, milestones: [], gamma: 1 }, momentum: 0.9, nesterov: false, weightDecay: 0, adversarial: null };
  const ev: EvaluationParams = { eps: 6, attacks: ['fgsm'], batchSize: 50, curveSubset: 30 };
  const backend: BackendInfo = { name: 'cpu', version: tf.version_core, threads: 1, device: 'cpu', reason: 'test' };
  const ctx = { seed: 3, dataDir: 'fixtures/data', backend, progress: silentProgress };

  beforeAll(async () => {
    await tf.setBackend('cpu');
    await tf.ready();
  });
  afterAll(() => clearTrainedModels());

  it('with curveSubset, each epoch has clean and FGSM accuracy on min(curveSubset, test set) images; the sweep’s curve only with a sweep', async () => {
    clearTrainedModels();
    const r = await trainAndEvaluate(sel, model, training, ev, 'main', ctx);
    expect(r.curves.epochs!.map((p) => p.epoch)).toEqual([1, 2]);
    for (const p of r.curves.epochs!) {
      // Accuracies over the 20 test images (curveSubset 30 is capped at the test set): whole twentieths.
      for (const acc of [p.cleanAcc!, p.advAcc!]) expect(Number.isInteger(Math.round(acc * 20 * 1e6) / 1e6)).toBe(true);
    }
    expect(Object.keys(r.curves)).toEqual(['epochs']);
    const swept = await trainAndEvaluate(sel, model, training, { ...ev, epsSweep: [0, 4] }, 'main', ctx);
    expect(swept.curves.lossVsEps!.map((p) => p.eps)).toEqual([0, 4]);
  });

  it('with curveBim, each epoch also has BIM accuracy, and the clean and FGSM points are those of the run without it', async () => {
    clearTrainedModels();
    const plain = await trainAndEvaluate(sel, model, training, ev, 'main', ctx);
    expect(plain.curves.epochs!.every((p) => p.bimAcc === undefined)).toBe(true);
    const withBim = await trainAndEvaluate(sel, model, training, { ...ev, curveBim: true }, 'main', ctx);
    expect(withBim.curves.epochs!.map((p) => ({ epoch: p.epoch, cleanAcc: p.cleanAcc, advAcc: p.advAcc }))).toEqual(
      plain.curves.epochs!.map((p) => ({ epoch: p.epoch, cleanAcc: p.cleanAcc, advAcc: p.advAcc })),
    );
    for (const p of withBim.curves.epochs!) expect(Number.isInteger(Math.round(p.bimAcc! * 20 * 1e6) / 1e6)).toBe(true);
  });

  it('evaluates with the stream eval/<role>, so a random attack draws the same labels wherever the role is evaluated', async () => {
    clearTrainedModels();
    const randomEv: EvaluationParams = { ...ev, attacks: ['step-rand'], curveSubset: 0 };
    const r = await trainAndEvaluate(sel, model, training, randomEv, 'control', ctx);
    const data = await selectData(sel, 3, 'fixtures/data');
    // The model trained above, from the cache.
    const cached = await trainedModel({ data: sel, model, training, role: 'control', curve: curveOf(randomEv) }, data, ctx);
    expect(cached.fresh).toBe(false);
    const ref = await evaluate(cached.model, data.test, { batchSize: 50, attacks: [{ attack: 'step-rand', eps: 6 }], rng: makeRng(3, 'eval/control') });
    expect(r.metrics.adv_loss_step_rand).toBe(ref.adversarial['step-rand'].loss);
    const other = await evaluate(cached.model, data.test, { batchSize: 50, attacks: [{ attack: 'step-rand', eps: 6 }], rng: makeRng(3, 'eval/adversarial') });
    // Another stream draws other labels: the check above could not pass by chance.
    expect(other.adversarial['step-rand'].loss).not.toBe(ref.adversarial['step-rand'].loss);
  });

  it('curveSubset 0: no per-epoch accuracy', async () => {
    clearTrainedModels();
    const r = await trainAndEvaluate(sel, model, training, { ...ev, curveSubset: 0 }, 'main', ctx);
    expect(r.curves.epochs!.every((p) => p.cleanAcc === undefined && p.advAcc === undefined)).toBe(true);
  });

  it('the planned training’s share key changes with the curve settings (a model is cached with its curve), not with the role', () => {
    const a = plannedTraining(sel, model, training, ev, 'a');
    expect(a).toMatchObject({ role: 'a', dataset: 'mnist', trainSubset: 60, testSubset: 20, model, training, evaluation: ev });
    expect(plannedTraining(sel, model, training, ev, 'b').shareKey).toBe(a.shareKey);
    expect(plannedTraining(sel, model, training, { ...ev, curveSubset: 10 }, 'a').shareKey).not.toBe(a.shareKey);
    expect(plannedTraining(sel, model, training, { ...ev, eps: 8 }, 'a').shareKey).not.toBe(a.shareKey);
  });
});
