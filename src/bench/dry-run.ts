import type { ClaimsPlan, PlannedJob, PlannedTraining } from '../claims/plan.ts';
import { planJobs } from '../claims/plan.ts';
import { DATASET_SHAPES } from '../data/layout.ts';
import type { Tier } from '../spec/names.ts';
import { estimateRun, H100_SECONDS_PER_KERNEL, type RunEstimate } from './estimate.ts';
import { measureStepCost, type StepCost } from './step-cost.ts';
import { gpuEstimateLines, wasmWallSeconds, type WasmRate } from './wasm-estimate.ts';

/**
 * `label-leak run --dry-run`: the jobs a run would start (claims of one seed that share a
 * trained model form one job, one process under `--jobs`), the kernels each costs, and the
 * estimated wall time on an H100/H200 through webgpu. Kernels are counted on the active
 * backend (the CLI starts webgpu, on any adapter, else cpu); nothing is trained.
 */
export interface DryRun {
  tier: Tier;
  jobs: PlannedJob[];
  /** Claims of the run whose experiment kind cannot say what it trains. */
  unplanned: string[];
  costs: { label: string; cost: StepCost }[];
  /** The estimate with `parallel` processes. */
  estimate(parallel: number): RunEstimate;
}

function costKey(t: PlannedTraining): string {
  const ev = t.evaluation;
  return JSON.stringify({ m: t.model, d: t.dataset, a: t.training.adversarial ?? null, o: [t.training.momentum, t.training.nesterov, t.training.weightDecay], e: ev ? [ev.attacks, ev.eps, ev.iterative] : null });
}

export async function dryRun(plan: ClaimsPlan): Promise<DryRun> {
  const planned: { id: string; trainings: PlannedTraining[] }[] = [];
  const unplanned: string[] = [];
  for (const c of plan.claims) {
    const trainings = c.spec.kind.trainings?.(c.tier.params);
    if (trainings) planned.push({ id: c.spec.id, trainings });
    else unplanned.push(c.spec.id);
  }
  const seeds = new Map(plan.claims.map((c) => [c.spec.id, c.seeds]));
  const jobs = planJobs(planned, (id) => seeds.get(id)!);
  const costs = new Map<string, { label: string; cost: StepCost }>();
  for (const p of planned) {
    for (const t of p.trainings) {
      const key = costKey(t);
      if (costs.has(key)) continue;
      const ev = t.evaluation;
      const attacks = (ev?.attacks ?? []).map((attack) => ({ attack, eps: ev!.eps, ...ev!.iterative }));
      if (ev && !ev.attacks.includes('fgsm') && ev.curveSubset > 0) attacks.push({ attack: 'fgsm', eps: ev.eps });
      const cost = await measureStepCost(t.model, DATASET_SHAPES[t.dataset], 10, t.training.adversarial ?? null, attacks, t.training);
      const adv = t.training.adversarial ? `${t.training.adversarial.attack} training` : 'plain training';
      costs.set(key, { label: `${describeModel(t)} on ${t.dataset}, ${adv}`, cost });
    }
  }
  const estimate = (parallel: number) => estimateRun(jobs, (t) => costs.get(costKey(t))!.cost, parallel);
  return { tier: plan.tier, jobs, unplanned, costs: [...costs.values()], estimate };
}

function describeModel(t: PlannedTraining): string {
  const m = t.model;
  switch (m.kind) {
    case 'mlp':
      return `mlp[${m.hidden.join(',')}]`;
    case 'cnn':
      return `cnn[${m.channels.join(',')}]`;
    case 'resnet':
      return `resnet${m.depth}${m.width && m.width > 1 ? `x${m.width}` : ''}`;
    case 'fastnet':
      return `fastnet[${m.stem ?? 32};${(m.widths ?? [64, 256, 256]).join(',')}]`;
  }
}

/** Sustained fp32 rates (FLOP/s) at which the dry run shows how long the arithmetic alone takes. */
const ARITHMETIC_RATES = [10e12, 20e12, 40e12];
const n = (x: number) => Math.round(x).toLocaleString('en-US');
const min = (s: number) => `${(s / 60).toFixed(1)} min`;

/** The plan, the kernel counts, and the estimate for each number of processes in `parallel`. */
export interface WasmLines {
  /** This machine's wasm rate (wasm-estimate.ts), or undefined when no bench record has one. */
  rate: WasmRate | undefined;
  /** Processes `run` would start here (--jobs, or one per core). */
  parallel: number;
  /** Where `label-leak bench` writes, for the advice when there is no rate. */
  benchDir: string;
}

/** Lines for the run this machine would make on wasm: the time it takes, from the bench's own rate here. */
export function wasmEstimateLines(d: DryRun, w: WasmLines): string[] {
  if (!w.rate) {
    return [`this machine, wasm (the backend \`run\` would start here): no estimate yet — \`label-leak bench --backends wasm --only resnet20-fgsm-cifar,fastnet-fgsm-cifar\` measures its rate once (results in ${w.benchDir}/), and the dry run uses it from then on`];
  }
  const r = w.rate;
  const wall = wasmWallSeconds(d.estimate(w.parallel), r.flopsPerSecond, w.parallel);
  return [
    `this machine, wasm (the backend \`run\` would start here), --jobs ${w.parallel}: ≈ ${min(wall)} — the run's arithmetic at ${(r.flopsPerSecond / 1e9).toFixed(1)} GFLOP/s a process, ` +
      `the fastest of ${r.cases.join(', ')} in ${r.file} (${r.date.slice(0, 16)}, load ${r.load.toFixed(1)}); a busier machine takes longer`,
  ];
}

export function formatDryRun(d: DryRun, parallel: number[], wasm?: WasmLines): string {
  const lines: string[] = [];
  if (d.jobs.length === 0) return `${d.tier} tier: nothing to run${d.unplanned.length ? ` that can be estimated (not estimated: ${d.unplanned.join(', ')})` : ''}`;
  const one = d.estimate(1);
  const claims = new Set(d.jobs.flatMap((j) => j.claims));
  lines.push(`${d.tier} tier: ${claims.size} claims → ${d.jobs.length} jobs (one process each under --jobs; the claims of one seed that share a trained model share a job)`);
  lines.push('');
  const rows = [['job', 'seed', 'claims', 'trains', 'steps', 'kernels', 'host s', 'TFLOP']];
  one.jobs.forEach((j, i) =>
    rows.push([
      String(i + 1),
      String(j.job.seed),
      j.job.claims.join(', '),
      j.job.trainings.map((t) => `${t.role} (${t.dataset}, ${t.training.epochs} ep)`).join(', '),
      n(j.cost.steps),
      n(j.cost.kernels),
      n(j.hostSeconds),
      (j.flops / 1e12).toFixed(0),
    ]),
  );
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const r of rows) lines.push(r.map((c, i) => (i >= 4 ? c.padStart(widths[i]) : i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd());
  lines.push('');
  const countedAs = d.costs[0]?.cost.countedAs ?? 'cpu kernels';
  lines.push(
    countedAs === 'webgpu dispatches'
      ? 'kernels (compute dispatches on webgpu, this project\'s fused kernels included, counted at batch 4 with every width 2 — a GPU runs the same ones):'
      : `kernels (tfjs ops, counted as ${countedAs} at batch 4 with every width 2 — the count depends on neither; webgpu fuses some, so this overstates its host time: \`scripts/swiftshader.sh\` lets the dry run count webgpu's own dispatches on any machine):`,
  );
  for (const { label, cost } of d.costs) {
    const attacks = Object.entries(cost.attack).map(([a, k]) => `${a} ${n(k ?? 0)}`).join(', ');
    lines.push(`  ${label}: training step ${n(cost.trainStep)}, forward ${n(cost.forward)}${attacks ? `, crafting ${attacks}` : ''}; ${(cost.forwardMacs / 1e6).toFixed(1)} M MACs per image`);
  }
  lines.push('');
  if (wasm) lines.push(...wasmEstimateLines(d, wasm), '');
  lines.push(
    `GPU estimates (an H100/H200 through webgpu${wasm ? ', not this machine' : ''}): the busiest process's kernels at ${(H100_SECONDS_PER_KERNEL * 1000).toFixed(3)} ms each ` +
      `(host time per kernel of the H100 ResNet-20 run, docs/gpu.md §6), plus start-up and data loading; most plausible first:`,
  );
  lines.push(...gpuEstimateLines(d.estimate, parallel, min));
  lines.push(
    `${n(one.hostSeconds)} s of host time and ${(one.flops / 1e15).toFixed(2)} PFLOP in all. The arithmetic rate tfjs-webgpu reaches on these kernels has not been measured ` +
      `(an H100/H200 peaks at ≈ 67 TFLOP/s fp32); where it falls short, the run takes flops / rate instead: ` +
      ARITHMETIC_RATES.map((r) => `${min(one.flops / r)} at ${r / 1e12} TFLOP/s`).join(', ') +
      '.',
  );
  if (d.unplanned.length > 0) lines.push(`not estimated (their experiment kind does not say what it trains): ${d.unplanned.join(', ')}`);
  return lines.join('\n');
}
