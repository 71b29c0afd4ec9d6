import { describe, expect, it } from 'vitest';
import { labelLeakCalls } from '../helpers/workflow-commands.ts';
import { type Step, load, stepUsing } from '../helpers/workflows.ts';

describe('gpu-claims.yml', () => {
  const wf = load('gpu-claims.yml');
  const jobs = Object.entries(wf.jobs);
  const gpuJobs = jobs.filter(([, j]) => JSON.stringify(j['runs-on']) === '["self-hosted","gpu"]');

  it('is started by hand (tier, claims, seeds, backend) and on a schedule', () => {
    const dispatch = wf.on.workflow_dispatch as { inputs: Record<string, { type: string; options?: string[]; default?: string }> };
    expect(Object.keys(dispatch.inputs).sort()).toEqual(['backend', 'claims', 'seeds', 'tier']);
    expect(dispatch.inputs.backend?.options).toEqual(['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu']);
    // The tiers a GPU runner is for; the scheduled run (no inputs) takes the default.
    expect(dispatch.inputs.tier?.options).toEqual(['full', 'gpu']);
    expect(dispatch.inputs.tier?.default).toBe('full');
    expect((wf.on.schedule as { cron: string }[]).length).toBeGreaterThan(0);
  });

  it('fans out one self-hosted GPU job per (claim, seed) from the emitted matrix', () => {
    expect(gpuJobs).toHaveLength(1);
    const [, job] = gpuJobs[0]!;
    const needs = [job.needs ?? []].flat();
    expect(needs).toHaveLength(1);
    const emitter = wf.jobs[needs[0]!]!;
    const m = /^\$\{\{ fromJSON\(needs\.([\w-]+)\.outputs\.([\w-]+)\) \}\}$/.exec(String(job.strategy?.matrix));
    expect(m, 'strategy.matrix is fromJSON(needs.<job>.outputs.<name>)').not.toBeNull();
    expect(m![1]).toBe(needs[0]);
    const stepOut = /^\$\{\{ steps\.([\w-]+)\.outputs\.([\w-]+) \}\}$/.exec(emitter.outputs?.[m![2]!] ?? '');
    expect(stepOut).not.toBeNull();
    const emit = emitter.steps.find((s) => s.id === stepOut![1]);
    expect(emit?.run).toMatch(/label-leak(\.mjs)? list --json --matrix "\$TIER"/);
    expect(emit?.env?.TIER).toBe("${{ inputs.tier || 'full' }}");
    expect(emit?.run).toContain('>> "$GITHUB_OUTPUT"');
    expect(job.strategy?.['fail-fast']).toBe(false);
  });

  it('runs one claim and seed at the chosen tier with resume, under the job token lifetime', () => {
    const [, job] = gpuJobs[0]!;
    const run = labelLeakCalls(job.steps.map((s) => s.run ?? '').join('\n')).find((c) => c.args[0] === 'run');
    expect(run?.args.slice(0, 2)).toEqual(['run', '$CLAIM']);
    const flagValue = (f: string) => run!.args[run!.args.indexOf(f) + 1];
    expect(flagValue('--tier')).toBe('$TIER');
    expect(job.env?.TIER).toBe("${{ inputs.tier || 'full' }}");
    expect(flagValue('--seed')).toBe('$SEED');
    expect(flagValue('--results')).toBe('$RESULTS_DIR');
    expect(run?.args).toContain('--resume');
    expect(job.env?.CLAIM).toBe('${{ matrix.claim }}');
    expect(job.env?.SEED).toBe('${{ matrix.seed }}');
    expect(job.env?.BACKEND).toBe("${{ inputs.backend || 'auto' }}");
    // The job token expires after 24 hours; a longer job could not upload its record.
    expect(job['timeout-minutes']).toBeGreaterThanOrEqual(360);
    expect(job['timeout-minutes']).toBeLessThan(24 * 60);
  });

  it('installs tfjs-node-gpu allowed to fail, unless the tensorflow backend was asked for', () => {
    const [, job] = gpuJobs[0]!;
    const install = job.steps.find((s) => s.run?.trim() === 'npm install --no-save @tensorflow/tfjs-node-gpu');
    expect(install?.['continue-on-error']).toBe("${{ (inputs.backend || 'auto') != 'tensorflow' }}");
    const order = (s?: Step) => job.steps.indexOf(s!);
    expect(order(install)).toBeLessThan(job.steps.findIndex((s) => /label-leak\.mjs run /.test(s.run ?? '')));
  });

  it('keeps results and checkpoints outside the workspace, and uploads the record without checkpoints', () => {
    const [, job] = gpuJobs[0]!;
    const state = job.steps.find((s) => /RESULTS_DIR=/.test(s.run ?? ''));
    expect(state?.run).toContain('$state/results/$CLAIM-$SEED');
    expect(state?.run).not.toMatch(/GITHUB_WORKSPACE|github\.workspace/);
    const [upload] = stepUsing(job, 'actions/upload-artifact');
    expect(upload?.with?.name).toBe('result-${{ matrix.claim }}-${{ matrix.seed }}');
    expect(String(upload?.with?.path).split('\n').filter(Boolean)).toEqual([
      '${{ env.RESULTS_DIR }}',
      '!${{ env.RESULTS_DIR }}/**/checkpoint.*',
    ]);
    expect(upload?.with?.overwrite).toBe(true);
    expect(upload?.if).toBe('${{ !cancelled() }}');
  });

  it('ends with a job that merges every record into one report and uploads it', () => {
    const [gpuName] = gpuJobs[0]!;
    const report = jobs.find(([, j]) => [j.needs ?? []].flat().includes(gpuName));
    expect(report).toBeDefined();
    const [, job] = report!;
    expect(job.if).toContain('!cancelled()');
    const [download] = stepUsing(job, 'actions/download-artifact');
    expect(download?.with).toMatchObject({ pattern: 'result-*', path: 'records' });
    const script = job.steps.map((s) => s.run ?? '').join('\n');
    const call = labelLeakCalls(script).find((c) => c.args[0] === 'report');
    expect(call?.args).toEqual(['report', '$folders[@]', '--out', 'report']);
    // `--results` repeats, once per downloaded artifact folder.
    expect(script).toContain('for dir in records/*/; do folders+=(--results "$dir"); done');
    const uploads = stepUsing(job, 'actions/upload-artifact');
    expect(uploads.map((u) => u.with?.path)).toEqual(['report/']);
  });
});
