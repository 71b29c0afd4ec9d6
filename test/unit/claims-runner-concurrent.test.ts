import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readRecord, recordPath } from '../../src/results/record.ts';
import { cli } from '../helpers/cli.ts';

// Several real processes writing one results folder at once, as a self-hosted runner with
// two jobs, or `run --jobs`, does. Nothing finished may be lost, nothing may crash.

const tmp = mkdtempSync(join(tmpdir(), 'llk-concurrent-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function exited(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { env: { ...process.env, LABEL_LEAK_DATA_DIR: '' } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

/** Every file under dir, relative. */
function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(dir.length + 1));
}

describe('one results folder, several writers', () => {
  it('six processes merging seeds into one record at once keep every seed', { timeout: 300_000 }, async () => {
    const results = join(tmp, 'stand-in');
    const startAt = Date.now() + 8000; // all started by then, so their writes interleave
    const groups = [0, 1, 2, 3, 4, 5].map((p) => [1, 2, 3, 4].map((k) => 10 * p + k).join(','));
    const runs = await Promise.all(groups.map((seeds) => exited(['--import', 'tsx', 'test/helpers/run-stand-in.ts', results, seeds, String(startAt)])));
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    const record = readRecord(recordPath(results, 'fast', 'stand-in-leak'));
    const all = groups.flatMap((g) => g.split(',').map(Number)).sort((a, b) => a - b);
    expect(record.outcomes.map((o) => o.seed)).toEqual(all);
    expect(record.pendingSeeds).toEqual([]);
    expect(record.assertions[0].n).toBe(all.length);
    // No temporary file and no lock left behind.
    expect(files(results).filter((f) => /\.tmp$|\.lock/.test(f))).toEqual([]);
  });

  it('the CLI: seeds 1 and 2 started together both land; the same seed twice neither crashes nor duplicates', { timeout: 600_000 }, async () => {
    const results = join(tmp, 'cli');
    const args = ['run', 'tiny-mnist-fgsm', '--claims', 'test/fixtures-specs/real-kinds', '--backend', 'wasm', '--results', results, '--checkpoint-every', '3'];
    const [a, b, c] = await Promise.all([cli([...args, '--seed', '1']), cli([...args, '--seed', '1']), cli([...args, '--seed', '2'])]);
    for (const r of [a, b, c]) expect(r.code, r.stderr).toBe(0);
    const record = readRecord(recordPath(results, 'fast', 'tiny-mnist-fgsm'));
    expect(record.outcomes.map((o) => [o.seed, o.status])).toEqual([[1, 'ok'], [2, 'ok']]);
    expect(files(results).filter((f) => /\.tmp$|\.lock|checkpoint/.test(f))).toEqual([]);
  });
});
