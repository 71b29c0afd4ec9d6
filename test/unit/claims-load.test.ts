import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SpecError, UnknownClaimError } from '../../src/claims/errors.ts';
import { findSpecsIn, loadSpecDir, loadSpecFile } from '../../src/claims/spec-files.ts';
import { standInRegistry } from '../fixtures-specs/stand-in-kind.ts';

const FIXTURES = 'test/fixtures-specs';
const good = () => JSON.parse(readFileSync(join(FIXTURES, 'stand-in-leak.json'), 'utf8')) as Record<string, any>;

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Writes `spec` as `<id>.json` in a fresh folder and returns the file. */
function writeSpec(spec: unknown, name = 'stand-in-leak'): string {
  const dir = mkdtempSync(join(tmpdir(), 'll-spec-'));
  dirs.push(dir);
  const file = join(dir, `${name}.json`);
  writeFileSync(file, typeof spec === 'string' ? spec : JSON.stringify(spec, null, 2));
  return file;
}

function problemsOf(file: string) {
  try {
    loadSpecFile(file, standInRegistry);
  } catch (e) {
    expect(e).toBeInstanceOf(SpecError);
    return (e as SpecError).problems;
  }
  throw new Error(`expected ${file} to be rejected`);
}

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
    const dir = mkdtempSync(join(tmpdir(), 'll-spec-empty-'));
    dirs.push(dir);
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
