import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { ValidateFunction } from 'ajv/dist/2020.js';
import { claimSchema } from '../spec/claim-schema.ts';
import { expandCellAssertion, isCellAssertion } from './cells.ts';
import { ajvProblems, SpecError, UnknownClaimError, type SpecProblem } from './errors.ts';
import { contentHash } from './hash.ts';
import { unresolvedPlaceholders } from '../spec/name-template.ts';
import { requireTier, tiersOf, type ClaimSpec } from '../spec/claim.ts';
import { TIERS } from '../spec/names.ts';
import type { LoadedSpec, Registry } from './spec.ts';
import { errnoMeaning } from '../util/errno.ts';
import { schemaValidator } from '../util/schema-validator.ts';
import { FileTooLargeError, NotRegularFileError, readRegularTextSync } from '../util/regular-file.ts';

/** Far above any real spec (the largest is a few KiB): a bound, so a huge file is refused, not parsed. */
const MAX_SPEC_BYTES = 16 * 1024 * 1024;

/**
 * Loading a spec is two steps: the claim schema, then the experiment kind's own params
 * schema and metric names. Every problem found is reported at once, each with its file
 * and JSON pointer, so a spec author fixes them in one pass.
 */

const SCHEMA_FILE = 'claim.schema.json';

const paramsValidator = (schema: Record<string, unknown>): ValidateFunction => schemaValidator(schema, 'strict');

function parseJson(file: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new SpecError([{ file, pointer: '', reason: `not valid JSON: ${(e as Error).message}` }]);
  }
}

function unique(problems: SpecProblem[]): SpecProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const k = `${p.pointer}\u0000${p.reason}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/**
 * The params problems of a spec that already failed the claim schema elsewhere, so that one
 * round of fixing sees them all: checked wherever the kind and a tier's params can be found.
 */
function paramsProblemsOfInvalid(json: unknown, file: string, registry: Registry): SpecProblem[] {
  if (json === null || typeof json !== 'object') return [];
  const { experiment, tiers } = json as { experiment?: unknown; tiers?: unknown };
  const kind = typeof experiment === 'string' && Object.hasOwn(registry, experiment) ? registry[experiment] : undefined;
  if (!kind || tiers === null || typeof tiers !== 'object') return [];
  const problems: SpecProblem[] = [];
  for (const tier of TIERS) {
    const params = (tiers as Record<string, { params?: unknown } | undefined>)[tier]?.params;
    if (params === null || typeof params !== 'object' || Array.isArray(params)) continue;
    let validate: ValidateFunction;
    try {
      validate = paramsValidator(kind.paramsSchema);
    } catch {
      return problems; // reported when the rest of the spec is fixed
    }
    if (!validate(params)) problems.push(...ajvProblems(file, validate.errors, `/tiers/${tier}/params`));
  }
  return problems;
}

/** Checks parsed JSON as the spec in `file`; throws SpecError naming every problem. */
export function checkSpec(json: unknown, file: string, registry: Registry): LoadedSpec {
  const validateClaim = schemaValidator<ClaimSpec>(claimSchema, 'strict');
  if (!validateClaim(json)) throw new SpecError(unique([...ajvProblems(file, validateClaim.errors), ...paramsProblemsOfInvalid(json, file, registry)]));
  const spec = json;
  const problems: SpecProblem[] = [];
  const expectedId = basename(file).replace(/\.json$/, '');
  if (spec.id !== expectedId) problems.push({ file, pointer: '/id', reason: `"${spec.id}" must equal the file name ("${expectedId}")` });

  const names = new Set<string>();
  spec.assertions.forEach((a, i) => {
    if (names.has(a.name)) problems.push({ file, pointer: `/assertions/${i}/name`, reason: `duplicate assertion name "${a.name}"` });
    names.add(a.name);
  });

  const tiers = tiersOf(spec, TIERS);
  for (const tier of tiers) {
    if (!spec.assertions.some((a) => !a.tiers || a.tiers.includes(tier))) {
      problems.push({ file, pointer: '/assertions', reason: `no assertion applies to tier ${tier}` });
    }
  }
  spec.assertions.forEach((a, i) => {
    for (const t of a.tiers ?? []) {
      if (!tiers.includes(t)) problems.push({ file, pointer: `/assertions/${i}/tiers`, reason: `names tier ${t}, which the spec does not have (it has: ${tiers.join(', ')})` });
    }
  });

  const kind = registry[spec.experiment];
  if (!kind) {
    const known = Object.keys(registry).sort().join(', ') || '(none)';
    problems.push({ file, pointer: '/experiment', reason: `unknown experiment kind "${spec.experiment}"; known kinds: ${known}` });
    throw new SpecError(problems);
  }

  const metricsByTier = new Map<string, Set<string>>();
  for (const tier of tiers) {
    const params = requireTier(spec, tier).params;
    let validate: ValidateFunction;
    try {
      validate = paramsValidator(kind.paramsSchema);
    } catch (e) {
      // A kind whose own schema does not compile is a code bug, but the spec is what cannot load.
      throw new SpecError([{ file, pointer: '/experiment', reason: `experiment kind "${kind.name}" has an invalid paramsSchema: ${(e as Error).message}` }]);
    }
    if (!validate(params)) {
      problems.push(...ajvProblems(file, validate.errors, `/tiers/${tier}/params`));
      continue;
    }
    const own = kind.problems?.(params) ?? [];
    if (own.length > 0) {
      problems.push(...own.map((p) => ({ file, pointer: `/tiers/${tier}/params${p.pointer}`, reason: p.reason })));
      continue;
    }
    metricsByTier.set(tier, new Set(kind.metricNames(params)));
  }

  // A name's {placeholder} must name a number in every tier it applies to, or it would print as written.
  for (const [list, at] of [[spec.assertions, 'assertions'], [spec.preconditions ?? [], 'preconditions']] as const) {
    list.forEach((a, i) => {
      for (const tier of a.tiers ?? TIERS) {
        if (!metricsByTier.has(tier)) continue;
        for (const key of unresolvedPlaceholders(a.name, requireTier(spec, tier).params)) {
          problems.push({ file, pointer: `/${at}/${i}/name`, reason: `{${key}} names no number in the ${tier} tier's params (use a path under params, {threshold} or {tolerance})` });
        }
      }
    });
  }

  spec.assertions.forEach((a, i) => {
    if (isCellAssertion(a)) {
      if (a.risesWith !== undefined && a.fallsWith !== undefined) problems.push({ file, pointer: `/assertions/${i}/fallsWith`, reason: 'an assertion rises or falls along one axis, not both' });
      const trend = a.risesWith !== undefined ? 'risesWith' : a.fallsWith !== undefined ? 'fallsWith' : undefined;
      for (const field of ['op', 'minus'] as const) {
        if (trend && a[field] !== undefined) problems.push({ file, pointer: `/assertions/${i}/${field}`, reason: `remove it: ${trend} compares each cell with its neighbour itself` });
      }
    }
    for (const tier of a.tiers ?? TIERS) {
      const known = metricsByTier.get(tier);
      if (!known) continue; // its params were already reported
      if (isCellAssertion(a)) {
        for (const p of expandCellAssertion(a, [...known]).problems) problems.push({ file, pointer: `/assertions/${i}${p.pointer}`, reason: `${p.reason} (tier ${tier})` });
        continue;
      }
      for (const field of ['metric', 'minus'] as const) {
        const m = a[field];
        if (m !== undefined && !known.has(m)) {
          problems.push({
            file,
            pointer: `/assertions/${i}/${field}`,
            reason: `metric "${m}" is not produced by "${kind.name}" at tier ${tier}; it produces: ${[...known].join(', ')}`,
          });
        }
      }
    }
  });

  const preNames = new Set<string>();
  (spec.preconditions ?? []).forEach((p, i) => {
    const at = `/preconditions/${i}`;
    if (preNames.has(p.name)) problems.push({ file, pointer: `${at}/name`, reason: `duplicate precondition name "${p.name}"` });
    preNames.add(p.name);
    for (const t of p.tiers ?? []) {
      if (!tiers.includes(t)) problems.push({ file, pointer: `${at}/tiers`, reason: `names tier ${t}, which the spec does not have (it has: ${tiers.join(', ')})` });
    }
    for (const tier of p.tiers ?? TIERS) {
      const known = metricsByTier.get(tier);
      if (!known) continue;
      if (p.inEveryCellWith !== undefined) {
        const cell = expandCellAssertion({ ...p, tolerance: p.tolerance ?? 0, inEveryCellWith: p.inEveryCellWith }, [...known]);
        for (const x of cell.problems) problems.push({ file, pointer: `${at}${x.pointer}`, reason: `${x.reason} (tier ${tier})` });
        continue;
      }
      for (const field of ['metric', 'minus'] as const) {
        const m = p[field];
        if (m !== undefined && !known.has(m)) {
          problems.push({ file, pointer: `${at}/${field}`, reason: `metric "${m}" is not produced by "${kind.name}" at tier ${tier}; it produces: ${[...known].join(', ')}` });
        }
      }
    }
  });

  if (metricsByTier.size === tiers.length) {
    const anyTier = new Set([...metricsByTier.values()].flatMap((s) => [...s]));
    for (const key of Object.keys(spec.writeUpFigure.values ?? {})) {
      if (!anyTier.has(key)) {
        problems.push({ file, pointer: `/writeUpFigure/values/${key}`, reason: `"${key}" is not a metric of "${kind.name}" at any tier` });
      }
    }
  }

  if (problems.length > 0) throw new SpecError(unique(problems));
  const { $schema: _ignored, ...content } = spec;
  return { ...spec, file, hash: contentHash(content), kind };
}

export function loadSpecFile(file: string, registry: Registry): LoadedSpec {
  let text: string;
  try {
    // A FIFO or device in place of a spec is named, never read (a read would block forever).
    text = readRegularTextSync(file, { maxBytes: MAX_SPEC_BYTES });
  } catch (e) {
    throw new SpecError([{ file, pointer: '', reason: `cannot read: ${e instanceof NotRegularFileError || e instanceof FileTooLargeError ? e.message : errnoMeaning(e)}; a claim spec is a JSON file` }]);
  }
  return checkSpec(parseJson(file, text), file, registry);
}

/** Claim ids present in `dir`: the spec files' names. */
export function specIds(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch (e) {
    throw new SpecError([{ file: dir, pointer: '', reason: `cannot read the claims directory: ${(e as Error).message}` }]);
  }
  return entries
    .filter((f) => f.endsWith('.json') && f !== SCHEMA_FILE)
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

/** Every spec in `dir`, sorted by id; problems of all files are reported together. */
export function loadSpecDir(dir: string, registry: Registry): LoadedSpec[] {
  const ids = specIds(dir);
  // A job pointed at the wrong folder must not pass having checked nothing.
  if (ids.length === 0) throw new SpecError([{ file: dir, pointer: '', reason: 'no claim specs (*.json) in this folder; name the folder that holds them with --claims' }]);
  return withControlsChecked(loadMany(ids.map((id) => join(dir, `${id}.json`)), registry), dir, registry);
}

/**
 * A control must name a claim in the same folder, and that claim must not itself be a
 * control: the report and `list` show a control beside the claim it names.
 */
function withControlsChecked(specs: LoadedSpec[], dir: string, registry: Registry): LoadedSpec[] {
  const problems: SpecProblem[] = [];
  for (const s of specs) {
    if (s.controlOf === undefined) continue;
    let target: LoadedSpec | undefined = specs.find((o) => o.id === s.controlOf);
    if (!target && specIds(dir).includes(s.controlOf)) target = loadSpecFile(join(dir, `${s.controlOf}.json`), registry);
    if (s.controlOf === s.id) problems.push({ file: s.file, pointer: '/controlOf', reason: 'a spec cannot be its own control; name the claim it controls' });
    else if (!target) problems.push({ file: s.file, pointer: '/controlOf', reason: `names "${s.controlOf}", which is not a claim in ${dir}/ (it has: ${specIds(dir).join(', ')})` });
    else if (target.controlOf !== undefined) problems.push({ file: s.file, pointer: '/controlOf', reason: `"${s.controlOf}" is itself a control (of "${target.controlOf}"); name the claim it controls` });
  }
  if (problems.length > 0) throw new SpecError(problems);
  return specs;
}

/** The specs named by `ids`, in that order; an unknown id lists the known ones. */
export function findSpecsIn(ids: string[], dir: string, registry: Registry): LoadedSpec[] {
  const known = specIds(dir);
  for (const id of ids) if (!known.includes(id)) throw new UnknownClaimError(id, known, dir);
  return withControlsChecked(
    loadMany(
      [...new Set(ids)].map((id) => join(dir, `${id}.json`)),
      registry,
    ),
    dir,
    registry,
  );
}

function loadMany(files: string[], registry: Registry): LoadedSpec[] {
  const specs: LoadedSpec[] = [];
  const problems: SpecProblem[] = [];
  for (const file of files) {
    try {
      specs.push(loadSpecFile(file, registry));
    } catch (e) {
      if (!(e instanceof SpecError)) throw e;
      problems.push(...e.problems);
    }
  }
  if (problems.length > 0) throw new SpecError(problems);
  return specs;
}
