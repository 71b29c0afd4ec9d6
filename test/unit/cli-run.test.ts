import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const tmp = mkdtempSync(join(tmpdir(), 'llk-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Runs the real CLI as a user would; returns exit code and output instead of throwing. */
async function cli(args: string[], env: Record<string, string> = {}) {
  try {
    const r = await exec('node', ['bin/label-leak.mjs', ...args], {
      env: { ...process.env, LABEL_LEAK_DATA_DIR: '', XDG_CACHE_HOME: join(tmp, 'cache'), ...env },
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('label-leak run', () => {
  it('an unknown claim id exits 2 and lists the known ids', async () => {
    const r = await cli(['run', 'no-such-claim', '--backend', 'cpu']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no-such-claim/);
    expect(r.stderr).toMatch(/cifar10-label-leaking/);
  });

  it('a malformed spec exits 2 naming the file, the JSON pointer and the reason', async () => {
    const dir = join(tmp, 'bad-claims');
    const spec = JSON.parse(readFileSync('claims/mnist-no-leaking.json', 'utf8'));
    spec.tiers.fast.params.training.epochs = 'six';
    await import('node:fs').then((fs) => fs.mkdirSync(dir, { recursive: true }));
    writeFileSync(join(dir, 'mnist-no-leaking.json'), JSON.stringify(spec));
    const r = await cli(['run', '--claims', dir, '--backend', 'cpu']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(join(dir, 'mnist-no-leaking.json'));
    expect(r.stderr).toContain('/tiers/fast/params/training/epochs');
  });

  it('a missing dataset exits 2 before training, saying where it looked and how to get it', async () => {
    const r = await cli(['run', 'cifar10-label-leaking', '--backend', 'cpu', '--data-dir', join(tmp, 'empty')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(join(tmp, 'empty'));
    expect(r.stderr).toMatch(/LABEL_LEAK_DATA_DIR/);
    expect(r.stderr).toMatch(/label-leak data fetch/);
  });

  it('runs a real spec end to end: a record on disk, the verdict on screen, exit 1 exactly when it differs from expected', async () => {
    const results = join(tmp, 'results');
    const r = await cli(['run', 'tiny-mnist-fgsm', '--claims', 'test/fixtures-specs/real-kinds', '--backend', 'wasm', '--results', results]);
    const file = join(results, 'fast', 'tiny-mnist-fgsm.json');
    expect(existsSync(file), r.stderr).toBe(true);
    const record = JSON.parse(readFileSync(file, 'utf8'));
    expect(record.outcomes).toHaveLength(3);
    expect(record.backend.name).toBe('wasm');
    expect(r.stdout).toContain(`tiny-mnist-fgsm [fast]: ${record.verdict} (expected ${record.expected})`);
    expect(r.code).toBe(record.verdict === record.expected ? 0 : 1);
  });

  it('one seed of a job matrix (--seed) exits 0 unless the seed fails', async () => {
    const results = join(tmp, 'one-seed');
    const r = await cli(['run', 'tiny-mnist-fgsm', '--claims', 'test/fixtures-specs/real-kinds', '--backend', 'wasm', '--seed', '2', '--results', results]);
    expect(r.code, r.stderr).toBe(0);
    const record = JSON.parse(readFileSync(join(results, 'fast', 'tiny-mnist-fgsm.json'), 'utf8'));
    expect(record.outcomes.map((o: { seed: number }) => o.seed)).toEqual([2]);
  });
});

describe('label-leak run, interrupted', () => {
  const args = ['run', 'interruptible-mnist', '--claims', 'test/fixtures-specs/real-kinds', '--backend', 'wasm', '--checkpoint-every', '10'];

  /** Starts a run and sends SIGINT once training has visibly started. */
  function interrupted(results: string): Promise<{ code: number | null; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn('node', ['bin/label-leak.mjs', ...args, '--results', results], { env: { ...process.env, LABEL_LEAK_DATA_DIR: '' } });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (stderr.includes('started') && !child.killed) setTimeout(() => child.kill('SIGINT'), 1000);
      });
      child.on('close', (code) => resolve({ code, stderr }));
    });
  }

  it('SIGINT writes a checkpoint and exits 130; --resume finishes with the metrics of an uninterrupted run', { timeout: 120_000 }, async () => {
    const results = join(tmp, 'interrupted');
    const first = await interrupted(results);
    expect(first.code, first.stderr).toBe(130);
    expect(first.stderr).toMatch(/SIGINT: writing a checkpoint/);
    const checkpoints = join(results, 'checkpoints', 'fast', 'interruptible-mnist', 'seed-1');
    expect(readdirSync(checkpoints).some((d) => existsSync(join(checkpoints, d, 'checkpoint.json')))).toBe(true);

    const resumed = await cli([...args, '--results', results, '--resume']);
    expect(resumed.code, resumed.stderr).toBe(0);
    const straight = await cli([...args, '--results', join(tmp, 'straight')]);
    expect(straight.code, straight.stderr).toBe(0);
    const metrics = (dir: string) => JSON.parse(readFileSync(join(dir, 'fast', 'interruptible-mnist.json'), 'utf8')).outcomes[0].metrics;
    expect(metrics(results)).toEqual(metrics(join(tmp, 'straight')));
  });
});
