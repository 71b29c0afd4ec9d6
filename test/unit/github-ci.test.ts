import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readmeTestCommand } from '../helpers/workflow-commands.ts';
import { root, load, stepUsing } from '../helpers/workflows.ts';

describe('ci.yml', () => {
  const wf = load('ci.yml');
  const job = Object.values(wf.jobs)[0]!;
  const runs = job.steps.map((s) => s.run?.trim() ?? '');

  it('runs on a GitHub-hosted Ubuntu with Node 20', () => {
    expect(Object.keys(wf.jobs)).toHaveLength(1);
    expect(job['runs-on']).toBe('ubuntu-latest');
    expect(stepUsing(job, 'actions/setup-node')[0]?.with?.['node-version']).toBe(20);
  });

  it("runs exactly the README's test command, after npm ci and the datasets", (ctx) => {
    const readmePath = join(root, 'README.md');
    let command: string | undefined;
    if (existsSync(readmePath)) {
      command = readmeTestCommand(readFileSync(readmePath, 'utf8'));
      expect(command, 'README.md has a fenced line with the test command').toBeDefined();
    } else {
      command = 'npm test';
      ctx.annotate('README.md does not exist yet: checked against the planned command `npm test`');
    }
    const testStep = runs.indexOf(command!);
    expect(testStep, `a step whose whole script is \`${command}\``).toBeGreaterThan(-1);
    expect(runs.filter((r) => /\b(npm (run )?test|vitest)\b/.test(r))).toEqual([command]);
    const ci = runs.indexOf('npm ci');
    const fashion = runs.findIndex((r) => /apt-get install -y dataset-fashion-mnist/.test(r));
    const cifar = runs.findIndex((r) => /label-leak data fetch cifar10\b/.test(r));
    expect(ci).toBeGreaterThan(-1);
    expect(fashion).toBeGreaterThan(ci);
    expect(cifar).toBeGreaterThan(ci);
    expect(testStep).toBeGreaterThan(Math.max(fashion, cifar));
  });

  it('tests with LABEL_LEAK_DATA_DIR set to the folder the CIFAR-10 cache restores', () => {
    const dataDir = job.env?.LABEL_LEAK_DATA_DIR;
    expect(dataDir).toBeTruthy();
    const [cache] = stepUsing(job, 'actions/cache');
    // The cached path is the data folder's cifar10 subfolder (src/data/layout.ts).
    expect(cache?.with?.path).toBe('${{ env.LABEL_LEAK_DATA_DIR }}/cifar-10-batches-bin');
    expect(cache?.with?.key).toMatch(/cifar-10-binary\.tar\.gz/);
    const fetch = job.steps.find((s) => /label-leak data fetch cifar10/.test(s.run ?? ''));
    expect(fetch?.if).toBe(`steps.${cache?.id}.outputs.cache-hit != 'true'`);
    expect(fetch?.run).toContain('--data-dir "$LABEL_LEAK_DATA_DIR"');
  });

  it('uploads results/ even when the tests fail', () => {
    const [upload] = stepUsing(job, 'actions/upload-artifact');
    expect(upload?.with?.path).toBe('results/');
    expect(upload?.if).toBe('${{ !cancelled() }}');
  });
});
