import { describe, expect, it } from 'vitest';
import { startBackend } from '../../src/backend/select.ts';
import { benchCases } from '../../src/bench/cases.ts';
import { runBench } from '../../src/bench/run.ts';
import { measureStepCost } from '../../src/bench/step-cost.ts';
import type { ModelSpec } from '../../src/models/spec.ts';
import { cli } from '../helpers/cli.ts';
import { webgpuUnavailable } from '../helpers/webgpu.ts';

const resnet: ModelSpec = { kind: 'resnet', depth: 8 };
const input = { height: 8, width: 8, channels: 3 };
const fgsmTraining = { attack: 'fgsm', fraction: 0.5, epsSigma: 12, lossWeight: 1 } as const;

describe('what the dry run counts', () => {
  it('on webgpu, the dispatches a GPU runs — fewer than cpu’s tfjs kernels, since this project’s kernels fuse BatchNorm, the loss and the optimiser', async (ctx) => {
    const why = await webgpuUnavailable();
    if (why !== undefined) ctx.skip(`webgpu does not start here (${why})`);
    await startBackend('cpu');
    const cpu = await measureStepCost(resnet, input, 10, fgsmTraining, [{ attack: 'fgsm', eps: 6 }]);
    await startBackend('webgpu');
    const gpu = await measureStepCost(resnet, input, 10, fgsmTraining, [{ attack: 'fgsm', eps: 6 }]);
    expect(cpu.countedAs).toBe('cpu kernels');
    expect(gpu.countedAs).toBe('webgpu dispatches');
    expect(gpu.trainStep).toBeGreaterThan(0);
    expect(gpu.trainStep).toBeLessThan(cpu.trainStep / 2);
    expect(gpu.attack.fgsm).toBeLessThan(cpu.attack.fgsm! / 2);
    // Same model either way: the multiply-accumulates are read off the same forward pass.
    expect(gpu.forwardMacs).toBe(cpu.forwardMacs);
    // Dispatches, not tfjs kernels (reshapes and casts are kernels that dispatch nothing): the
    // same number `bench --count` measures for the same step (which adds, per step, a 16th of
    // the loss read-back's stacking).
    const counted = await runBench({
      backends: ['webgpu'],
      countBatch: 4,
      cases: { ...benchCases, train: [{ id: 'resnet8', label: 'ResNet-8 + FGSM', model: resnet, input, batch: 4, adversarial: fgsmTraining }], attack: [] },
      timing: { warmup: 0, repeats: 0 },
    });
    expect(Math.abs(gpu.trainStep - counted.results[0].dispatchesPerStep!)).toBeLessThan(1);
  }, 600_000);

  it('`run --dry-run` says which it counted, and plans without training', async () => {
    const r = await cli(['run', 'tiny-mnist-fgsm', '--claims', 'test/fixtures-specs/real-kinds', '--dry-run', '--backend', 'wasm']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^fast tier: 1 claims → 3 jobs/m);
    const webgpu = (await webgpuUnavailable()) === undefined;
    expect(r.stdout).toContain(webgpu ? 'compute dispatches on webgpu' : 'tfjs ops, counted as cpu kernels');
    expect(r.stdout).toMatch(/--jobs 1: \d+\.\d min/);
    // The run would train on wasm: its time here comes first, the GPU's is labelled as not this machine's.
    expect(r.stdout).toMatch(/^this machine, wasm \(the backend `run` would start here\)(, --jobs \d+: ≈ \d+\.\d min| : no estimate yet|: no estimate yet)/m);
    expect(r.stdout.indexOf('this machine, wasm')).toBeLessThan(r.stdout.indexOf('GPU estimates (an H100/H200 through webgpu, not this machine)'));
    expect(r.stdout).toMatch(/at 20 TFLOP\/s/);
  }, 600_000);
});
