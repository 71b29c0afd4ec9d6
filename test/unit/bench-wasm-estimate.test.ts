import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend } from '../../src/backend/select.ts';
import type { RunEstimate } from '../../src/bench/estimate.ts';
import { benchCases } from '../../src/bench/cases.ts';
import { measureStepCost } from '../../src/bench/step-cost.ts';
import { GPU_PEAK_FLOPS, gpuEstimateLines, newestWasmBench, wasmRate, wasmWallSeconds } from '../../src/bench/wasm-estimate.ts';
import type { AdversarialTraining } from '../../src/train/step.ts';

const tmp = mkdtempSync(join(tmpdir(), 'llk-wasm-est-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
beforeAll(async () => {
  await startBackend('cpu');
});

/** A run of jobs with these FLOPs; the GPU estimate takes `wall` seconds whatever the parallelism. */
const run = (flops: number[], wallOf: (p: number) => number = () => 60) => (parallel: number): RunEstimate => {
  const total = flops.reduce((a, b) => a + b, 0);
  const wallSeconds = wallOf(parallel);
  return { jobs: flops.map((f) => ({ flops: f }) as RunEstimate['jobs'][number]), hostSeconds: 0, flops: total, wallSeconds, requiredFlopsPerSecond: total / wallSeconds, parallel };
};
const min = (s: number) => `${(s / 60).toFixed(1)} min`;

describe('dry run: GPU estimates ordered by plausibility', () => {
  it('those that fit under the quoted peak first, the least demanding first; one needing more than the peak is flagged', () => {
    // 60 s at --jobs 1, 5 s at --jobs 12: 600 TFLOP needs 10 then 120 TFLOP/s.
    const estimate = run([600e12], (p) => (p === 1 ? 60 : p === 4 ? 20 : 5));
    const lines = gpuEstimateLines(estimate, [12, 1, 4], min);
    expect(lines.map((l) => l.match(/--jobs (\d+)/)![1])).toEqual(['1', '4', '12']);
    expect(lines[0]).toBe('  GPU, --jobs 1: 1.0 min if the GPU sustains 10.0 TFLOP/s of fp32 (15% of the ≈ 67 peak)');
    expect(lines[1]).toMatch(/--jobs 4: 0\.3 min if the GPU sustains 30\.0 TFLOP\/s/);
    expect(lines[2]).toBe(`  GPU, --jobs 12: 0.1 min — implausible: needs 120.0 TFLOP/s, above the ≈ 67 TFLOP/s fp32 peak; the arithmetic alone takes at least ${min(600e12 / GPU_PEAK_FLOPS)}`);
  });
});

describe('dry run: the wasm time on this machine', () => {
  it('deals each job\'s arithmetic at the rate to the processes, longest first', () => {
    const estimate = run([8e9, 4e9, 4e9])(2);
    // 1 GFLOP/s: 8 s in one process, 4 + 4 in the other.
    expect(wasmWallSeconds(estimate, 1e9, 2)).toBe(8);
    expect(wasmWallSeconds(estimate, 1e9, 1)).toBe(16);
  });

  it('the rate is the bench record\'s images/s times each case\'s arithmetic per image; no record, no rate', async () => {
    expect(await wasmRate(join(tmp, 'none'))).toBeUndefined();
    const dir = join(tmp, 'bench');
    await import('node:fs').then((fs) => fs.mkdirSync(dir));
    const record = (date: string, results: object[]) => ({ tool: 'label-leak', date, machine: { loadBefore: 1.5 }, backends: [], timing: {}, results });
    writeFileSync(join(dir, '2026-12-01.json'), JSON.stringify(record('2026-12-01T00:00:00Z', [{ backend: 'wasm', case: 'mlp-mnist', kind: 'train', batch: 128, imagesPerSecond: 1 }])));
    writeFileSync(
      join(dir, '2026-12-02.json'),
      JSON.stringify(record('2026-12-02T00:00:00Z', [
        { backend: 'wasm', case: 'mlp-mnist', kind: 'train', batch: 128, imagesPerSecond: 1000 },
        // Overhead-bound here: far fewer FLOP/s than the MLP case, so not the rate.
        { backend: 'wasm', case: 'cnn-cifar', kind: 'train', batch: 128, imagesPerSecond: 1 },
      ])),
    );
    // Newer, but without wasm training results: not the one.
    writeFileSync(join(dir, '2026-12-03.json'), JSON.stringify(record('2026-12-03T00:00:00Z', [{ backend: 'webgpu', case: 'mlp-mnist', kind: 'train', batch: 128, imagesPerSecond: 9 }])));
    expect(newestWasmBench(dir)?.file).toBe(join(dir, '2026-12-02.json'));
    const mlp = benchCases.train.find((c) => c.id === 'mlp-mnist')!;
    const cost = await measureStepCost(mlp.model, mlp.input, 10, mlp.adversarial as AdversarialTraining | null, []);
    const rate = await wasmRate(dir);
    expect(rate).toMatchObject({ file: join(dir, '2026-12-02.json'), cases: ['mlp-mnist', 'cnn-cifar'], load: 1.5 });
    // The fastest case's rate. Plain training: forward + backward ≈ 3 forwards, 2 FLOP per multiply-add, 1000 images a second.
    expect(rate!.flopsPerSecond).toBe(2 * cost.forwardMacs * 3 * 1000);
  });
});
