import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bigCifarTarball, MIRROR_FILES, startMirror, writeMirrorSums, type Mirror } from '../helpers/loopback-mirror.ts';

const exec = promisify(execFile);
const tmp = mkdtempSync(join(tmpdir(), 'llk-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/**
 * Runs the real CLI as a user would; returns exit code and output instead of throwing.
 * Offline unless a test says otherwise: tests never reach outside the machine.
 */
async function cli(args: string[], env: Record<string, string> = {}) {
  try {
    const r = await exec('node', ['bin/label-leak.mjs', ...args], {
      env: { ...process.env, LABEL_LEAK_DATA_DIR: '', XDG_CACHE_HOME: join(tmp, 'cache'), LABEL_LEAK_OFFLINE: '1', LABEL_LEAK_DATA_MIRROR: '', LABEL_LEAK_DATA_SHA256SUMS: '', ...env },
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

  it('a missing dataset that cannot be fetched exits 2 before training, saying where it looked and how to get it', async () => {
    const r = await cli(['run', 'cifar10-label-leaking', '--backend', 'cpu', '--data-dir', join(tmp, 'empty')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(join(tmp, 'empty'));
    expect(r.stderr).toMatch(/LABEL_LEAK_DATA_DIR/);
    expect(r.stderr).toMatch(/label-leak data fetch/);
    expect(r.stderr).not.toMatch(/^backend:/m);
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
    // The closing summary: the counts, where the records are and what to run next, last on stdout.
    const tail = r.stdout.trim().split('\n').slice(-3);
    expect(tail[0]).toMatch(record.verdict === record.expected ? /^== 1 of 1 as expected · \d/ : /^== 0 of 1 as expected · 1 differs: tiny-mnist-fgsm · \d/);
    expect(tail[1]).toBe(`records: ${results}/fast/`);
    expect(tail[2]).toContain(`\`label-leak report --results ${results}\``);
  });

  it('one seed of a job matrix (--seed) exits 0 unless the seed fails', async () => {
    const results = join(tmp, 'one-seed');
    const r = await cli(['run', 'tiny-mnist-fgsm', '--claims', 'test/fixtures-specs/real-kinds', '--backend', 'wasm', '--seed', '2', '--results', results]);
    expect(r.code, r.stderr).toBe(0);
    const record = JSON.parse(readFileSync(join(results, 'fast', 'tiny-mnist-fgsm.json'), 'utf8'));
    expect(record.outcomes.map((o: { seed: number }) => o.seed)).toEqual([2]);
    expect(r.stdout).toContain('✓ tiny-mnist-fgsm [fast]: seed 2 ran (verdict needs all seeds: `label-leak report`)');
    expect(r.stdout).not.toMatch(/\(expected /);
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
        // Once the training line says "started (N steps)", the loop is running and a SIGINT is
        // answered with a checkpoint; before it (data loading) there is nothing to checkpoint.
        if (/train .*: started \(\d+ steps\)/.test(stderr) && !child.killed) child.kill('SIGINT');
      });
      child.on('close', (code) => resolve({ code, stderr }));
    });
  }

  it('SIGINT writes a checkpoint and exits 130; --resume finishes with the metrics of an uninterrupted run', { timeout: 600_000 }, async () => {
    const results = join(tmp, 'interrupted');
    const first = await interrupted(results);
    expect(first.code, first.stderr).toBe(130);
    expect(first.stderr).toMatch(/SIGINT: writing a checkpoint/);
    // The way on names the --results folder: a resume without it would start over in ./results.
    expect(first.stderr).toContain(`continue with the same --results ${results}: \``);
    expect(first.stderr).toMatch(/--results \S+ --resume`$/m);
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

describe('label-leak run gets missing data itself', () => {
  const specs = 'test/fixtures-specs/fetched-data';
  let mirror: Mirror;
  let tampered: Mirror;
  let sums: string;
  let n = 0;
  const fresh = () => join(tmp, `fresh-${n++}`);

  beforeAll(async () => {
    const dir = join(tmp, 'mirror');
    await import('node:fs').then((fs) => fs.mkdirSync(dir, { recursive: true }));
    const files = { ...MIRROR_FILES, 'cifar10/cifar-10-binary.tar.gz': await bigCifarTarball(dir) };
    mirror = await startMirror({ files });
    tampered = await startMirror({ files, tampered: ['cifar10/cifar-10-binary.tar.gz'] });
    sums = writeMirrorSums(join(dir, 'SHA256SUMS'), files);
  });
  afterAll(async () => {
    await mirror.close();
    await tampered.close();
  });

  const online = (m: Mirror, cache: string) => ({ LABEL_LEAK_OFFLINE: '', LABEL_LEAK_DATA_MIRROR: m.base, LABEL_LEAK_DATA_SHA256SUMS: sums, XDG_CACHE_HOME: cache });

  it('a fresh cache: fetches CIFAR-10 from the mirror, checks it, runs every claim, exits 0', { timeout: 120_000 }, async () => {
    const cache = fresh();
    const r = await cli(['run', '--claims', specs, '--backend', 'wasm', '--results', join(cache, 'results')], online(mirror, cache));
    expect(r.code, r.stderr).toBe(0);
    expect(mirror.requests).toEqual(['cifar10/cifar-10-binary.tar.gz']);
    expect(r.stderr).toMatch(/^downloading cifar-10-binary\.tar\.gz \(\d+\.\d KiB\)$/m);
    expect(r.stderr).toContain(`cifar10: fetched into ${join(cache, 'label-leak', 'cifar-10-batches-bin')}`);
    expect(r.stdout).toContain('tiny-cifar10 [fast]: inconclusive (expected inconclusive)');
    expect(r.stdout).toContain('tiny-mnist [fast]: inconclusive (expected inconclusive)');
    expect(readdirSync(join(cache, 'label-leak'))).toEqual(['cifar-10-batches-bin']);
  });

  it('offline (LABEL_LEAK_OFFLINE=1): no request, runs the MNIST claim, lists the skipped one with its fix, exits 2', { timeout: 120_000 }, async () => {
    const cache = fresh();
    mirror.requests.length = 0;
    const r = await cli(['run', '--claims', specs, '--backend', 'wasm', '--results', join(cache, 'results')], { ...online(mirror, cache), LABEL_LEAK_OFFLINE: '1' });
    expect(r.code, r.stderr).toBe(2);
    expect(mirror.requests).toEqual([]);
    expect(r.stdout).toContain('tiny-mnist [fast]: inconclusive (expected inconclusive)');
    expect(r.stdout).not.toContain('tiny-cifar10 [fast]');
    expect(r.stderr).toContain('skipped 1 claim: their data could not be had');
    expect(r.stderr).toContain(`  - tiny-cifar10: needs cifar10\n  cifar10: dataset cifar10 not found (looked in ${join(cache, 'label-leak', 'cifar-10-batches-bin')}); downloads are off (--offline or LABEL_LEAK_OFFLINE=1)`);
    expect(r.stderr).toContain('      fix: run `label-leak data fetch cifar10` with network access (without --offline / LABEL_LEAK_OFFLINE), or set LABEL_LEAK_DATA_DIR=DIR where DIR holds cifar-10-batches-bin/');
    expect(existsSync(join(cache, 'label-leak'))).toBe(false);
  });

  it('--offline does the same; with nothing left to run it exits 2 before starting a backend', async () => {
    const cache = fresh();
    mirror.requests.length = 0;
    const r = await cli(['run', 'tiny-cifar10', '--claims', specs, '--backend', 'wasm', '--offline'], online(mirror, cache));
    expect(r.code, r.stderr).toBe(2);
    expect(mirror.requests).toEqual([]);
    expect(r.stderr).toContain('  - tiny-cifar10: needs cifar10');
    expect(r.stderr).not.toMatch(/^backend:/m);
  });

  it('a wrong checksum: the download is refused and removed, the claim skipped with the reason, exit 2', async () => {
    const cache = fresh();
    const r = await cli(['run', 'tiny-cifar10', '--claims', specs, '--backend', 'wasm'], online(tampered, cache));
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/cifar10: download failed — http:\/\/127\.0\.0\.1:\d+\/cifar10\/cifar-10-binary\.tar\.gz: SHA-256 mismatch/);
    expect(r.stderr).toContain('      fix: the server sent something other than the official file (removed)');
    // Nothing half-written: no dataset folder, no partial download.
    expect(readdirSync(join(cache, 'label-leak'))).toEqual([]);
  });
});
