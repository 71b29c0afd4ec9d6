import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend } from '../../src/backend/select.ts';
import { applyOverrides, parseOverride } from '../../src/claims/overrides.ts';
import { checkpointDir, runClaim } from '../../src/claims/runner.ts';
import { loadSpecFile } from '../../src/claims/spec-files.ts';
import { experiments } from '../../src/experiments/registry.ts';
import type { BackendInfo } from '../../src/backend/info.ts';
import { Interrupted } from '../../src/train/errors.ts';
import { cli } from '../helpers/cli.ts';

// Runs that cannot do what they are asked must be refused before the backend starts (no
// "backend:" line), and with --jobs before any child starts: exit 2, one line naming the
// field or file and the fix.

const tmp = mkdtempSync(join(tmpdir(), 'llk-run-refusals-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const fresh = (name: string) => join(tmp, `${name}-${n++}`);

const REAL = ['tiny-mnist-fgsm', '--claims', 'test/fixtures-specs/real-kinds'];

function expectRefusedBeforeBackend(r: { code: number; stdout: string; stderr: string }, ...needles: (string | RegExp)[]) {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr).not.toMatch(/^backend:/m);
  // With --jobs: no job was started either.
  expect(r.stderr).not.toMatch(/\bjobs? \(claim × seed/);
  expect(r.stdout).not.toMatch(/reproduced|refuted|inconclusive/);
  for (const s of needles) expect(r.stderr).toMatch(s);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe('a plan that trains zero steps is refused (issue 26, item 1)', () => {
  it('a batch larger than the training subset exits 2 naming training.batchSize and trainSubset, before the backend', async () => {
    const r = await cli(['run', ...REAL, '--backend', 'wasm', '--seeds', '1,2', '--set', 'training.batchSize=100000', '--results', fresh('r')]);
    expectRefusedBeforeBackend(r, /\/tiers\/fast\/params\/training\/batchSize/, /100000/, /trainSubset/, /0 training steps/, /at most 400/);
  });

  it('the same with --jobs 2: no job starts', async () => {
    const r = await cli(['run', ...REAL, '--backend', 'wasm', '--jobs', '2', '--set', 'training.batchSize=401', '--results', fresh('r')]);
    expectRefusedBeforeBackend(r, /training\/batchSize/, /401/);
  });

  it('a batch exactly the size of the subset trains and runs', async () => {
    const r = await cli(['run', ...REAL, '--backend', 'wasm', '--seed', '1', '--set', 'training.batchSize=400', '--set', 'training.epochs=1', '--results', fresh('r')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/started \(1 steps?\)/);
  });
});

describe('a seed that trains zero steps is an error, never a verdict (issue 26, item 1, the safety net)', () => {
  it('run without the CLI\'s check: every seed errs with NoTrainingError, the verdict is error', async () => {
    const backend = await startBackend('cpu');
    const spec = applyOverrides(loadSpecFile('test/fixtures-specs/real-kinds/tiny-mnist-fgsm.json', experiments), 'fast', [parseOverride('training.batchSize=100000')]);
    const record = await runClaim(spec, { tier: 'fast', seeds: [1, 2], backend, resultsDir: fresh('r'), resume: false, notice: () => {}, progress: { start() {}, tick() {}, stop() {} } });
    expect(record.verdict).toBe('error');
    expect(record.outcomes.map((o) => [o.status, o.error?.name])).toEqual([['error', 'NoTrainingError'], ['error', 'NoTrainingError']]);
    expect(record.outcomes[0].error?.message).toMatch(/0 training steps: batch size 100000 is more than the 400 training images/);
  });
});

describe('empty paths are refused (issue 26, item 20)', () => {
  it.each([
    [['run', ...REAL, '--results', '']],
    [['run', ...REAL, '--claims', '']],
    [['run', ...REAL, '--data-dir', '']],
    [['run', ...REAL, '--save-models', '']],
    [['report', '--results', '']],
    [['report', '--out', '']],
    [['diff', '', 'docs/results/records']],
    [['list', '--claims', '']],
  ])('%j exits 2 and writes nothing into the current folder', async (args) => {
    const r = await cli(args);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/empty path/);
    expect(r.stderr).not.toMatch(/^backend:/m);
    expect(existsSync('fast')).toBe(false);
  });
});

describe('an out-of-range model.hidden item (issue 26, item 16)', () => {
  it('is one line naming the field and the allowed range, not one per model kind', async () => {
    const r = await cli(['run', ...REAL, '--backend', 'wasm', '--set', 'model.hidden=[0]', '--results', fresh('r')]);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/--set model\.hidden=\[0\]: model\.hidden\.0: must be >= 1/);
  });
});

describe('records and checkpoints --resume cannot use are refused before any backend or job starts (issue 26, items 13 and 22)', () => {
  it('a record of another claim under this claim\'s name, with --jobs 2', async () => {
    const results = fresh('r');
    mkdirSync(join(results, 'fast'), { recursive: true });
    copyFileSync('docs/results/records/fast/mnist-no-leaking.json', join(results, 'fast', 'tiny-mnist-fgsm.json'));
    for (const extra of [[], ['--resume']]) {
      const r = await cli(['run', ...REAL, '--backend', 'wasm', '--jobs', '2', ...extra, '--results', results]);
      expectRefusedBeforeBackend(r, join(results, 'fast', 'tiny-mnist-fgsm.json'), /holds mnist-no-leaking \[fast\], not tiny-mnist-fgsm \[fast\]/);
    }
  });

  it('a record made with other --set values, resumed without them', async () => {
    const results = fresh('r');
    const first = await cli(['run', ...REAL, '--backend', 'wasm', '--seed', '1', '--set', 'training.epochs=1', '--results', results]);
    expect(first.code, first.stderr).toBe(0);
    for (const jobs of [[], ['--jobs', '2']]) {
      const r = await cli(['run', ...REAL, '--backend', 'wasm', '--resume', ...jobs, '--results', results]);
      expectRefusedBeforeBackend(r, /was made with --set training\.epochs=1/, /repeat the record's --set values/);
    }
  });

  describe('checkpoints', () => {
    const spec = loadSpecFile('test/fixtures-specs/real-kinds/tiny-mnist-fgsm.json', experiments);
    let backend: BackendInfo;
    let made: string;

    beforeAll(async () => {
      backend = await startBackend('cpu');
      // A real checkpoint: seed 1 interrupted after its third step, as SIGINT leaves it.
      made = fresh('made');
      const controller = new AbortController();
      let ticks = 0;
      const run = runClaim(spec, {
        tier: 'fast',
        seeds: [1],
        backend,
        resultsDir: made,
        resume: false,
        checkpointEvery: 1000,
        signal: controller.signal,
        notice: () => {},
        progress: { start() {}, stop() {}, tick: () => void (++ticks === 3 && controller.abort()) },
      });
      await expect(run).rejects.toBeInstanceOf(Interrupted);
    });

    /** A copy of the interrupted run's results whose adversarial checkpoint's metadata is edited. */
    function withCheckpoint(edit: (meta: Record<string, any>) => void): { results: string; file: string; original: Record<string, any> } {
      const results = fresh('r');
      const from = checkpointDir(made, 'fast', spec.id, 1);
      const to = checkpointDir(results, 'fast', spec.id, 1);
      const folder = readdirSync(from).find((d) => d.startsWith('adversarial-'))!;
      mkdirSync(join(to, folder), { recursive: true });
      for (const f of ['checkpoint.json', 'checkpoint.bin']) copyFileSync(join(from, folder, f), join(to, folder, f));
      mkdirSync(join(results, 'fast'), { recursive: true });
      copyFileSync(join(made, 'fast', `${spec.id}.json`), join(results, 'fast', `${spec.id}.json`));
      const file = join(to, folder, 'checkpoint.json');
      const original = JSON.parse(readFileSync(file, 'utf8'));
      const meta = structuredClone(original);
      edit(meta);
      writeFileSync(file, JSON.stringify(meta));
      return { results, file, original };
    }

    const resume = (results: string, ...extra: string[]) => cli(['run', ...REAL, '--backend', 'cpu', '--seed', '1', '--resume', ...extra, '--results', results]);

    it('the unedited checkpoint resumes (exit 0)', async () => {
      const { results } = withCheckpoint(() => {});
      const r = await resume(results);
      expect(r.code, r.stderr).toBe(0);
    });

    it('an epoch beyond the run\'s epochs', async () => {
      const { results, file } = withCheckpoint((m) => void (m.epoch = 99));
      const r = await resume(results);
      expectRefusedBeforeBackend(r, file, /epoch 99/, /2 epochs/, /delete/);
    });

    it('a step beyond an epoch\'s steps', async () => {
      // trainSubset 400 / batchSize 50: 8 steps an epoch, so the next step is at most 7.
      const { results, file } = withCheckpoint((m) => void (m.step = 8));
      const r = await resume(results);
      expectRefusedBeforeBackend(r, file, /step 8/, /8 steps/);
    });

    it('a tensor of another shape', async () => {
      const { results, file, original } = withCheckpoint((m) => void (m.tensors[0].shape = [...m.tensors[0].shape].reverse()));
      const shape: number[] = original.tensors[0].shape;
      const r = await resume(results, '--jobs', '2');
      expectRefusedBeforeBackend(r, file, `tensor 0 has shape ${[...shape].reverse()}, the model expects ${shape}`);
    });

    it('a tensor too few', async () => {
      const { results, file, original } = withCheckpoint((m) => void m.tensors.pop());
      const count = original.tensors.length;
      const r = await resume(results);
      expectRefusedBeforeBackend(r, file, `holds ${count - 1} tensors, the model has ${count}`);
    });

    it('a checkpoint of another training configuration is not ignored silently', async () => {
      const { results, file } = withCheckpoint((m) => void (m.key = '0123456789abcdef'));
      const r = await resume(results);
      expectRefusedBeforeBackend(r, file, /another training configuration/);
    });

    it('a checkpoint made on another backend names the backend to resume it with', async () => {
      const { results, file } = withCheckpoint(() => {});
      const r = await cli(['run', ...REAL, '--backend', 'wasm', '--seed', '1', '--resume', '--results', results]);
      expectRefusedBeforeBackend(r, file, /--backend cpu/);
    });
  });
});
