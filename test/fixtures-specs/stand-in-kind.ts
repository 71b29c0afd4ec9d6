import type { ExperimentKind, RunContext, SeedOutcome } from '../../src/experiments/types.ts';
import { Interrupted, NonFiniteError } from '../../src/train/errors.ts';
import { makeRng } from '../../src/util/rng.ts';

/**
 * A stand-in experiment kind for the claims engine's tests: no tfjs, no data. Its metrics
 * are a seeded draw around the params' means, so the verdict logic sees realistic spread.
 */
export interface StandInParams {
  clean: number;
  gap: number;
  noise: number;
  /** Seeds that throw, produce NaN, or get interrupted — to test the runner's error paths. */
  failSeeds?: number[];
  nanSeeds?: number[];
  interruptSeeds?: number[];
  epsSweep?: number[];
  dataset?: 'mnist' | 'fashion-mnist' | 'cifar10';
}

export const runs: { seed: number; ctx: RunContext }[] = [];

export const standIn: ExperimentKind<StandInParams> = {
  name: 'stand-in',
  paramsSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['clean', 'gap', 'noise'],
    properties: {
      clean: { type: 'number', minimum: 0, maximum: 1 },
      gap: { type: 'number' },
      noise: { type: 'number', minimum: 0 },
      failSeeds: { type: 'array', items: { type: 'integer' } },
      nanSeeds: { type: 'array', items: { type: 'integer' } },
      interruptSeeds: { type: 'array', items: { type: 'integer' } },
      epsSweep: { type: 'array', items: { type: 'number' } },
      // Named only so a record says which data it used (the stand-in reads none).
      dataset: { enum: ['mnist', 'fashion-mnist', 'cifar10'] },
    },
  },
  metricNames: (p) => ['clean_acc', 'adv_acc_fgsm', ...(p.epsSweep ?? []).map((e) => `loss_eps_${e}`)],
  async run(p, ctx): Promise<SeedOutcome> {
    runs.push({ seed: ctx.seed, ctx });
    if (p.interruptSeeds?.includes(ctx.seed)) throw new Interrupted();
    if (p.failSeeds?.includes(ctx.seed)) throw new Error(`stand-in failure on seed ${ctx.seed}`);
    const rng = makeRng(ctx.seed, 'stand-in');
    ctx.progress.start('stand-in', 2);
    ctx.progress.tick(1);
    ctx.progress.tick(2);
    ctx.progress.stop();
    const clean = p.clean + p.noise * rng.normal();
    const adv = p.nanSeeds?.includes(ctx.seed) ? NaN : clean + p.gap + p.noise * rng.normal();
    const sweep = p.epsSweep ?? [];
    const lossVsEps = sweep.map((eps) => ({ eps, loss: 1 + Math.sin(eps / 8) + 0.05 * rng.normal(), acc: 0.5 }));
    return {
      metrics: { clean_acc: clean, adv_acc_fgsm: adv, ...Object.fromEntries(lossVsEps.map((q) => [`loss_eps_${q.eps}`, q.loss])) },
      curves: {
        epochs: [1, 2, 3].map((epoch) => ({ epoch, cleanAcc: clean * (epoch / 3), advAcc: (clean + p.gap) * (epoch / 3) })),
        ...(sweep.length > 0 ? { lossVsEps, 'control:lossVsEps': lossVsEps.map((q) => ({ ...q, loss: q.loss + q.eps / 10 })) } : {}),
      },
      imagesPerSecond: 1000,
    };
  },
};

/** A kind that reports NonFiniteError the way training does when the loss diverges. */
const diverging: ExperimentKind<Record<string, never>> = {
  name: 'diverging',
  paramsSchema: { type: 'object', additionalProperties: false, properties: {} },
  metricNames: () => ['clean_acc'],
  async run() {
    throw new NonFiniteError('training loss at epoch 1, step 3', NaN);
  },
};

export const standInRegistry = { [standIn.name]: standIn, [diverging.name]: diverging };
