// The GitHub workflows are code that only GitHub runs; these checks are what keeps them
// honest here: GitHub's own workflow schema, the shape the docs promise, the README's test
// command, and every `label-leak` subcommand and flag they call existing in the real CLI.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import {
  labelLeakCalls,
  readHelp,
  readmeTestCommand,
  resolveCall,
  workflowErrors,
  type HelpText,
} from '../helpers/workflow-commands.ts';
import { parseMatrix, parseSeeds, selectMatrix, words } from '../../scripts/gpu-matrix.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const workflowDir = join(root, '.github', 'workflows');
const WORKFLOWS = ['ci.yml', 'gpu-claims.yml'];

// Loose types: the schema check above them is what guarantees the shape.
interface Step {
  name?: string;
  id?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
  'continue-on-error'?: boolean | string;
}
interface Job {
  'runs-on': string | string[];
  needs?: string | string[];
  if?: string;
  'timeout-minutes'?: number;
  strategy?: { 'fail-fast'?: boolean; matrix?: unknown };
  outputs?: Record<string, string>;
  env?: Record<string, string>;
  steps: Step[];
}
interface Workflow {
  on: Record<string, unknown>;
  env?: Record<string, string>;
  defaults?: { run?: { shell?: string } };
  jobs: Record<string, Job>;
}

const text = (file: string) => readFileSync(join(workflowDir, file), 'utf8');
const load = (file: string) => parseYaml(text(file)) as Workflow;
const runSteps = (wf: Workflow) => Object.values(wf.jobs).flatMap((j) => j.steps.filter((s) => s.run !== undefined));
const stepUsing = (job: Job, action: string) => job.steps.filter((s) => s.uses?.startsWith(`${action}@`));

describe('workflow files', () => {
  it('are exactly the two this project documents', () => {
    expect(readdirSync(workflowDir).sort()).toEqual([...WORKFLOWS].sort());
  });

  for (const file of WORKFLOWS) {
    it(`${file} passes GitHub's workflow parser with no errors`, async () => {
      expect(await workflowErrors(file, text(file))).toEqual([]);
    });

    it(`${file} pins every action to a major version or commit`, () => {
      const uses = Object.values(load(file).jobs).flatMap((j) => j.steps.flatMap((s) => (s.uses ? [s.uses] : [])));
      expect(uses.length).toBeGreaterThan(0);
      for (const u of uses) expect(u).toMatch(/^[\w.-]+\/[\w./-]+@(v\d+(\.\d+)*|[0-9a-f]{40})$/);
    });

    it(`${file} runs bash with pipefail (explicit shell)`, () => {
      expect(load(file).defaults?.run?.shell).toBe('bash');
    });

    it(`${file} refers only to declared workflow_dispatch inputs`, () => {
      const declared = Object.keys(
        ((load(file).on.workflow_dispatch ?? {}) as { inputs?: Record<string, unknown> }).inputs ?? {},
      );
      const used = [...text(file).matchAll(/\binputs\.([\w-]+)/g)].map((m) => m[1]!);
      for (const name of used) expect(declared, `inputs.${name}`).toContain(name);
    });
  }

  it('the parser rejects broken workflows (so the checks above can fail)', async () => {
    const gpu = text('gpu-claims.yml');
    const broken: [string, RegExp][] = [
      [gpu.replace('timeout-minutes: 1380', 'timeout-minutes: 1380\n    timeout-minuts: 5'), /timeout-minuts/],
      [gpu.replace('needs: matrix\n', 'needs: matrixx\n'), /unknown job 'matrixx'/],
      [gpu.replace('${{ matrix.claim }} (seed', '${{ matrx.claim }} (seed'), /matrx/],
      [gpu.replace("cron: '0 3 * * 6'", "cron: '0 3 * *'"), /cron/i],
    ];
    for (const [content, why] of broken) {
      expect(content).not.toBe(gpu);
      expect((await workflowErrors('broken.yml', content)).join('\n')).toMatch(why);
    }
  });
});

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

describe('scripts/gpu-matrix.ts (the workflow inputs narrowing the matrix)', () => {
  // The shape `label-leak list --json --matrix full` prints (extra fields are dropped).
  const full = parseMatrix(
    JSON.stringify({
      claims: [],
      matrix: {
        tier: 'full',
        include: [
          { claim: 'a', tier: 'full', seed: 1 },
          { claim: 'a', tier: 'full', seed: 2 },
          { claim: 'b', tier: 'full', seed: 1 },
        ],
      },
    }),
  );

  it('keeps everything when no input is given (scheduled runs)', () => {
    expect(full.include[0]).toEqual({ claim: 'a', seed: 1 });
    expect(selectMatrix(full, [], [])).toEqual(full);
  });

  it('keeps the named claims, and replaces their seeds when seeds are given', () => {
    expect(selectMatrix(full, words('b'), [])).toEqual({ include: [{ claim: 'b', seed: 1 }] });
    expect(selectMatrix(full, words(' a, b '), parseSeeds('7,8'))).toEqual({
      include: [
        { claim: 'a', seed: 7 },
        { claim: 'a', seed: 8 },
        { claim: 'b', seed: 7 },
        { claim: 'b', seed: 8 },
      ],
    });
  });

  it('refuses unknown claims, bad seeds, non-matrix input and oversize matrices', () => {
    expect(() => selectMatrix(full, ['zz'], [])).toThrow(/unknown claim\(s\) zz; the full tier has: a, b/);
    expect(() => parseSeeds('1,x')).toThrow(/integers/);
    expect(() => parseMatrix('[1]')).toThrow(/\{matrix: \{include/);
    expect(() => parseMatrix(JSON.stringify({ include: [{ claim: 'a', seed: 1 }] }))).toThrow(/must have required property 'matrix'/);
    expect(() => parseMatrix('not json')).toThrow(/did not print JSON/);
    expect(() => selectMatrix({ include: [] }, [], [])).toThrow(/empty/);
    const seeds = Array.from({ length: 200 }, (_, i) => i);
    expect(() => selectMatrix(full, [], seeds)).toThrow(/256-job/);
  });
});

describe('helpers reading workflow steps', () => {
  it('finds label-leak calls through npx, node and pipes', () => {
    const calls = labelLeakCalls(
      'npx --no label-leak data fetch cifar10 --data-dir "$D" || echo no\n' +
        'node bin/label-leak.mjs list --json \\\n  --matrix full | npx --no tsx x.ts >> "$GITHUB_OUTPUT"',
    );
    expect(calls.map((c) => c.args)).toEqual([
      ['data', 'fetch', 'cifar10', '--data-dir', '$D'],
      ['list', '--json', '--matrix', 'full'],
    ]);
  });

  it('reads commander help and walks subcommands', () => {
    const top = readHelp('Usage: x\n\nOptions:\n  -h, --help  display help\n\nCommands:\n  data [options]  datasets\n  run [claims...]  run\n');
    const data = readHelp('Usage: x data\n\nOptions:\n  --data-dir <dir>  where\n\nCommands:\n  fetch [names...]  get\n');
    expect([...top.commands]).toEqual(['data', 'run']);
    expect(data.placeholders.get('--data-dir')).toBe('<dir>');
    const help = (p: string[]) => (p.length === 0 ? top : p[0] === 'data' ? data : readHelp(''));
    expect(resolveCall(['data', 'fetch', 'cifar10', '--data-dir=/x'], help)).toEqual({
      path: ['data', 'fetch'],
      flags: ['--data-dir'],
      operands: ['cifar10'],
    });
  });

  it('takes the first fenced test command from a README', () => {
    expect(readmeTestCommand('Run `npm run x`.\n\n```sh\nnpm ci\n$ npm test\n```\n')).toBe('npm test');
    expect(readmeTestCommand('```\nnpm run claims  # main\nnpm test        # the tests\n```')).toBe('npm test');
    expect(readmeTestCommand('npm test\n')).toBeUndefined();
  });
});

describe('the label-leak calls in the workflows exist in the CLI', () => {
  const haveCli = existsSync(join(root, 'src', 'cli.ts'));
  const helpCache = new Map<string, HelpText>();
  const helpFor = (path: string[]): HelpText => {
    const key = path.join(' ');
    let help = helpCache.get(key);
    if (!help) {
      const out = execFileSync(process.execPath, [join(root, 'bin', 'label-leak.mjs'), ...path, '--help'], {
        cwd: root,
        encoding: 'utf8',
        timeout: 60_000,
      });
      help = readHelp(out);
      helpCache.set(key, help);
    }
    return help;
  };
  const calls = WORKFLOWS.flatMap((file) =>
    runSteps(load(file)).flatMap((s) => labelLeakCalls(s.run!).map((c) => ({ file, ...c }))),
  );

  it('finds the calls the workflows make', () => {
    expect(calls.map((c) => c.args[0]).sort()).toEqual(['data', 'data', 'data', 'list', 'report', 'run']);
  });

  for (const call of calls) {
    it(`${call.file}: label-leak ${call.args.join(' ')}`, (ctx) => {
      ctx.skip(!haveCli, 'src/cli.ts does not exist yet (the lead writes it)');
      const resolved = resolveCall(call.args, helpFor);
      expect(resolved.path.length, `a subcommand in: ${call.line}`).toBeGreaterThan(0);
      const help = helpFor(resolved.path);
      for (const flag of resolved.flags) {
        expect([...help.flags], `label-leak ${resolved.path.join(' ')} --help lists ${flag}`).toContain(flag);
      }
      // The report job builds its `--results DIR` pairs in an array the parse cannot see.
      if (resolved.path[0] === 'report') {
        expect([...help.flags]).toContain('--results');
        expect(help.flags.has('--out')).toBe(true);
      }
    });
  }

  it('`label-leak list --json --matrix full` prints a matrix the workflow can use', (ctx) => {
    ctx.skip(!haveCli, 'src/cli.ts does not exist yet (the lead writes it)');
    const out = execFileSync(process.execPath, [join(root, 'bin', 'label-leak.mjs'), 'list', '--json', '--matrix', 'full'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
    });
    const matrix = parseMatrix(out);
    const specs = readdirSync(join(root, 'claims')).filter((f) => f.endsWith('.json'));
    if (specs.length > 0) expect(matrix.include.length).toBeGreaterThan(0);
  });
});
