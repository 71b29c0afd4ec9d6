import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { DiffError, diffResults, renderDiff } from '../../src/report/diff.ts';
import { mergeRecords, readResultDirs } from '../../src/report/merge.ts';
import type { ResultRecord } from '../../src/results/record-types.ts';

const exec = promisify(execFile);
const tmp = mkdtempSync(join(tmpdir(), 'llk-diff-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const committed = (id: string): ResultRecord => JSON.parse(readFileSync(join('docs/results/records/fast', `${id}.json`), 'utf8'));

/** A results folder holding the given records. */
function folder(name: string, records: ResultRecord[]): string {
  const dir = join(tmp, name);
  mkdirSync(join(dir, 'fast'), { recursive: true });
  for (const r of records) writeFileSync(join(dir, 'fast', `${r.claim.id}.json`), JSON.stringify(r));
  return dir;
}
const read = (dir: string) => mergeRecords(readResultDirs([dir]));

/** mnist-no-leaking with FGSM accuracy raised by `by` in every seed: enough and the claim (no leaking) is refuted. */
function shifted(by: number): ResultRecord {
  const r = committed('mnist-no-leaking');
  for (const o of r.outcomes) o.metrics.adv_acc_fgsm += by;
  return r;
}

describe('diff of two results folders', () => {
  const a = folder('a', [committed('mnist-no-leaking'), committed('loss-peak-then-drop')]);

  it('the same records on both sides: nothing moved, every change 0', () => {
    const d = diffResults(read(a), read(a));
    expect(d.claims.map((c) => [c.id, c.moved])).toEqual([['loss-peak-then-drop', false], ['mnist-no-leaking', false]]);
    expect(d.claims.flatMap((c) => c.rows.map((r) => r.change))).toSatisfy((xs: (number | null)[]) => xs.every((x) => x === 0));
  });

  it('a run whose FGSM accuracy rose past clean: the verdict moves, the changes are B − A, the intervals are apart', () => {
    const b = folder('b', [shifted(0.1), committed('gradient-sign-separability')]);
    const d = diffResults(read(a), read(b));
    expect(d.onlyA).toEqual(['fast/loss-peak-then-drop']);
    expect(d.onlyB).toEqual(['fast/gradient-sign-separability']);
    const [c] = d.claims;
    expect(c.verdicts).toEqual(['reproduced', 'refuted']);
    expect(c.moved).toBe(true);
    const byLabel = Object.fromEntries(c.rows.map((r) => [r.label, r]));
    expect(byLabel['adv_acc_fgsm − clean_acc'].asserted).toBe(true);
    expect(byLabel['adv_acc_fgsm − clean_acc'].change).toBeCloseTo(0.1, 10);
    expect(byLabel['adv_acc_fgsm − clean_acc'].apart).toBe(true);
    expect(byLabel.clean_acc.change).toBe(0);
    expect(byLabel.clean_acc.apart).toBe(false);
    const text = renderDiff(d, { dir: a, records: [] }, { dir: b, records: [] });
    expect(text).toContain('| mnist-no-leaking | fast | reproduced | refuted | **moved** (reproduced → refuted) |');
    expect(text).toMatch(/\| ✱ adv_acc_fgsm − clean_acc \| -0\.04317 ± 0\.01225 \(n=3\) \| 0\.05683 ± 0\.01225 \(n=3\) \| \+0\.1 \| yes \|/);
    expect(text).toContain('Only in A: fast/loss-peak-then-drop.');
  });

  it('records of another spec version are refused, naming both files, unless forced', () => {
    const v2 = committed('mnist-no-leaking');
    v2.claim.version = 2;
    const b = folder('v2', [v2]);
    expect(() => diffResults(read(a), read(b))).toThrow(DiffError);
    expect(() => diffResults(read(a), read(b))).toThrow(new RegExp(`spec version 1 \\(${join(a, 'fast', 'mnist-no-leaking.json')}\\) vs 2 \\(${join(b, 'fast', 'mnist-no-leaking.json')}\\).*--force`));
    const forced = diffResults(read(a), read(b), { force: true });
    expect(forced.claims[0].notes[0]).toMatch(/spec version 1 in A, 2 in B/);
  });
});

describe('label-leak diff (the CLI)', () => {
  const cli = async (args: string[]) => {
    try {
      const r = await exec('node', ['bin/label-leak.mjs', 'diff', ...args]);
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (e) {
      return e as { code: number; stdout: string; stderr: string };
    }
  };

  it('prints the side-by-side table and exits 0; another spec version exits 2 unless --force', async () => {
    const b = folder('cli-b', [shifted(0.1)]);
    const ok = await cli(['docs/results/records', b]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('| mnist-no-leaking | fast | reproduced | refuted | **moved** (reproduced → refuted) |');
    const v2 = committed('mnist-no-leaking');
    v2.claim.version = 2;
    const c = folder('cli-v2', [v2]);
    const refused = await cli(['docs/results/records', c]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/different spec versions.*give --force/);
    const forced = await cli(['docs/results/records', c, '--force', '--asserted']);
    expect(forced.code).toBe(0);
    expect(forced.stdout).toContain('⚠ spec version 1 in A, 2 in B');
    expect(forced.stdout).not.toContain('| clean_acc |');
  });
});
