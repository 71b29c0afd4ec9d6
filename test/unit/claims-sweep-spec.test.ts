import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SpecError } from '../../src/claims/errors.ts';
import { runClaim } from '../../src/claims/runner.ts';
import { loadSpecFile } from '../../src/claims/spec-files.ts';
import { sweepKind } from '../../src/experiments/sweep.ts';
import { plotsFor } from '../../src/report/plots.ts';
import { standIn } from '../fixtures-specs/stand-in-kind.ts';

/** The stand-in kind and a sweep over it: the claims engine end to end without tfjs. */
const registry = { [standIn.name]: standIn, sweep: sweepKind([standIn]) };
const FIXTURE = 'test/fixtures-specs/sweep/stand-in-sweep.json';
const good = () => JSON.parse(readFileSync(FIXTURE, 'utf8')) as Record<string, any>;

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'll-sweep-'));
  dirs.push(d);
  return d;
}
function problemsOf(edit: (s: Record<string, any>) => void) {
  const json = good();
  edit(json);
  const file = join(tmp(), 'stand-in-sweep.json');
  writeFileSync(file, JSON.stringify(json));
  try {
    loadSpecFile(file, registry);
  } catch (e) {
    expect(e).toBeInstanceOf(SpecError);
    return (e as SpecError).problems.map((p) => ({ file: p.file === file, pointer: p.pointer, reason: p.reason }));
  }
  throw new Error('expected the spec to be rejected');
}

describe('a sweep spec is checked like any other, with the JSON pointer of what is wrong', () => {
  it('a precondition over cells names an unknown axis or a metric the cells lack under /preconditions, once for each tier', () => {
    const problems = problemsOf((s) => {
      s.preconditions = [
        { name: 'p', inEveryCellWith: { nope: '>= 1' }, metric: 'clean_acc', op: 'above', threshold: 0 },
        { name: 'q', inEveryCellWith: { gap: '>= 0.05' }, metric: 'nope_acc', op: 'above', threshold: 0 },
      ];
    });
    expect(problems).toEqual([
      { file: true, pointer: '/preconditions/0/inEveryCellWith/nope', reason: expect.stringMatching(/^no axis "nope"; the axes are: .*gap \(tier fast\)$/) },
      { file: true, pointer: '/preconditions/0/inEveryCellWith/nope', reason: expect.stringMatching(/^no axis "nope"; the axes are: gap \(tier full\)$/) },
      { file: true, pointer: '/preconditions/1/metric', reason: expect.stringMatching(/^"nope_acc" is not a per-cell metric; .* \(tier fast\)$/) },
      { file: true, pointer: '/preconditions/1/metric', reason: expect.stringMatching(/^"nope_acc" is not a per-cell metric; .* \(tier full\)$/) },
    ]);
  });

  it('the fixture loads', () => {
    expect(loadSpecFile(FIXTURE, registry).kind.name).toBe('sweep');
  });

  it.each([
    ['an axis that names no cell metric', (s: any) => (s.assertions[0].inEveryCellWith = { epsilon: 1 }), '/assertions/0/inEveryCellWith/epsilon', /no axis "epsilon"; the axes are: protocol, gap/],
    ['conditions no cell meets', (s: any) => (s.assertions[0].inEveryCellWith = { gap: '> 1' }), '/assertions/0/inEveryCellWith', /no cell matches/],
    ['a metric the cells lack', (s: any) => (s.assertions[1].metric = 'leak'), '/assertions/1/metric', /not a per-cell metric/],
    ['a trend with an op', (s: any) => (s.assertions[1].op = 'above'), '/assertions/1/op', /remove it: risesWith compares/],
    ['rising and falling at once', (s: any) => (s.assertions[1].fallsWith = 'gap'), '/assertions/1/fallsWith', /not both/],
    ['a plain cell assertion without op', (s: any) => delete s.assertions[0].op, '/assertions/0/op', /required field is missing/],
    ['a condition that is an object', (s: any) => (s.assertions[0].inEveryCellWith = { gap: { min: 1 } }), '/assertions/0/inEveryCellWith/gap', /must be/],
    ['a cell whose params break the inner schema', (s: any) => (s.tiers.fast.params.axes[1].path = 'gapp'), '/tiers/fast/params/axes', /cell \{protocol=calm,gap=-0.05\}: stand-in params .*'gapp'/],
    ['an inner kind that does not exist', (s: any) => (s.tiers.fast.params.experiment = 'nope'), '/tiers/fast/params/experiment', /must be one of "stand-in"/],
  ])('%s', (_what, edit, pointer, reason) => {
    const problems = problemsOf(edit);
    expect(problems).toContainEqual({ file: true, pointer, reason: expect.stringMatching(reason) });
  });
});

describe('running a sweep claim', () => {
  it('records every cell’s metrics and one assertion result per cell, and the report plots the cells', async () => {
    const spec = loadSpecFile(FIXTURE, registry);
    const silent = { start() {}, tick() {}, stop() {} };
    const backend = { name: 'cpu', version: '4.22.0', threads: 1, device: 'CPU', reason: 'test' };
    const environment = { packages: {}, gitCommit: 'unknown', gitDirty: null, node: process.version, machine: { cpuModel: 't', cpus: 1, os: 't', memoryGiB: 1 } };
    const record = await runClaim(spec, { tier: 'fast', backend, resultsDir: tmp(), resume: false, progress: silent, environment });
    expect(Object.keys(record.outcomes[0].metrics)).toHaveLength(2 * 4 * 2);
    // gap 0.05 and 0.1 in two protocols: 4 cells; rising along 4 gaps in 2 protocols: 6 pairs
    expect(record.assertions.map((a) => a.name)).toEqual([
      'in every cell with gap ≥ 0.05, adversarial accuracy above clean — {protocol=calm,gap=0.05}',
      'in every cell with gap ≥ 0.05, adversarial accuracy above clean — {protocol=calm,gap=0.1}',
      'in every cell with gap ≥ 0.05, adversarial accuracy above clean — {protocol=noisy,gap=0.05}',
      'in every cell with gap ≥ 0.05, adversarial accuracy above clean — {protocol=noisy,gap=0.1}',
      'adversarial accuracy rises with the gap — {protocol=calm}: gap -0.05 → 0',
      'adversarial accuracy rises with the gap — {protocol=calm}: gap 0 → 0.05',
      'adversarial accuracy rises with the gap — {protocol=calm}: gap 0.05 → 0.1',
      'adversarial accuracy rises with the gap — {protocol=noisy}: gap -0.05 → 0',
      'adversarial accuracy rises with the gap — {protocol=noisy}: gap 0 → 0.05',
      'adversarial accuracy rises with the gap — {protocol=noisy}: gap 0.05 → 0.1',
    ]);
    expect(record.assertions.every((a) => a.verdict === 'reproduced' && a.n === 3)).toBe(true);
    expect(record.verdict).toBe('reproduced');

    const plots = await plotsFor(record);
    const cellPlots = plots.filter((p) => p.name.includes('-cells') || p.name.includes('-along-'));
    // The cell plots draw every cell's metric the assertions name.
    expect(cellPlots[0].metrics).toEqual(expect.arrayContaining(['adv_acc_fgsm{protocol=noisy,gap=0.05}']));
    expect(cellPlots.map((p) => p.name)).toEqual([
      'stand-in-sweep-fast-adv_acc_fgsm-cells.svg',
      'stand-in-sweep-fast-adv_acc_fgsm-along-gap.svg',
      'stand-in-sweep-fast-clean_acc-cells.svg',
      'stand-in-sweep-fast-clean_acc-along-gap.svg',
    ]);
    const heat = cellPlots[0].svg;
    expect(heat.startsWith('<svg')).toBe(true);
    // One other axis: its values label the rows, its name the axis; the metric in words, in %.
    expect(heat).toContain('>noisy<');
    expect(heat).toContain('>protocol<');
    expect(heat).toContain('FGSM accuracy (%)');
    expect(heat).toContain('mean over 3 seeds');
    expect(cellPlots[1].svg).toContain('calm');
  });

  it('one refuted cell refutes the claim', async () => {
    const json = good();
    json.tiers.fast.params.axes[1].values = [-0.1, 0.05, 0.1];
    json.assertions[0].inEveryCellWith = { gap: '>= -0.1' };
    const file = join(tmp(), 'stand-in-sweep.json');
    writeFileSync(file, JSON.stringify(json));
    const silent = { start() {}, tick() {}, stop() {} };
    const backend = { name: 'cpu', version: '4.22.0', threads: 1, device: 'CPU', reason: 'test' };
    const environment = { packages: {}, gitCommit: 'unknown', gitDirty: null, node: process.version, machine: { cpuModel: 't', cpus: 1, os: 't', memoryGiB: 1 } };
    const record = await runClaim(loadSpecFile(file, registry), { tier: 'fast', backend, resultsDir: tmp(), resume: false, progress: silent, environment });
    expect(record.verdict).toBe('refuted');
    expect(record.assertions.filter((a) => a.verdict === 'refuted').map((a) => a.name)).toEqual([
      'in every cell with gap ≥ 0.05, adversarial accuracy above clean — {protocol=calm,gap=-0.1}',
      'in every cell with gap ≥ 0.05, adversarial accuracy above clean — {protocol=noisy,gap=-0.1}',
    ]);
  });
});
