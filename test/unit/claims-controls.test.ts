/**
 * Positive controls: a spec with `controlOf` runs a claim's assertions on a setting where the
 * effect is present. It needs only the tiers it was measured at, must name a claim (not a
 * control, not itself) in the same folder, is listed right after its claim, and the report
 * puts its verdict beside the claim's. A tier marked "suite": "claims-only" is checked
 * through its committed record (committedRecordProblems).
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { listing } from '../../src/claims/listing.ts';
import { committedRecordProblems } from '../../src/claims/record-check.ts';
import { contentHash } from '../../src/claims/hash.ts';
import { runClaim } from '../../src/claims/runner.ts';
import { findSpecsIn, loadSpecDir } from '../../src/claims/spec-files.ts';
import { SpecError } from '../../src/claims/errors.ts';
import { listCommand } from '../../src/cli/list-command.ts';
import { renderReport } from '../../src/report/markdown.ts';
import { mergeRecords, readResultDirs } from '../../src/report/merge.ts';
import { recordPath } from '../../src/results/record.ts';
import { inTestSuite } from '../../src/spec/claim.ts';
import { standInRegistry } from '../fixtures-specs/stand-in-kind.ts';
import { testEnvironment } from '../fixtures-records/environment.ts';

const environment = testEnvironment;
const backend = { name: 'wasm', version: '4.22.0', threads: 1, device: 'CPU (wasm SIMD, 1 thread)', reason: 'test' };
const quiet = { start() {}, tick() {}, stop() {} };

/** stand-in-no-gap is refuted at fast (its numbers have a positive gap); its control asserts the gap where it exists. */
function control(over: Record<string, unknown> = {}) {
  return {
    id: 'stand-in-no-gap-control',
    version: 1,
    title: 'The stand-in gap, on a setting where it exists',
    statement: "That's why we don't observe label leaking effect on MNIST",
    source: { writeUp: 'How Does FGSM Leak Label Information?' },
    writeUpFigure: { text: 'qualitative' },
    experiment: 'stand-in',
    tiers: { fast: { seeds: [1, 2, 3], params: { clean: 0.6, gap: 0.05, noise: 0.002 }, expected: 'reproduced', rationale: 'a clear gap', suite: 'claims-only' } },
    assertions: [{ name: 'leaking', metric: 'adv_acc_fgsm', minus: 'clean_acc', op: 'above', threshold: 0, tolerance: 0.002 }],
    controlOf: 'stand-in-no-gap',
    ...over,
  };
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'll-controls-'));
  for (const f of ['stand-in-leak.json', 'stand-in-no-gap.json']) copyFileSync(join('test/fixtures-specs', f), join(dir, f));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
  vi.restoreAllMocks();
});
const put = (spec: Record<string, unknown>) => writeFileSync(join(dir, `${spec.id}.json`), JSON.stringify(spec));
const problemsOf = (load: () => unknown) => {
  try {
    load();
  } catch (e) {
    expect(e).toBeInstanceOf(SpecError);
    return (e as SpecError).problems.map((p) => `${p.pointer}: ${p.reason}`);
  }
  throw new Error('expected the specs to be refused');
};

describe('a control spec', () => {
  it('loads with only a fast tier, and its claims-only tier is out of the test suite', () => {
    put(control());
    const c = loadSpecDir(dir, standInRegistry).find((s) => s.id === 'stand-in-no-gap-control')!;
    expect(c.controlOf).toBe('stand-in-no-gap');
    expect(Object.keys(c.tiers)).toEqual(['fast']);
    expect(inTestSuite(c.tiers.fast)).toBe(false);
    expect(inTestSuite(loadSpecDir(dir, standInRegistry)[0].tiers.fast)).toBe(true);
  });

  it('a claim (no controlOf) still needs its full tier', () => {
    const { controlOf: _, ...notAControl } = control();
    put(notAControl);
    expect(problemsOf(() => loadSpecDir(dir, standInRegistry))).toEqual(['/tiers/full: required field is missing']);
  });

  it.each([
    ['a claim that is not there', 'stand-in-gone', /names "stand-in-gone", which is not a claim in .*it has: stand-in-leak, stand-in-no-gap/],
    ['itself', 'stand-in-no-gap-control', /a spec cannot be its own control/],
  ])('naming %s is refused at /controlOf', (_what, target, reason) => {
    put(control({ controlOf: target }));
    expect(problemsOf(() => loadSpecDir(dir, standInRegistry))).toContainEqual(expect.stringMatching(new RegExp(`^/controlOf: ${reason.source}`)));
  });

  it('naming another control is refused, also when only the control is asked for by id', () => {
    put(control());
    put(control({ id: 'stand-in-no-gap-control-2', controlOf: 'stand-in-no-gap-control' }));
    const expected = expect.stringMatching(/^\/controlOf: "stand-in-no-gap-control" is itself a control \(of "stand-in-no-gap"\)/);
    expect(problemsOf(() => loadSpecDir(dir, standInRegistry))).toContainEqual(expected);
    expect(problemsOf(() => findSpecsIn(['stand-in-no-gap-control-2'], dir, standInRegistry))).toContainEqual(expected);
  });

  it('is listed right after its claim, and the claim lists it', async () => {
    put(control());
    const l = listing(loadSpecDir(dir, standInRegistry));
    expect(l.map((c) => c.id)).toEqual(['stand-in-leak', 'stand-in-no-gap', 'stand-in-no-gap-control']);
    expect(l[1].controls).toEqual(['stand-in-no-gap-control']);
    expect(l[2]).toMatchObject({ controlOf: 'stand-in-no-gap', controls: [] });
    expect(l[2].tiers.fast?.suite).toBe('claims-only');
    const out: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((s: string) => void out.push(s));
    await listCommand(standInRegistry).parseAsync(['--claims', dir], { from: 'user' });
    const lines = out.join('\n').split('\n');
    expect(lines[3]).toMatch(/^ {2}↳ stand-in-no-gap-control\s+stand-in\s+reproduced\*\s+—\s+—\s+positive control of stand-in-no-gap: /);
    expect(lines.at(-1)).toMatch(/^\* claims-only: run by `label-leak run`/);
  });
});

describe('the report and the committed-record check', () => {
  async function run(ids: string[]) {
    const results = join(dir, 'results');
    for (const spec of findSpecsIn(ids, dir, standInRegistry)) {
      await runClaim(spec, { tier: 'fast', backend, resultsDir: results, resume: false, progress: quiet, environment });
    }
    return results;
  }

  it("puts the control's verdict beside the refuted claim's, in the summary and the claim's section", async () => {
    put(control());
    const results = await run(['stand-in-no-gap', 'stand-in-no-gap-control']);
    const md = renderReport({ results: mergeRecords(readResultDirs([results])), plots: new Map(), plotDir: 'plots', sources: [results], generatedAt: new Date(0) });
    const rows = md.split('\n').filter((l) => l.startsWith('| [stand-in-no-gap'));
    // One row: the control is read in its claim's row, not a row of its own.
    expect(rows).toHaveLength(1);
    const cells = rows[0].split(' | ');
    expect(cells[1]).toBe('✓ refuted<br><sub>reproduced in its control: the measurement sees the effect</sub>');
    expect(cells[4]).toMatch(/^\[✓ reproduced\]\(#stand-in-no-gap-control-fast\) \*\*\+\d+\.\d points\*\*/);
    expect(md).toContain(
      "Read with its positive control [stand-in-no-gap-control](#stand-in-no-gap-control-fast): refuted under the write-up's protocol at this scale; reproduced in its control (so the measurement can see the effect).",
    );
    expect(md).toContain('A positive control of [stand-in-no-gap](#stand-in-no-gap-fast)');
  });

  it('accepts a current record and names each way a record can stop standing for its spec', async () => {
    put(control());
    const results = await run(['stand-in-no-gap-control']);
    const file = recordPath(results, 'fast', 'stand-in-no-gap-control');
    const spec = findSpecsIn(['stand-in-no-gap-control'], dir, standInRegistry)[0];
    expect(committedRecordProblems(file, spec, 'fast', spec.tiers.fast)).toEqual([]);
    const tier = spec.tiers.fast;
    expect(committedRecordProblems(file, { ...spec, version: 2 }, 'fast', tier)).toEqual(['record is of spec version 1, the spec is at 2']);
    expect(committedRecordProblems(file, spec, 'fast', { ...tier, params: { ...tier.params, gap: 0.06 } })).toEqual([expect.stringMatching(/params hash .* is not the spec's/)]);
    expect(committedRecordProblems(file, spec, 'fast', { ...tier, seeds: [1, 2, 3, 4] })).toEqual(['record lacks seed 4']);
    expect(committedRecordProblems(file, spec, 'fast', { ...tier, expected: 'refuted' })).toEqual(['verdict reproduced, the spec expects refuted']);
    // A precondition added to the spec after its record was made: the record never checked it.
    const learned = { name: 'the model learned', metric: 'clean_acc', op: 'above' as const, threshold: 0.15 };
    expect(committedRecordProblems(file, { ...spec, preconditions: [learned] }, 'fast', tier)).toEqual([
      'record was made with 0 precondition(s), the spec asks 1 other or more: the spec changed without a version bump and new records',
    ]);
    expect(committedRecordProblems(file, { ...spec, assertions: [{ ...spec.assertions[0], threshold: 0.01 }] }, 'fast', tier)).toEqual([
      'record was made with other assertions than the spec asks: the spec changed without a version bump and new records',
    ]);
    const record = JSON.parse(readFileSync(file, 'utf8'));
    record.verdict = 'refuted';
    writeFileSync(file, JSON.stringify(record));
    expect(committedRecordProblems(file, spec, 'fast', { ...tier, expected: 'refuted' })).toEqual(['its per-seed metrics give reproduced, the record says refuted']);
    expect(committedRecordProblems(join(dir, 'none.json'), spec, 'fast', tier)).toEqual([expect.stringMatching(/^no committed record at/)]);
  });

  it('names a record of another claim, made with --set, lacking several seeds, or an expected error that is not one', async () => {
    put(control());
    const results = await run(['stand-in-no-gap-control']);
    const file = recordPath(results, 'fast', 'stand-in-no-gap-control');
    const spec = findSpecsIn(['stand-in-no-gap-control'], dir, standInRegistry)[0];
    const tier = spec.tiers.fast;
    expect(committedRecordProblems(file, { ...spec, id: 'another' }, 'fast', tier)).toEqual(['record is of claim stand-in-no-gap-control, not another']);
    expect(committedRecordProblems(file, spec, 'fast', { ...tier, seeds: [...tier.seeds, 98, 99] })).toEqual(['record lacks seeds 98, 99']);
    const hash = contentHash({ ...tier.params, gap: 0.06 });
    const recorded = JSON.parse(readFileSync(file, 'utf8'));
    expect(committedRecordProblems(file, spec, 'fast', { ...tier, params: { ...tier.params, gap: 0.06 } })).toEqual([
      `record's params hash ${recorded.paramsHash} is not the spec's (${hash}): params changed without a version bump and new records`,
    ]);
    expect(committedRecordProblems(join(dir, 'none.json'), spec, 'fast', tier)).toEqual([
      `no committed record at ${join(dir, 'none.json')}: make it with \`label-leak run stand-in-no-gap-control --results docs/results/records\``,
    ]);
    writeFileSync(file, JSON.stringify({ ...recorded, overrides: ['gap=0.05', 'noise=0.002'] }));
    expect(committedRecordProblems(file, spec, 'fast', tier)).toEqual(["record was made with --set gap=0.05, noise=0.002, not the spec's params"]);
    // An errored seed gives `error`, which the spec may expect only of a run that finished every seed.
    const errored = { ...recorded, outcomes: recorded.outcomes.map((o: Record<string, unknown>, i: number) => (i === 0 ? { ...o, status: 'error', error: { name: 'Boom', message: 'x' } } : o)), verdict: 'error' };
    writeFileSync(file, JSON.stringify(errored));
    expect(committedRecordProblems(file, spec, 'fast', { ...tier, expected: 'error' })).toEqual(['verdict error, the spec expects error']);
  });
});
