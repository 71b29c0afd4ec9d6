import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { readRecord } from '../../src/results/record.ts';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.ts';

// Results that cannot be written: one line naming the path and what the errno means, exit 2,
// no temporary file left, and the failure recorded where that can still be done. A full and
// a read-only file system are real ones: a small tmpfs mounted in a private mount namespace
// (unshare -m), which vanishes with the command.

const exec = promisify(execFile);
const tmp = mkdtempSync(join(tmpdir(), 'llk-write-errors-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;

const RUN = ['run', 'tiny-mnist-fgsm', '--claims', 'test/fixtures-specs/real-kinds', '--backend', 'wasm', '--seed', '1'];

/** Runs the CLI with a tmpfs of `size` mounted at `mount` (read-only if asked); then lists what the tmpfs held. */
async function onTmpfs(mount: string, size: string, readOnly: boolean, args: string[]) {
  mkdirSync(mount, { recursive: true });
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const script = [
    `mount -t tmpfs -o size=${size} tmpfs ${q(mount)}`,
    readOnly ? `mount -o remount,ro ${q(mount)}` : 'true',
    `node bin/label-leak.mjs ${args.map(q).join(' ')}; echo "exit=$?" >&2`,
    `find ${q(mount)} -type f >&2`,
    `cp -r ${q(mount)} ${q(`${mount}.kept`)}`,
  ].join(' && ');
  const r = await exec('unshare', ['-m', 'sh', '-c', script], { env: { ...process.env, LABEL_LEAK_DATA_DIR: '' }, maxBuffer: 64 << 20 }).catch((e) => e);
  const stderr: string = r.stderr;
  const code = Number(/exit=(\d+)/.exec(stderr)?.[1]);
  return { code, stdout: r.stdout as string, stderr: stderr.slice(0, stderr.indexOf('exit=')), left: stderr.slice(stderr.indexOf('exit=')).split('\n').slice(1).filter(Boolean) };
}

const oneLine = (stderr: string) => stderr.trim().split('\n').filter((l) => l.startsWith('label-leak:'));

describe('results that cannot be written', () => {
  it('a read-only results file system: one line with the path and "read-only file system", exit 2, before the backend starts', async () => {
    const mount = join(tmp, `ro${n++}`);
    const r = await onTmpfs(mount, '1m', true, [...RUN, '--results', join(mount, 'results')]);
    expect(r.code, r.stderr).toBe(2);
    expect(oneLine(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(new RegExp(`label-leak: cannot write ${join(mount, 'results')}.*read-only file system \\(EROFS\\)`));
    expect(r.stderr).not.toMatch(/^backend:/m);
    expect(r.stderr.length).toBeLessThan(1000);
  });

  it('--results naming a regular file says so', async () => {
    const file = join(tmp, `file${n++}`);
    writeFileSync(file, 'x');
    const r = await cli([...RUN, '--results', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`label-leak: cannot write ${file}/.*: ${file} is a file, not a folder`));
    expect(r.stderr.length).toBeLessThan(1000);
  });

  it('a disk that fills up during a checkpoint: exit 2 naming the file and ENOSPC, no temp file left, the failure in the record', { timeout: 300_000 }, async () => {
    const mount = join(tmp, `full${n++}`);
    // Room for the record (a few kB), not for the MLP's checkpoint (≈100 kB of weights and momenta).
    const r = await onTmpfs(mount, '48k', false, [...RUN, '--results', join(mount, 'results'), '--checkpoint-every', '2', '--json']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/label-leak: cannot write .*checkpoint\.bin: no space left on device \(ENOSPC\)/);
    expect(r.stderr.length).toBeLessThan(2000);
    expect(r.left.filter((f) => /\.tmp/.test(basename(f)))).toEqual([]);
    expect(r.left).toContain(join(mount, 'results', 'fast', 'tiny-mnist-fgsm.json'));
    const record = readRecord(join(`${mount}.kept`, 'results', 'fast', 'tiny-mnist-fgsm.json'));
    expect(record.outcomes[0]).toMatchObject({ seed: 1, status: 'error', error: { name: 'WriteError', message: expect.stringMatching(/no space left on device/) } });
  });

  it('report --out on a read-only file system or a file: one line, exit 2', async () => {
    const records = join(tmp, 'records');
    mkdirSync(join(records, 'fast'), { recursive: true });
    for (const f of readdirSync('docs/results/records/fast').filter((f) => f.endsWith('.json')).slice(0, 1)) writeFileSync(join(records, 'fast', f), readFileSync(join('docs/results/records/fast', f)));
    const mount = join(tmp, `ro${n++}`);
    const r = await onTmpfs(mount, '1m', true, ['report', '--results', records, '--out', join(mount, 'report')]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/label-leak report: cannot write .*read-only file system \(EROFS\)/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const file = join(tmp, `file${n++}`);
    writeFileSync(file, 'x');
    const f = await cli(['report', '--results', records, '--out', file]);
    expect(f.code).toBe(2);
    expect(f.stderr).toMatch(new RegExp(`label-leak report: cannot write ${file}/.*${file} is a file, not a folder`));
  });

  it('audit --out on a disk that fills up during the audit: the report is printed, then one line says it was not saved, exit 2', async () => {
    const { startBackend } = await import('../../src/backend/select.ts');
    const { saveClassifier } = await import('../../src/models/export.ts');
    const { buildClassifier } = await import('../../src/models/spec.ts');
    const { makeRng } = await import('../../src/util/rng.ts');
    await startBackend('cpu');
    const input = { height: 28, width: 28, channels: 1 };
    const spec = { kind: 'mlp' as const, hidden: [8] };
    const m = buildClassifier(spec, input, 10, makeRng(1, 'model'));
    const model = join(tmp, `model${n++}`);
    await saveClassifier(m, spec, input, model, { labelLeak: { dataset: 'mnist' } });
    m.dispose();
    // One page: room for the probe written before the audit, not for the audit's JSON.
    const mount = join(tmp, `full${n++}`);
    const r = await onTmpfs(mount, '4k', false, ['audit', model, '--backend', 'wasm', '--seeds', '1,2,3', '--test-images', '20', '--probe-images', '0', '--out', join(mount, 'audit.json')]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`label-leak: cannot write ${join(mount, 'audit.json')}: no space left on device \\(ENOSPC\\).*; the audit above was printed but not saved`));
    expect(r.stdout).toContain(`# label-leak audit: ${join(model, 'model.json')}`);
    expect(r.left.filter((f) => /\.tmp/.test(basename(f)))).toEqual([]);
  });
});

