import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SpecError, UnknownClaimError } from '../../src/claims/errors.ts';
import { findSpecsIn, loadSpecDir, loadSpecFile, specIds } from '../../src/claims/spec-files.ts';
import { loadSpecDirEach } from '../../src/claims/spec-dir-each.ts';
import { findSpecs, loadAllSpecs } from '../../src/claims/load.ts';
import type { Registry } from '../../src/claims/spec.ts';
import { standInRegistry } from '../fixtures-specs/stand-in-kind.ts';

const FIXTURES = 'test/fixtures-specs';
const good = () => JSON.parse(readFileSync(join(FIXTURES, 'stand-in-leak.json'), 'utf8')) as Record<string, any>;

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A fresh folder, removed after the test. */
function tempDir(prefix = 'll-spec-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

/** Writes `spec` as `<id>.json` in a fresh folder and returns the file. */
function writeSpec(spec: unknown, name = 'stand-in-leak'): string {
  const dir = tempDir();
  const file = join(dir, `${name}.json`);
  writeFileSync(file, typeof spec === 'string' ? spec : JSON.stringify(spec, null, 2));
  return file;
}

/** The SpecError loading `file` throws (with these kinds); fails the test when it loads. */
function rejection(file: string, registry: Parameters<typeof loadSpecFile>[1] = standInRegistry): SpecError {
  try {
    loadSpecFile(file, registry);
  } catch (e) {
    expect(e).toBeInstanceOf(SpecError);
    return e as SpecError;
  }
  throw new Error(`expected ${file} to be rejected`);
}

const problemsOf = (file: string) => rejection(file).problems;

describe('the sample specs', () => {
  it('load, with their kind resolved and a content hash', () => {
    const specs = loadSpecDir(FIXTURES, standInRegistry);
    expect(specs.map((s) => s.id)).toEqual(['stand-in-leak', 'stand-in-no-gap']);
    for (const s of specs) {
      expect(s.kind.name).toBe('stand-in');
      expect(s.hash).toMatch(/^[0-9a-f]{16}$/);
    }
  });

  it('hash by content: reformatting or reordering keys keeps the hash, a changed number changes it', () => {
    const a = loadSpecFile(writeSpec(good()), standInRegistry);
    const reordered = Object.fromEntries(Object.entries(good()).reverse());
    const b = loadSpecFile(writeSpec(JSON.stringify(reordered)), standInRegistry);
    const changed = good();
    changed.tiers.fast.params.gap = 0.06;
    const c = loadSpecFile(writeSpec(changed), standInRegistry);
    expect(b.hash).toBe(a.hash);
    expect(c.hash).not.toBe(a.hash);
  });
});

describe('a malformed spec names the file, the JSON pointer and the reason', () => {
  const cases: [string, (s: Record<string, any>) => void, string, RegExp][] = [
    ['an unknown top-level field', (s) => (s.colour = 'red'), '/colour', /unknown field/],
    ['an unknown field in an assertion', (s) => (s.assertions[0].metrc = 'x'), '/assertions/0/metrc', /unknown field/],
    ['a missing statement', (s) => delete s.statement, '/statement', /required/],
    ['a missing full tier', (s) => delete s.tiers.full, '/tiers/full', /required/],
    ['an unknown comparison', (s) => (s.assertions[0].op = 'greater'), '/assertions/0/op', /must be one of "above"/],
    ['a negative tolerance', (s) => (s.assertions[0].tolerance = -1), '/assertions/0/tolerance', />= 0/],
    ['an unknown expected verdict', (s) => (s.tiers.fast.expected = 'passes'), '/tiers/fast/expected', /reproduced/],
    ['fractional seeds', (s) => (s.tiers.fast.seeds = [1.5]), '/tiers/fast/seeds/0', /integer/],
    ['repeated seeds', (s) => (s.tiers.fast.seeds = [1, 1]), '/tiers/fast/seeds', /duplicate/],
    ['an id that is not the file name', (s) => (s.id = 'other-name'), '/id', /must equal the file name/],
    ['an unknown experiment kind', (s) => (s.experiment = 'nope'), '/experiment', /known kinds: diverging, stand-in/],
    ['params the kind rejects', (s) => (s.tiers.full.params.clean = 2), '/tiers/full/params/clean', /<= 1/],
    ['params with a field the kind does not know', (s) => (s.tiers.fast.params.depth = 110), '/tiers/fast/params/depth', /unknown field/],
    ['an assertion on a metric the kind does not produce', (s) => (s.assertions[0].metric = 'adv_acc_bim'), '/assertions/0/metric', /not produced by "stand-in".*adv_acc_fgsm/],
    ['a minus metric the kind does not produce at that tier', (s) => (s.assertions[0].minus = 'loss_eps_6'), '/assertions/0/minus', /at tier full/],
    ['a write-up value keyed by an unknown metric', (s) => (s.writeUpFigure.values.clean_accuracy = 0.9), '/writeUpFigure/values/clean_accuracy', /not a metric/],
    ['two assertions with one name', (s) => s.assertions.push({ ...s.assertions[0] }), '/assertions/2/name', /duplicate assertion name/],
    ['a tier no assertion applies to', (s) => s.assertions.forEach((a: any) => (a.tiers = ['fast'])), '/assertions', /no assertion applies to tier full/],
  ];

  for (const [what, mutate, pointer, reason] of cases) {
    it(`${what} → ${pointer}`, () => {
      const spec = good();
      mutate(spec);
      const file = writeSpec(spec);
      const problems = problemsOf(file);
      const hit = problems.find((p) => p.pointer === pointer);
      expect(hit, `problems were: ${JSON.stringify(problems)}`).toBeDefined();
      expect(hit!.file).toBe(file);
      expect(hit!.reason).toMatch(reason);
    });
  }

  it('reports every problem of a file at once, each on its own line of the message', () => {
    const spec = good();
    spec.colour = 'red';
    delete spec.title;
    const file = writeSpec(spec);
    try {
      loadSpecFile(file, standInRegistry);
      expect.unreachable();
    } catch (e) {
      const lines = (e as Error).message.split('\n');
      expect(lines).toContain(`${file}: /colour: unknown field (not in the schema)`);
      expect(lines).toContain(`${file}: /title: required field is missing`);
    }
  });

  it('a file that is not JSON', () => {
    const file = writeSpec('{ "id": "stand-in-leak", ');
    const [p] = problemsOf(file);
    expect(p.pointer).toBe('');
    expect(p.reason).toMatch(/not valid JSON/);
  });

  it('a top-level schema error does not hide the params errors of the same file (one round of fixing)', () => {
    const spec = good();
    spec.colour = 'red';
    spec.tiers.fast.params.depth = 110;
    spec.tiers.full.params.clean = 2;
    const pointers = problemsOf(writeSpec(spec)).map((p) => p.pointer);
    expect(pointers).toEqual(expect.arrayContaining(['/colour', '/tiers/fast/params/depth', '/tiers/full/params/clean']));
  });

  it('a folder without specs is refused, naming the folder', () => {
    const dir = tempDir('ll-spec-empty-');
    expect(() => loadSpecDir(dir, standInRegistry)).toThrowError(new RegExp(`${dir}.*no claim specs`));
  });

  it('problems of several files are reported together by loadSpecDir', () => {
    const a = writeSpec({ ...good(), colour: 1 });
    const dir = join(a, '..');
    writeFileSync(join(dir, 'stand-in-no-gap.json'), JSON.stringify({ id: 'stand-in-no-gap' }));
    try {
      loadSpecDir(dir, standInRegistry);
      expect.unreachable();
    } catch (e) {
      const files = new Set((e as SpecError).problems.map((p) => p.file));
      expect(files).toEqual(new Set([a, join(dir, 'stand-in-no-gap.json')]));
    }
  });
});

describe('finding specs by id', () => {
  it('returns the named specs in the order asked', () => {
    expect(findSpecsIn(['stand-in-no-gap', 'stand-in-leak'], FIXTURES, standInRegistry).map((s) => s.id)).toEqual([
      'stand-in-no-gap',
      'stand-in-leak',
    ]);
  });

  it('an unknown id says so and lists the known ids', () => {
    expect(() => findSpecsIn(['cifar10-label-leakin'], FIXTURES, standInRegistry)).toThrowError(UnknownClaimError);
    expect(() => findSpecsIn(['cifar10-label-leakin'], FIXTURES, standInRegistry)).toThrowError(
      /unknown claim "cifar10-label-leakin".*known claims: stand-in-leak, stand-in-no-gap/,
    );
  });

  it('a missing claims directory is a spec error naming it', () => {
    expect(() => loadSpecDir('no/such/dir', standInRegistry)).toThrowError(/no\/such\/dir.*cannot read the claims directory/);
  });
});

describe('spec loading at its edges', () => {
  it('a file whose JSON is not an object is reported, not crashed on', () => {
    for (const text of ['null', '5', '"spec"', '[]']) {
      const problems = problemsOf(writeSpec(text));
      expect(problems.length, text).toBeGreaterThan(0);
      expect(problems.every((p) => p.pointer === ''), text).toBe(true);
    }
  });

  it('a spec failing the claim schema with no usable kind or tiers reports only the schema\'s problems', () => {
    for (const edit of [(s: any) => (s.experiment = 5), (s: any) => (s.experiment = 'nope'), (s: any) => (s.tiers = null), (s: any) => (s.tiers = 'fast')]) {
      const spec = good();
      spec.colour = 'red';
      edit(spec);
      const problems = problemsOf(writeSpec(spec));
      expect(problems.some((p) => p.pointer === '/colour')).toBe(true);
      expect(problems.filter((p) => p.pointer.includes('/params'))).toEqual([]);
    }
  });

  it('a spec failing the claim schema still reports the params problems of every tier, and no tier twice', () => {
    const spec = good();
    spec.colour = 'red';
    spec.tiers.fast.params.depth = 110;
    spec.tiers.full.params.depth = 110;
    const problems = problemsOf(writeSpec(spec));
    expect(problems.filter((p) => p.pointer.endsWith('/depth')).map((p) => p.pointer)).toEqual(['/tiers/fast/params/depth', '/tiers/full/params/depth']);
  });

  it('the id must be the file name less its last .json', () => {
    const file = writeSpec(good(), 'stand-in-leak.jsonl');
    expect(problemsOf(file)).toContainEqual({ file, pointer: '/id', reason: '"stand-in-leak" must equal the file name ("stand-in-leak.jsonl")' });
  });

  it('an unknown kind with no kinds registered says "(none)"', () => {
    const file = writeSpec(good());
    expect(() => loadSpecFile(file, {})).toThrow(`${file}: /experiment: unknown experiment kind "stand-in"; known kinds: (none)`);
  });

  it('a kind whose own params schema does not compile is named, and the spec is what cannot load', () => {
    const broken = { ...standInRegistry['stand-in'], paramsSchema: { type: 'object', properties: { x: { type: 'nonsense' } } } };
    const file = writeSpec(good());
    const e = rejection(file, { 'stand-in': broken } as never);
    expect(e).toBeInstanceOf(SpecError);
    expect(e.problems).toHaveLength(1);
    expect(e.problems[0]).toMatchObject({ file, pointer: '/experiment' });
    expect(e.problems[0].reason).toMatch(/^experiment kind "stand-in" has an invalid paramsSchema: schema is invalid: data\/properties\/x\/type /);
  });

  it('a kind\'s own problems with a tier\'s params are placed under that tier; its metrics are then not checked', () => {
    const picky = { ...standInRegistry['stand-in'], problems: (p: { gap: number }) => (p.gap > 0.04 ? [{ pointer: '/gap', reason: 'too wide' }] : []) };
    const spec = good();
    spec.assertions[0].metric = 'nope';
    const file = writeSpec(spec);
    const e = rejection(file, { 'stand-in': picky } as never);
    // fast's gap is 0.05 (its own problem, metrics unchecked); full's is 0.027 (checked).
    expect(e.problems.map((p) => [p.pointer, p.reason.replace(/; it produces.*/, '')])).toEqual([
      ['/tiers/fast/params/gap', 'too wide'],
      ['/assertions/0/metric', 'metric "nope" is not produced by "stand-in" at tier full'],
    ]);
  });

  it('write-up values are checked only once every tier\'s params are valid (a bad tier would leave its metrics unknown)', () => {
    const spec = good();
    // Only fast (invalid here) would produce loss_eps_6; full (valid) does not sweep ε.
    spec.writeUpFigure.values = { loss_eps_6: 1 };
    spec.tiers.fast.params.epsSweep = [6];
    spec.tiers.fast.params.depth = 1;
    const problems = problemsOf(writeSpec(spec));
    expect(problems.map((p) => p.pointer)).toEqual(['/tiers/fast/params/depth']);
    // With valid params a value that no tier produces is named.
    const fine = good();
    fine.writeUpFigure.values = { loss_eps_7: 1 };
    expect(problemsOf(writeSpec(fine)).map((p) => p.pointer)).toEqual(['/writeUpFigure/values/loss_eps_7']);
  });

  it('$schema is not part of the content hash', () => {
    const a = good();
    const b = good();
    delete b.$schema;
    expect(loadSpecFile(writeSpec(a), standInRegistry).hash).toBe(loadSpecFile(writeSpec(b), standInRegistry).hash);
  });

  /** The stand-in kind with `problems` as its own check of a tier's params. */
  const standInWithProblems = (problems: () => { pointer: string; reason: string }[]) =>
    ({ ...standInRegistry, 'stand-in': { ...standInRegistry['stand-in']!, problems } }) as Registry;

  it('a problem said twice (here by the kind) is listed once', () => {
    const twice = standInWithProblems(() => [{ pointer: '/clean', reason: 'r' }, { pointer: '/clean', reason: 'r' }, { pointer: '/gap', reason: 'r' }]);
    const problems = rejection(writeSpec(good()), twice).problems.map((p) => `${p.pointer} ${p.reason}`);
    expect(problems).toEqual(['/tiers/fast/params/clean r', '/tiers/fast/params/gap r', '/tiers/full/params/clean r', '/tiers/full/params/gap r']);
  });

  it('an assertion reading a metric the kind does not make lists the metrics it makes, comma-separated', () => {
    const spec = good();
    spec.assertions[1].metric = 'nope_acc';
    const reason = problemsOf(writeSpec(spec)).find((p) => p.pointer === '/assertions/1/metric')!.reason;
    expect(reason).toMatch(/^metric "nope_acc" is not produced by "stand-in" at tier fast; it produces: clean_acc, adv_acc_fgsm(, \w+)*$/);
  });

  it('a missing file is said in the words of its error code, not the raw system message', () => {
    const dir = tempDir('ll-spec-dir-');
    expect(problemsOf(join(dir, 'absent.json'))[0].reason).toBe('cannot read: no such file or folder (ENOENT); a claim spec is a JSON file');
  });

  it('a folder that cannot be read, or holds no spec, is a problem of the folder as a whole (no pointer into a file)', () => {
    const dir = tempDir('ll-spec-dir-');
    expect(() => specIds(join(dir, 'absent'))).toThrow(expect.objectContaining({ problems: [{ file: join(dir, 'absent'), pointer: '', reason: expect.stringMatching(/^cannot read the claims directory: /) }] }));
    expect(() => loadSpecDir(dir, standInRegistry)).toThrow(expect.objectContaining({ problems: [{ file: dir, pointer: '', reason: expect.stringMatching(/^no claim specs/) }] }));
  });

  it("without a folder named, the project's claims/ folder is loaded (loadAllSpecs, findSpecs)", () => {
    const all = loadAllSpecs();
    expect(all.map((s) => s.id)).toEqual(specIds('claims'));
    expect(all.every((s) => s.file.startsWith('claims'))).toBe(true);
    expect(findSpecs(['mnist-no-leaking']).map((s) => s.file)).toEqual([join('claims', 'mnist-no-leaking.json')]);
  });

  it("list's loader passes on a kind's own failure as it is, not as a problem of the spec", () => {
    const dir = tempDir('ll-spec-dir-');
    writeFileSync(join(dir, 'stand-in-leak.json'), JSON.stringify(good()));
    const broken = standInWithProblems(() => {
      throw new RangeError('the kind broke');
    });
    expect(() => loadSpecDirEach(dir, broken)).toThrow(new RangeError('the kind broke'));
  });

  it('a spec that cannot be read names the file and says what a spec is', () => {
    const dir = tempDir('ll-spec-dir-');
    const missing = join(dir, 'absent.json');
    expect(problemsOf(missing)).toEqual([{ file: missing, pointer: '', reason: expect.stringMatching(/^cannot read: .+; a claim spec is a JSON file$/) }]);
    expect(problemsOf(dir)[0].reason).toMatch(/^cannot read: .*not a regular file.*; a claim spec is a JSON file$/);
  });

  it('the claim ids of a folder: its .json files but the schema, sorted', () => {
    const dir = tempDir('ll-spec-ids-');
    for (const f of ['b.json', 'a.json', 'claim.schema.json', 'notes.md', 'c.json.bak', 'json']) writeFileSync(join(dir, f), '{}');
    expect(specIds(dir)).toEqual(['a', 'b']);
  });

  const pointersAndReasons = (spec: unknown) => problemsOf(writeSpec(spec)).map((p) => `${p.pointer}: ${p.reason}`);

  it('a name\'s placeholder must name a number in every tier the check applies to (a tier the spec lacks is not asked)', () => {
    const spec = good();
    // epsSweep is in fast's params only; gap in both.
    spec.assertions[0].name = 'gap {gap} at ε {epsSweep.1}';
    spec.assertions[1].name = 'clean at ε {epsSweep.1} ({nothing})';
    expect(pointersAndReasons(spec)).toEqual([
      "/assertions/0/name: {epsSweep.1} names no number in the full tier's params (use a path under params, {threshold} or {tolerance})",
      "/assertions/1/name: {nothing} names no number in the fast tier's params (use a path under params, {threshold} or {tolerance})",
    ]);
  });

  it('a precondition\'s placeholder is checked the same way, under /preconditions', () => {
    const spec = good();
    spec.preconditions = [{ name: 'learned at {epsSweep.2}', metric: 'clean_acc', op: 'above', threshold: 0.1 }];
    expect(pointersAndReasons(spec)).toEqual(["/preconditions/0/name: {epsSweep.2} names no number in the full tier's params (use a path under params, {threshold} or {tolerance})"]);
  });

  it('a precondition limited to a tier the spec does not have, or reading a metric the kind does not produce, is named', () => {
    const spec = good();
    spec.preconditions = [
      { name: 'a', metric: 'clean_acc', op: 'above', threshold: 0.1, tiers: ['gpu'] },
      { name: 'b', metric: 'adv_acc_fgsm', minus: 'nope', op: 'above', threshold: 0 },
      { name: 'c', metric: 'nope', op: 'above', threshold: 0, tiers: ['full'] },
    ];
    const found = pointersAndReasons(spec);
    expect(found.map((l) => l.replace(/; it produces: .*/, ''))).toEqual([
      '/preconditions/0/tiers: names tier gpu, which the spec does not have (it has: fast, full)',
      '/preconditions/1/minus: metric "nope" is not produced by "stand-in" at tier fast',
      '/preconditions/1/minus: metric "nope" is not produced by "stand-in" at tier full',
      '/preconditions/2/metric: metric "nope" is not produced by "stand-in" at tier full',
    ]);
    expect(found[1]).toMatch(/; it produces: clean_acc, adv_acc_fgsm, /);
  });

  it('an assertion limited to a tier the spec does not have names the tiers it has', () => {
    const spec = good();
    spec.assertions[1].tiers = ['fast', 'gpu'];
    expect(pointersAndReasons(spec)).toEqual(['/assertions/1/tiers: names tier gpu, which the spec does not have (it has: fast, full)']);
  });

  it('a cell assertion rises or falls along one axis, and a trend takes no op or minus', () => {
    const spec = good();
    spec.assertions.push({ name: 'both', metric: 'clean_acc', risesWith: 'eps', fallsWith: 'eps', op: 'above', tolerance: 0, tiers: ['fast'] });
    spec.assertions.push({ name: 'falls', metric: 'clean_acc', fallsWith: 'eps', op: 'above', minus: 'clean_acc', threshold: 0, tolerance: 0, tiers: ['fast'] });
    // Without a trend, a cell assertion compares each cell by its op: nothing to remove.
    spec.assertions.push({ name: 'every', metric: 'clean_acc', inEveryCellWith: { eps: 8 }, op: 'above', minus: 'clean_acc', threshold: 0, tolerance: 0, tiers: ['fast'] });
    expect(pointersAndReasons(spec)).toEqual([
      '/assertions/2/fallsWith: an assertion rises or falls along one axis, not both',
      '/assertions/2/op: remove it: risesWith compares each cell with its neighbour itself',
      '/assertions/2: the experiment produces no per-cell metrics (name{axis=value}); cell assertions need a sweep (tier fast)',
      '/assertions/3/op: remove it: fallsWith compares each cell with its neighbour itself',
      '/assertions/3/minus: remove it: fallsWith compares each cell with its neighbour itself',
      '/assertions/3: the experiment produces no per-cell metrics (name{axis=value}); cell assertions need a sweep (tier fast)',
      '/assertions/4: the experiment produces no per-cell metrics (name{axis=value}); cell assertions need a sweep (tier fast)',
    ]);
  });

  it('a spec failing the claim schema whose kind\'s params schema does not compile reports the schema\'s problems only', () => {
    const broken = { ...standInRegistry['stand-in'], paramsSchema: { type: 'object', properties: { x: { type: 'nonsense' } } } };
    const spec = good();
    spec.colour = 'red';
    const file = writeSpec(spec);
    const e = rejection(file, { 'stand-in': broken } as never);
    expect(e).toBeInstanceOf(SpecError);
    expect(e.problems.map((p) => p.pointer)).toEqual(['/colour']);
  });

  it('a spec failing the claim schema with a tier\'s params not an object checks the other tiers\' params only', () => {
    for (const bad of [null, [1], 'x']) {
      const spec = good();
      spec.colour = 'red';
      spec.tiers.fast.params = bad;
      spec.tiers.full.params.depth = 110;
      // The claim schema's own "must be object" is the only word on fast's params; the absent gpu tier has none.
      const found = problemsOf(writeSpec(spec)).map((p) => `${p.pointer}: ${p.reason}`);
      expect(found, JSON.stringify(bad)).toEqual(['/colour: unknown field (not in the schema)', '/tiers/fast/params: must be object', '/tiers/full/params/depth: unknown field (not in the schema)']);
    }
  });

  it('a spec over 16 MiB is refused unread, with the reader\'s own words', () => {
    const file = writeSpec('{}');
    truncateSync(file, 16 * 1024 * 1024 + 1);
    expect(problemsOf(file)).toEqual([{ file, pointer: '', reason: `cannot read: holds ${16 * 1024 * 1024 + 1} bytes, more than the ${16 * 1024 * 1024} expected; a claim spec is a JSON file` }]);
  });

  it('a write-up figure without values loads', () => {
    const spec = good();
    delete spec.writeUpFigure.values;
    expect(loadSpecFile(writeSpec(spec), standInRegistry).writeUpFigure).toEqual({ text: spec.writeUpFigure.text });
  });

  it('every params problem of one tier is reported, not only the first', () => {
    const spec = good();
    spec.tiers.full.params.depth = 110;
    spec.tiers.full.params.clean = 2;
    expect(problemsOf(writeSpec(spec)).map((p) => p.pointer).sort()).toEqual(['/tiers/full/params/clean', '/tiers/full/params/depth']);
  });

  it('an id asked for twice is loaded once', () => {
    expect(findSpecsIn(['stand-in-leak', 'stand-in-leak'], FIXTURES, standInRegistry).map((s) => s.id)).toEqual(['stand-in-leak']);
  });

  it('a kind that throws while a spec loads is a bug: its error is thrown, not a spec problem', () => {
    const bug = new Error('a bug in the kind');
    const throwing = { ...standInRegistry['stand-in'], metricNames: () => { throw bug; } };
    expect(() => loadSpecDir(FIXTURES, { ...standInRegistry, 'stand-in': throwing } as never)).toThrow(bug);
  });
});
