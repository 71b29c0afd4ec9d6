import { chmodSync, cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.ts';
import { fullSizeCifarDir } from '../helpers/full-size-cifar.ts';

// Files and folders that are there but cannot be used: named as such, one line, no stack
// trace, never "not found" with advice to download into them.

const tmp = mkdtempSync(join(tmpdir(), 'llk-data-errors-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const FIXTURE_CIFAR = resolve('fixtures/data/cifar-10-batches-bin');

function noStack(r: { stderr: string; stdout: string }) {
  expect(`${r.stdout}${r.stderr}`).not.toMatch(/\n\s+at /);
}

describe('label-leak data verify / load on unusable data', () => {
  it('an unreadable file: verify says UNREADABLE and goes on with the other sets; load exits 2 naming it', async () => {
    const dataDir = join(tmp, `d${n++}`);
    cpSync(FIXTURE_CIFAR, join(dataDir, 'cifar-10-batches-bin'), { recursive: true });
    const file = join(dataDir, 'cifar-10-batches-bin', 'data_batch_1.bin');
    chmodSync(file, 0o000);
    const verify = await cli(['data', 'verify', 'cifar10', 'mnist', '--data-dir', dataDir], { unprivileged: true });
    expect(verify.code, verify.stderr).toBe(1);
    noStack(verify);
    expect(verify.stdout).toMatch(new RegExp(`cifar10: UNREADABLE — ${file}: cannot read: permission denied \\(EACCES\\)`));
    expect(verify.stdout).toMatch(/^mnist: /m);
    const load = await cli(['data', 'load', 'cifar10', '--data-dir', dataDir], { unprivileged: true });
    expect(load.code).toBe(2);
    noStack(load);
    expect(load.stderr).toMatch(new RegExp(`${file}: cannot read: permission denied \\(EACCES\\); make it readable`));
  });

  it('an unreadable folder is reported as unreadable, not as not found', async () => {
    const dataDir = join(tmp, `d${n++}`);
    const dir = join(dataDir, 'cifar-10-batches-bin');
    cpSync(FIXTURE_CIFAR, dir, { recursive: true });
    chmodSync(dir, 0o000);
    const load = await cli(['data', 'load', 'cifar10', '--data-dir', dataDir], { unprivileged: true });
    chmodSync(dir, 0o755);
    expect(load.code).toBe(2);
    noStack(load);
    expect(load.stderr).toMatch(new RegExp(`${dir}: cannot read the folder .*permission denied`));
    expect(load.stderr).not.toMatch(/not found|data fetch/);
  });

  it('a --data-dir that is a regular file is named as such', async () => {
    const file = join(tmp, `f${n++}`);
    writeFileSync(file, 'x');
    const load = await cli(['data', 'load', 'cifar10', '--data-dir', file]);
    expect(load.code).toBe(2);
    noStack(load);
    expect(load.stderr).toMatch(new RegExp(`${file}: the data directory \\(given by --data-dir\\) is a file, not a folder`));
  });

  it('a CIFAR-10 batch cut to 9,000 whole records is refused by data load', async () => {
    const dataDir = fullSizeCifarDir(join(tmp, `d${n++}`), 'data_batch_1.bin', (b, p) => writeFileSync(p, b.subarray(0, 9000 * 3073)));
    const dir = join(dataDir, 'cifar-10-batches-bin');
    const load = await cli(['data', 'load', 'cifar10', '--data-dir', dataDir]);
    expect(load.code, load.stdout).toBe(2);
    expect(load.stderr).toMatch(new RegExp(`${join(dir, 'data_batch_1.bin')}: holds 9000 records .*holds 10000 records`));
  });
});
