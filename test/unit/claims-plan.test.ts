import { describe, expect, it } from 'vitest';
import { estimateRun, H100_SECONDS_PER_KERNEL, trainingCost } from '../../src/bench/estimate.ts';
import type { StepCost } from '../../src/bench/step-cost.ts';
import { planClaims, planJobs, type PlannedTraining } from '../../src/claims/plan.ts';
import { MissingTierError } from '../../src/claims/errors.ts';
import { loadAllSpecs, loadSpec } from '../../src/claims/load.ts';
import { parseOverride } from '../../src/claims/overrides.ts';
import { seedMatrix } from '../../src/claims/listing.ts';

const training = (shareKey: string | undefined, epochs = 2): PlannedTraining => ({
  role: 'r',
  dataset: 'cifar10',
  trainSubset: 1000,
  testSubset: 100,
  model: { kind: 'fastnet' },
  training: { epochs, batchSize: 100, lr: { base: 0.1, milestones: [], gamma: 1 }, momentum: 0.9, nesterov: false, weightDecay: 0 },
  shareKey,
});
const cost: StepCost = { trainStep: 10, forward: 2, attack: { fgsm: 5 }, inputGradient: 5, forwardMacs: 1e6, countedAs: 'cpu kernels' };

describe('the job plan', () => {
  it('puts the claims of one seed that share a trained model into one job, and trains that model once', () => {
    const jobs = planJobs(
      [
        { id: 'a', trainings: [training('m')] },
        { id: 'b', trainings: [training('m'), training('control')] },
        { id: 'c', trainings: [training('other')] },
      ],
      () => [1, 2],
    );
    expect(jobs.map((j) => [j.seed, j.claims])).toEqual([
      [1, ['a', 'b']],
      [1, ['c']],
      [2, ['a', 'b']],
      [2, ['c']],
    ]);
    expect(jobs[0].trainings.map((t) => t.shareKey)).toEqual(['m', 'control']);
    // Each claim still evaluates the shared model.
    expect(jobs[0].evaluations).toHaveLength(3);
  });

  it('never groups or merges trainings without a share key (e.g. linear probes)', () => {
    const jobs = planJobs([{ id: 'a', trainings: [training(undefined), training(undefined)] }, { id: 'b', trainings: [training(undefined)] }], () => [1]);
    expect(jobs.map((j) => j.claims)).toEqual([['a'], ['b']]);
    expect(jobs[0].trainings).toHaveLength(2);
  });

  it('uses each claim\'s own seeds', () => {
    const jobs = planJobs([{ id: 'a', trainings: [training('m')] }, { id: 'b', trainings: [training('m')] }], (id) => (id === 'a' ? [1, 2] : [2]));
    expect(jobs.map((j) => [j.seed, j.claims])).toEqual([
      [1, ['a']],
      [2, ['a', 'b']],
    ]);
  });
});

describe('the job plan’s order', () => {
  it('takes seeds in numeric order (10 after 2), each once however many claims share it', () => {
    const jobs = planJobs([{ id: 'a', trainings: [training('m')] }, { id: 'b', trainings: [training('n')] }], (id) => (id === 'a' ? [10, 2] : [2, 1]));
    expect(jobs.map((j) => [j.seed, j.claims])).toEqual([
      [1, ['b']],
      [2, ['a']],
      [2, ['b']],
      [10, ['a']],
    ]);
  });

  it('a model two claims share is trained by the first claim that names it', () => {
    const first = { ...training('m'), role: 'first' };
    const second = { ...training('m'), role: 'second' };
    const [job] = planJobs([{ id: 'a', trainings: [first] }, { id: 'b', trainings: [second] }], () => [1]);
    expect(job.trainings.map((t) => t.role)).toEqual(['first']);
  });
});

describe('the estimate', () => {
  it('counts ⌊images / batch⌋ × epochs steps of the counted kernels', () => {
    const c = trainingCost(training('m', 3), cost);
    expect(c.steps).toBe(30);
    expect(c.kernels).toBe(300);
  });

  it('deals jobs to processes longest first: the busiest process bounds the wall time', () => {
    const jobs = planJobs(
      [
        { id: 'long', trainings: [training('l', 9)] },
        { id: 'mid', trainings: [training('m', 5)] },
        { id: 'short', trainings: [training('s', 4)] },
      ],
      () => [1],
    );
    const one = estimateRun(jobs, () => cost, 1);
    const two = estimateRun(jobs, () => cost, 2);
    const host = (epochs: number) => trainingCost(training('x', epochs), cost).kernels * H100_SECONDS_PER_KERNEL;
    // Each job also evaluates its model once: one batch of 100 test images, a 2-kernel forward.
    const evaluation = 2 * H100_SECONDS_PER_KERNEL;
    expect(two.wallSeconds).toBeCloseTo(Math.max(host(9) + evaluation, host(5) + host(4) + 2 * evaluation), 9);
    expect(one.wallSeconds).toBeCloseTo(one.hostSeconds, 9);
    expect(two.requiredFlopsPerSecond).toBeGreaterThan(one.requiredFlopsPerSecond);
  });
});

describe('planClaims: spec × tier × --set × seeds, resolved once for every consumer', () => {
  const leak = loadSpec('claims/cifar10-label-leaking.json');
  // A positive control has only the tiers it was measured at (no gpu).
  const control = loadSpec('claims/cifar10-label-leaking-control.json');

  it('gives each claim its tier parameters with the overrides applied, and the tier seeds unless seeds are given', () => {
    const plan = planClaims([leak], { tier: 'gpu', overrides: [parseOverride('training.epochs=3')] });
    expect(plan.claims).toHaveLength(1);
    const [c] = plan.claims;
    expect((c.tier.params as { training: { epochs: number } }).training.epochs).toBe(3);
    // The planned spec carries the same params, so a consumer reading either sees one value.
    expect(c.spec.tiers.gpu).toBe(c.tier);
    expect(leak.tiers.gpu!.params).not.toEqual(c.tier.params);
    expect(c.seeds).toEqual(leak.tiers.gpu!.seeds);
    expect(planClaims([leak], { tier: 'gpu', seeds: [7] }).claims[0].seeds).toEqual([7]);
  });

  it('leaves out claims without the tier (listing them), or refuses them when they were named', () => {
    const plan = planClaims([control, leak], { tier: 'gpu' });
    expect(plan.claims.map((c) => c.spec.id)).toEqual([leak.id]);
    expect(plan.lacking.map((s) => s.id)).toEqual([control.id]);
    const named = () => planClaims([control], { tier: 'gpu', named: { folder: () => [control, leak] } });
    expect(named).toThrow(MissingTierError);
    expect(named).toThrow(`claims with one: ${leak.id}`);
  });

  it('a named claim lacking the tier is refused, offering exactly the claims of the folder that have it', () => {
    const folder = loadAllSpecs('claims');
    const e = (() => {
      try {
        planClaims([control], { tier: 'gpu', named: { folder: () => folder } });
      } catch (x) {
        return x as Error;
      }
    })();
    expect(e).toBeInstanceOf(MissingTierError);
    const offered = /claims with one: (.*) — /.exec(e!.message)![1].split(', ');
    expect(offered).toEqual(folder.filter((s) => s.tiers.gpu).map((s) => s.id));
    expect(offered).not.toContain(control.id);
  });

  it('named claims that all have the tier are planned, not refused', () => {
    const plan = planClaims([leak], { tier: 'gpu', named: { folder: () => [control, leak] } });
    expect(plan.claims.map((c) => c.spec.id)).toEqual([leak.id]);
    expect(plan.lacking).toEqual([]);
  });

  it('is what the CI matrix (list --matrix) lists: one entry per planned claim and seed', () => {
    const specs = loadAllSpecs('claims');
    const plan = planClaims(specs, { tier: 'gpu' });
    const withGpu = specs.filter((s) => s.tiers.gpu);
    expect(seedMatrix(specs, 'gpu')).toEqual(withGpu.flatMap((s) => s.tiers.gpu!.seeds.map((seed) => ({ claim: s.id, tier: 'gpu', seed }))));
    expect(plan.claims.map((c) => c.spec.id)).toEqual(withGpu.map((s) => s.id));
    expect(plan.lacking.map((s) => s.id)).toEqual(specs.filter((s) => !s.tiers.gpu).map((s) => s.id));
  });
});
