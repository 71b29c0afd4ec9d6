import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runClaim } from '../../src/claims/runner.ts';
import { loadSpecFile } from '../../src/claims/spec-files.ts';
import { duration, renderReport, verdictCell } from '../../src/report/markdown.ts';
import { mergeRecords, readResultDirs, type ClaimResult } from '../../src/report/merge.ts';
import { writeReport } from '../../src/report/write-report.ts';
import { standInRegistry } from '../fixtures-specs/stand-in-kind.ts';
import { testEnvironment } from '../fixtures-records/environment.ts';

const environment = testEnvironment;
// The reason stands for the console's install advice: the report names what ran, not why others did not.
const backend = { name: 'wasm', version: '4.22.0', threads: 2, device: 'CPU (wasm SIMD, 2 threads)', reason: 'auto: skipped tensorflow (install @tensorflow/tfjs-node …)' };

let root: string;
let results: ClaimResult[];
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'll-md-'));
  for (const id of ['stand-in-leak', 'stand-in-no-gap']) {
    const spec = loadSpecFile(`test/fixtures-specs/${id}.json`, standInRegistry);
    await runClaim(spec, { tier: 'fast', backend, resultsDir: join(root, 'results'), resume: false, progress: { start() {}, tick() {}, stop() {} }, environment });
  }
  results = mergeRecords(readResultDirs([join(root, 'results')]));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const render = (rs = results) => renderReport({ results: rs, plots: new Map(), plotDir: 'plots', sources: ['results'], generatedAt: new Date('2026-01-01T00:00:00Z') });

describe('the Markdown report', () => {
  it('has one summary row per claim: verdict, the headline number in points with its interval, the write-up\'s number beside it', () => {
    const md = render();
    const rows = md.split('\n').filter((l) => l.startsWith('| [stand-in'));
    expect(rows).toHaveLength(2);
    const leak = rows.find((r) => r.includes('[stand-in-leak]'))!;
    const r = results.find((c) => c.record.claim.id === 'stand-in-leak')!.record;
    const a = r.assertions[0];
    const points = (x: number) => (x * 100).toFixed(1).replace(/^-/, '−');
    const cells = leak.split(' | ');
    expect(cells[1]).toBe('✓ reproduced');
    // The asserted FGSM − clean accuracy, a fraction in the record, in points: bold mean, then its interval.
    expect(cells[2]).toContain(`**+${points(a.mean!)} points** [${a.ci.low! > 0 ? '+' : ''}${points(a.ci.low!)}, +${points(a.ci.high!)}]`);
    expect(cells[2]).toContain('<sub>FGSM − clean accuracy; claim &gt; 0.5 points · +1 more</sub>');
    // The write-up's 94.81% − 92.12% as the same quantity, then its words.
    expect(cells[3]).toBe('**+2.7 points**<br><sub>clean 92.12%, adversarial 94.81%</sub>');
    // One <br> between a number and what it is, never a list of assertions run together.
    for (const c of rows.flatMap((l) => l.split(' | '))) expect(c.split('<br>').length).toBeLessThanOrEqual(2);
    expect(md).toContain('**2 of 2** verdicts as their specs expect');
    // What ran, once, in the header: never why other backends did not.
    expect(md).toContain('Ran on wasm 4.22.0, CPU (wasm SIMD, 2 threads) (all 2 results).');
    expect(md).not.toContain(backend.reason);
  });

  it('shows per-seed values and the interval in the claim\'s section, in points', () => {
    const md = render();
    const r = results.find((c) => c.record.claim.id === 'stand-in-leak')!.record;
    const a = r.assertions[0];
    const row = md.split('\n').find((l) => l.startsWith(`| ${a.name} |`))!;
    expect(row).toContain(`| +${(a.mean! * 100).toFixed(1)} points [`);
    for (const [i, s] of a.seeds.entries()) expect(row).toContain(`${s}: +${(a.values[i] * 100).toFixed(1)}`);
    expect(row).toContain('<sub>`adv_acc_fgsm − clean_acc`</sub>');
    expect(row.endsWith('| **reproduced** |')).toBe(true);
    expect(md).toContain('- FGSM accuracy (`adv_acc_fgsm`): ours ');
  });

  it('marks a verdict that differs from the expected one, and a partial record', () => {
    const [c] = results;
    const wrong = { ...c.record, expected: 'refuted' as const, verdict: 'reproduced' as const };
    expect(verdictCell(wrong)).toBe('✗ reproduced (expected refuted)');
    const partial = { ...c.record, pendingSeeds: [3], outcomes: c.record.outcomes.slice(0, 2) };
    expect(verdictCell(partial)).toMatch(/partial: 2 of 3 seeds/);
    expect(render([{ ...c, record: wrong }])).toContain('**0 of 1** verdicts as their specs expect');
    expect(render([{ ...c, record: wrong }])).toContain('| ✗ reproduced (expected refuted) |');
  });

  it('flags a run whose params were changed with --set, and names the changes', () => {
    const [c] = results;
    const plain = render([c]);
    expect(plain).not.toContain('rescaled');
    const md = render([{ ...c, record: { ...c.record, overrides: ['training.epochs=5', 'model.depth=20'] } }]);
    expect(md.split('\n').find((l) => l.startsWith('| [stand-in'))).toMatch(/^\| \[stand-in-[a-z-]+\]\(#[a-z-]+\) \[fast, rescaled†\] \|/);
    expect(md).toContain("† Run with parameters changed from the spec's fast tier: `training.epochs=5`, `model.depth=20`.");
  });

  it('lists failed seeds with their error', () => {
    const [c] = results;
    const outcomes = [...c.record.outcomes];
    outcomes[1] = { ...outcomes[1], status: 'error', error: { name: 'NonFiniteError', message: 'non-finite value NaN in training loss' } };
    expect(render([{ ...c, record: { ...c.record, outcomes, verdict: 'error' } }])).toContain('- seed 2: NonFiniteError: non-finite value NaN in training loss');
  });

  it('says in one line per claim which data the seeds read, or that the record does not say', () => {
    const [c] = results;
    const digest = 'ab'.repeat(32);
    const data = [{ dataset: 'cifar10' as const, provenance: 'unofficial-copy' as const, source: { kind: 'data-dir' as const, where: 'cifar-10-batches-bin' }, files: [{ name: 'test_batch.bin', file: 'test_batch.bin', bytes: 3, sha256: digest }], digest }];
    expect(render([{ ...c, record: { ...c.record, data } }])).toContain('Data: cifar10: unofficial copy from the data directory (cifar-10-batches-bin/), 1 file, digest abababababab.\n');
    expect(render([{ ...c, record: { ...c.record, data: undefined } }])).toContain('Data: not recorded (a record made before records named their data).\n');
    expect(render([c])).toContain('Data: none read.\n');
  });

  it('writes report.md with the plots it links to', async () => {
    const out = join(root, 'report');
    const { reportFile, plotFiles } = await writeReport([join(root, 'results')], out);
    const md = readFileSync(reportFile, 'utf8');
    expect(plotFiles.map((f) => f.slice(out.length + 1)).sort()).toEqual([
      'plots/stand-in-leak-fast-accuracy.svg',
      'plots/stand-in-leak-fast-checks.svg',
      'plots/stand-in-leak-fast-loss-vs-eps.svg',
      'plots/stand-in-leak-fast-quantities.svg',
      'plots/stand-in-no-gap-fast-accuracy.svg',
      'plots/stand-in-no-gap-fast-checks.svg',
      'plots/stand-in-no-gap-fast-quantities.svg',
    ]);
    for (const f of plotFiles) expect(md).toContain(`](${f.slice(out.length + 1)})`);
  });

  it('formats durations for people', () => {
    expect(duration(3.24)).toBe('3.2 s');
    expect(duration(59.6)).toBe('1 min 0 s');
    expect(duration(754)).toBe('12 min 34 s');
    expect(duration(3 * 3600 + 5 * 60 + 9)).toBe('3 h 5 min');
  });
});
