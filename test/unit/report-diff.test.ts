import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DiffError, diffResults, renderDiff } from '../../src/report/diff.ts';
import { mergeRecords, readResultDirs } from '../../src/report/merge.ts';
import type { ResultRecord } from '../../src/results/record-types.ts';
import { committedRecord, fgsmRaised, recordFolder } from '../helpers/record-folders.ts';

const tmp = mkdtempSync(join(tmpdir(), 'llk-diff-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const committed = committedRecord;
const folder = (name: string, records: ResultRecord[]) => recordFolder(tmp, name, records);
const shifted = fgsmRaised;
const read = (dir: string) => mergeRecords(readResultDirs([dir]));

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

  it('one spec version asserting something else, or expecting another verdict, is said (issue 26, item 14)', () => {
    const other = committed('mnist-no-leaking');
    other.claim.assertions = other.claim.assertions.map((x) => ({ ...x, threshold: (x.threshold ?? 0) + 0.05 }));
    other.expected = 'refuted';
    const b = folder('same-version-other-claim', [other]);
    const [c] = diffResults(read(a), read(b)).claims;
    expect(c.versions).toEqual([1, 1]);
    expect(c.notes).toContainEqual(expect.stringMatching(/^assertions differ under one spec version 1: A asserts .+; B asserts .+ — the two records do not check the same claim$/));
    expect(c.notes).toContainEqual('expected verdict differs under one spec version 1: A expects reproduced, B expects refuted');
    const text = renderDiff(diffResults(read(a), read(b)), { dir: a, records: [] }, { dir: b, records: [] });
    expect(text).toContain('⚠ expected verdict differs');
    // The same records on both sides: no such note.
    expect(diffResults(read(a), read(a)).claims.flatMap((x) => x.notes)).toEqual([]);
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
