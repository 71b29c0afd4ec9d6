import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend } from '../../src/backend/select.ts';
import { saveClassifier } from '../../src/models/export.ts';
import { buildClassifier } from '../../src/models/spec.ts';
import { makeRng } from '../../src/util/rng.ts';
import { cli } from '../helpers/cli.ts';
import { startMirror, writeMirrorSums, type Mirror } from '../helpers/loopback-mirror.ts';
import { recordFolder, fgsmRaised } from '../helpers/record-folders.ts';

// Files that are not what they claim to be, and names that are not plain text: each is named
// in one line (exit 2), never read blindly (a FIFO would block the command forever) and never
// printed raw (an escape in a file name would reach the terminal).

const tmp = mkdtempSync(join(tmpdir(), 'llk-untrusted-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const fresh = (name: string) => join(tmp, `${name}-${n++}`);

/** A hang is the defect these cases guard against: past this, the command is killed and the test fails. */
const BOUND = { timeoutMs: 60_000 };
const SPEC = 'test/fixtures-specs/real-kinds/tiny-mnist-fgsm.json';

const mkfifo = (path: string) => execFileSync('mkfifo', [path]);

function refused(r: { code: number; stdout: string; stderr: string }, ...needles: (string | RegExp)[]) {
  expect(r.code, `${r.stdout}${r.stderr}`).toBe(2);
  for (const s of needles) expect(r.stderr).toMatch(s);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe('a FIFO where a spec or a record is expected', () => {
  it('list and run name the spec as a FIFO instead of blocking on it', async () => {
    const claims = fresh('claims');
    mkdirSync(claims);
    copyFileSync(SPEC, join(claims, 'tiny-mnist-fgsm.json'));
    mkfifo(join(claims, 'piped.json'));
    const list = await cli(['list', '--claims', claims], BOUND);
    refused(list, `${join(claims, 'piped.json')}: (document): cannot read: is a FIFO (named pipe), not a regular file`);
    const run = await cli(['run', 'piped', '--claims', claims, '--backend', 'wasm', '--results', fresh('r')], BOUND);
    refused(run, /piped\.json: \(document\): cannot read: is a FIFO/);
    expect(run.stderr).not.toMatch(/^backend:/m);
  });

  it('report and diff name the record as a FIFO instead of blocking on it', async () => {
    const results = recordFolder(tmp, `fifo-${n++}`, [fgsmRaised(0)]);
    const fifo = join(results, 'fast', 'piped.json');
    mkfifo(fifo);
    const report = await cli(['report', '--results', results, '--out', fresh('report')], BOUND);
    refused(report, `${fifo}: cannot read: is a FIFO (named pipe), not a regular file`);
    const diff = await cli(['diff', 'docs/results/records', results], BOUND);
    refused(diff, `${fifo}: cannot read: is a FIFO`);
  });
});

describe('a spec that starts with a UTF-8 byte-order mark', () => {
  it('loads as the same spec without it', async () => {
    const claims = fresh('bom');
    mkdirSync(claims);
    writeFileSync(join(claims, 'tiny-mnist-fgsm.json'), Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), readFileSync(SPEC)]));
    const r = await cli(['list', '--claims', claims], BOUND);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^tiny-mnist-fgsm\s/m);
  });
});

describe('file names with control characters', () => {
  it('are printed escaped: an ANSI escape or a newline in a spec name never reaches the terminal raw', async () => {
    const claims = fresh('names');
    mkdirSync(claims);
    const evil = '\u001b[31mred\nforged line';
    writeFileSync(join(claims, `${evil}.json`), '{');
    const r = await cli(['list', '--claims', claims], BOUND);
    expect(r.code).toBe(2);
    expect(r.stderr).not.toContain('\u001b');
    expect(r.stderr).toContain('\\x1b[31mred\\nforged line.json: (document): not valid JSON');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('are printed escaped in the top-level error of run', async () => {
    const claims = fresh('names-run');
    mkdirSync(claims);
    const evil = 'x\u001b]0;title\u0007y';
    writeFileSync(join(claims, `${evil}.json`), '{');
    const r = await cli(['run', '--claims', claims, '--backend', 'wasm', '--results', fresh('r')], BOUND);
    refused(r, 'x\\x1b]0;title\\x07y.json');
    expect(r.stderr).not.toMatch(/[\u0007\u001b]/);
  });
});

describe('LABEL_LEAK_OFFLINE', () => {
  it('a value that is not yes/no is refused naming the variable, before anything runs', async () => {
    const r = await cli(['run', 'tiny-mnist-fgsm', '--claims', 'test/fixtures-specs/real-kinds', '--backend', 'wasm', '--results', fresh('r')], {
      ...BOUND,
      env: { LABEL_LEAK_OFFLINE: 'maybe' },
    });
    refused(r, /LABEL_LEAK_OFFLINE: "maybe" is not a yes\/no value; set it to 1 .* or 0 /);
    expect(r.stderr).not.toMatch(/^backend:/m);
  });
});

/** An untrained MNIST MLP saved as `audit` reads it, with the metadata that names its data. */
async function savedMnistModel(dir: string): Promise<string> {
  const input = { height: 28, width: 28, channels: 1 };
  const spec = { kind: 'mlp' as const, hidden: [8] };
  const m = buildClassifier(spec, input, 10, makeRng(1, 'model'));
  try {
    await saveClassifier(m, spec, input, dir, { labelLeak: { dataset: 'mnist' } });
  } finally {
    m.dispose();
  }
  return dir;
}

describe('output folders are tried before the work', () => {
  let model: string;
  beforeAll(async () => {
    await startBackend('cpu');
    model = await savedMnistModel(fresh('model'));
  });

  it('audit --out under a file exits 2 before the model is audited', async () => {
    const file = fresh('file');
    writeFileSync(file, 'x');
    const out = join(file, 'audit.json');
    const r = await cli(['audit', model, '--backend', 'wasm', '--seeds', '1', '--test-images', '20', '--probe-images', '0', '--out', out], BOUND);
    refused(r, `cannot write ${file}/ (the --out folder): ${file} is a file, not a folder; name a folder you can write to`);
    expect(r.stderr).not.toMatch(/seed 1/);
    expect(r.stdout).toBe('');
  });

  it('audit --out naming a folder exits 2 asking for a file', async () => {
    const dir = fresh('out-dir');
    mkdirSync(dir);
    const r = await cli(['audit', model, '--backend', 'wasm', '--seeds', '1', '--test-images', '20', '--probe-images', '0', '--out', dir], BOUND);
    refused(r, `cannot write ${dir} (--out): it is a folder; name a file, e.g. ${join(dir, 'audit.json')}`);
    expect(r.stderr).not.toMatch(/seed 1/);
  });

  it('run --save-models under a file exits 2 before the backend starts', async () => {
    const file = fresh('file');
    writeFileSync(file, 'x');
    const r = await cli(['run', 'tiny-mnist-fgsm', '--claims', 'test/fixtures-specs/real-kinds', '--backend', 'wasm', '--seed', '1', '--results', fresh('r'), '--save-models', join(file, 'models')], BOUND);
    refused(r, `cannot write ${join(file, 'models', 'fast')}/ (the --save-models folder): ${file} is a file, not a folder`);
    expect(r.stderr).not.toMatch(/^backend:/m);
  });

  it('report --out in a folder without write permission exits 2 before any record is read', async () => {
    const locked = fresh('locked');
    mkdirSync(locked, { mode: 0o555 });
    // A FIFO record would block a report that read records first: the check comes before.
    const results = recordFolder(tmp, `rep-${n++}`, [fgsmRaised(0)]);
    mkfifo(join(results, 'fast', 'piped.json'));
    const r = await cli(['report', '--results', results, '--out', join(locked, 'report')], { ...BOUND, unprivileged: true });
    refused(r, `label-leak report: cannot write ${join(locked, 'report')}/ (the --out folder): permission denied (EACCES) at ${locked}`);
  });
});

describe('data folders that cannot be used', () => {
  let mirror: Mirror;
  let online: Record<string, string>;
  beforeAll(async () => {
    mirror = await startMirror();
    // Downloads on, from the loopback mirror only; its fixture archives are vouched for by this list.
    online = { LABEL_LEAK_OFFLINE: '0', LABEL_LEAK_DATA_MIRROR: mirror.base, LABEL_LEAK_DATA_SHA256SUMS: writeMirrorSums(fresh('sums')) };
  });
  afterAll(() => mirror.close());
  const FETCHED = ['--claims', 'test/fixtures-specs/fetched-data', '--backend', 'wasm'];

  /** A data directory we may read but not write (mode 0555): an unprivileged process cannot download into it. */
  const readOnlyDir = () => {
    const dir = fresh('ro-data');
    mkdirSync(dir, { mode: 0o555 });
    return dir;
  };

  it('run: a download into an unwritable data directory skips the claim with the cause and a fix about the folder, exit 2, no stack trace', async () => {
    const dataDir = readOnlyDir();
    const r = await cli(['run', 'tiny-cifar10', ...FETCHED, '--data-dir', dataDir, '--results', fresh('r')], { ...BOUND, env: online, unprivileged: true });
    refused(r, `cifar10: download failed — ${dataDir}: cannot write: permission denied (EACCES)`, `      fix: make ${dataDir} writable, or point --data-dir (or LABEL_LEAK_DATA_DIR) at a folder you can write to`);
    expect(r.stderr).not.toMatch(/ENOENT|check the network/);
    expect(r.stderr).not.toMatch(/^backend:/m);
    expect(mirror.requests).toEqual([]);
  });

  it('data fetch: the same in one line with the fix, exit 2', async () => {
    const dataDir = readOnlyDir();
    const r = await cli(['data', 'fetch', 'cifar10', '--data-dir', dataDir], { ...BOUND, env: online, unprivileged: true });
    refused(r, `cifar10: fetch failed — ${dataDir}: cannot write: permission denied (EACCES); to fix: make ${dataDir} writable`);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('a data directory that may not be searched is named as such, not as "not found" with advice to download into it', async () => {
    const dataDir = fresh('no-search');
    cpSync('fixtures/data/cifar-10-batches-bin', join(dataDir, 'cifar-10-batches-bin'), { recursive: true });
    chmodSync(dataDir, 0o644);
    const load = await cli(['data', 'load', 'cifar10', '--data-dir', dataDir], { ...BOUND, unprivileged: true });
    const run = await cli(['run', 'tiny-cifar10', ...FETCHED, '--data-dir', dataDir, '--offline', '--results', fresh('r')], { ...BOUND, unprivileged: true });
    chmodSync(dataDir, 0o755);
    const message = `${join(dataDir, 'cifar-10-batches-bin')}: cannot be looked into (data directory, given by --data-dir): the folder ${dataDir} may not be searched (permission denied, EACCES); make it readable (e.g. chmod a+rx ${dataDir})`;
    for (const r of [load, run]) {
      refused(r, message);
      expect(r.stderr).not.toMatch(/not found|data fetch/);
    }
  });
});
