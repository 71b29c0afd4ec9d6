import type { PlannedJob, PlannedTraining } from '../claims/plan.ts';
import { DATASET_SHAPES } from '../data/layout.ts';
import type { StepCost } from './step-cost.ts';

/**
 * The dry run's estimate of a run's wall time on an H100/H200 through webgpu, from kernel
 * counts (src/bench/step-cost.ts) and the one set of GPU figures this project has measured
 * (docs/gpu.md §6): tfjs-webgpu and dawn.node spend a roughly fixed host time per kernel,
 * and each job is one process, so with N processes the busiest one's total is the estimate.
 * All jobs share one GPU's arithmetic, whose rate no device has measured for these kernels
 * yet: the estimate says what rate the run needs for the host bound to hold.
 */

/**
 * Per-dispatch host time of tfjs-webgpu through dawn.node on an H100 (docs/gpu.md §6): the
 * ResNet-20 step with half of each batch FGSM trained at 988 img/s at batch 512, 0.518 s a
 * step, and that step runs 2,123 tfjs kernels (counted on the cpu backend by
 * src/bench/step-cost.ts, 2026-11-30). The time went to dispatching, not arithmetic (§6), so
 * the quotient is taken as the cost of one kernel whatever its size.
 */
export const H100_SECONDS_PER_KERNEL = 0.518 / 2123;
export interface Cost {
  steps: number;
  kernels: number;
  /** Multiply-accumulates the GPU computes. */
  macs: number;
}

const add = (a: Cost, b: Cost): Cost => ({ steps: a.steps + b.steps, kernels: a.kernels + b.kernels, macs: a.macs + b.macs });
const NONE: Cost = { steps: 0, kernels: 0, macs: 0 };

function sizes(t: PlannedTraining) {
  const split = DATASET_SHAPES[t.dataset];
  return { train: t.trainSubset ?? split.train, test: t.testSubset ?? split.test };
}

/**
 * Training one model: its steps, and the per-epoch accuracy curve (clean and FGSM on
 * `curveSubset` test images). A training image costs a forward and a backward pass (≈ 3
 * forwards of arithmetic), an adversarial one a crafting pass (≈ 2) more.
 */
export function trainingCost(t: PlannedTraining, cost: StepCost): Cost {
  const n = sizes(t);
  const cfg = t.training;
  const steps = Math.floor(n.train / cfg.batchSize) * cfg.epochs;
  const adv = cfg.adversarial ? cfg.adversarial.fraction : 0;
  let kernels = steps * cost.trainStep;
  let macs = steps * cfg.batchSize * cost.forwardMacs * (3 + 2 * adv);
  const ev = t.evaluation;
  if (ev && ev.curveSubset > 0) {
    const images = Math.min(ev.curveSubset, n.test);
    kernels += cfg.epochs * Math.ceil(images / ev.batchSize) * (2 * cost.forward + (cost.attack.fgsm ?? cost.inputGradient));
    macs += cfg.epochs * images * cost.forwardMacs * 4;
  }
  return { steps, kernels, macs };
}

/** The final evaluation on the test set: clean, each attack, and the loss-versus-ε sweep. */
function evaluationCost(t: PlannedTraining, cost: StepCost): Cost {
  const n = sizes(t);
  const ev = t.evaluation;
  if (!ev) return { steps: 0, kernels: Math.ceil(n.test / 500) * cost.forward, macs: n.test * cost.forwardMacs };
  const batches = Math.ceil(n.test / ev.batchSize);
  let kernels = cost.forward;
  let passes = 1;
  for (const a of ev.attacks) {
    const craft = cost.attack[a] ?? cost.inputGradient;
    kernels += craft + cost.forward;
    // Each crafting iteration is a forward and an input gradient (≈ 2 forwards).
    passes += 1 + 2 * Math.max(1, Math.round(craft / cost.inputGradient));
  }
  if (ev.epsSweep) {
    kernels += cost.inputGradient + ev.epsSweep.length * (cost.forward + 3);
    passes += 2 + ev.epsSweep.length;
  }
  return { steps: 0, kernels: batches * kernels, macs: n.test * cost.forwardMacs * passes };
}

export interface JobEstimate {
  job: PlannedJob;
  cost: Cost;
  hostSeconds: number;
  /** Floating-point operations (2 per multiply-accumulate). */
  flops: number;
}

export interface RunEstimate {
  jobs: JobEstimate[];
  /** Σ of every job's host time. */
  hostSeconds: number;
  /** Σ of every job's arithmetic. */
  flops: number;
  /** The estimate: the busiest of `parallel` processes when jobs are dealt longest first. */
  wallSeconds: number;
  /** The fp32 rate the GPU must sustain, across all jobs, for its arithmetic to fit in wallSeconds. */
  requiredFlopsPerSecond: number;
  parallel: number;
}

const seconds = (c: Cost) => ({ hostSeconds: c.kernels * H100_SECONDS_PER_KERNEL, flops: 2 * c.macs });

function estimateJob(job: PlannedJob, costOf: (t: PlannedTraining) => StepCost): JobEstimate {
  let cost = NONE;
  for (const t of job.trainings) cost = add(cost, trainingCost(t, costOf(t)));
  for (const t of job.evaluations) cost = add(cost, evaluationCost(t, costOf(t)));
  return { job, cost, ...seconds(cost) };
}

export function estimateRun(jobs: PlannedJob[], costOf: (t: PlannedTraining) => StepCost, parallel: number): RunEstimate {
  const per = jobs.map((j) => estimateJob(j, costOf));
  const lanes = new Array<number>(Math.max(1, parallel)).fill(0);
  for (const j of [...per].sort((a, b) => b.hostSeconds - a.hostSeconds)) {
    const i = lanes.indexOf(Math.min(...lanes));
    lanes[i] += j.hostSeconds;
  }
  const wallSeconds = Math.max(...lanes);
  const flops = per.reduce((s, j) => s + j.flops, 0);
  return {
    jobs: per,
    hostSeconds: per.reduce((s, j) => s + j.hostSeconds, 0),
    flops,
    wallSeconds,
    requiredFlopsPerSecond: flops / Math.max(wallSeconds, 1e-9),
    parallel: lanes.length,
  };
}
