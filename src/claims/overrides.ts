import { experiments } from '../experiments/registry.ts';
import { setPath } from '../util/dotted-path.ts';
import { checkSpec } from './spec-files.ts';
import { SpecError, type SpecProblem } from './errors.ts';
import type { Tier } from '../spec/names.ts';
import { requireTier } from '../spec/claim.ts';
import type { LoadedSpec, Registry } from './spec.ts';

/**
 * `--set path=value`: one tier parameter changed for one run, e.g. to run the full tier's
 * protocol at the scale a machine affords (`--set model.depth=20 --set training.epochs=5`).
 * The changed spec is checked exactly as a spec file is, so a misspelt path or a bad value
 * fails with the JSON pointer it names, and the result record keeps the overrides beside
 * its params (their hash changes, so records of different settings never merge).
 */
export interface Override {
  /** Keys under the tier's `params`. */
  path: string[];
  value: unknown;
  /** As given on the command line, for the record. */
  text: string;
}

export class OverrideError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OverrideError';
  }
}

/** `a.b.c=VALUE`; VALUE is JSON when it parses as JSON (numbers, booleans, arrays), else a string. */
export function parseOverride(text: string): Override {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new OverrideError(`--set expects PATH=VALUE (e.g. training.epochs=5), got '${text}'`);
  const path = text.slice(0, eq).split('.');
  if (path.some((k) => k === '' || k === '__proto__' || k === 'constructor' || k === 'prototype')) {
    throw new OverrideError(`--set: '${text.slice(0, eq)}' is not a parameter path (keys separated by '.')`);
  }
  const raw = text.slice(eq + 1);
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    value = raw;
  }
  return { path, value, text };
}

/**
 * A `--set` value the schema refuses. The spec file is fine: the message names the `--set`,
 * and a value that fits no branch of a `oneOf` gets one line of what it may be ("must be
 * null or object"), not a line per branch plus "must match exactly one schema in oneOf".
 */
export class OverrideValueError extends SpecError {
  constructor(problems: SpecProblem[], overrides: Override[], tier: Tier, id: string) {
    super(problems);
    const base = `/tiers/${tier}/params`;
    const byPointer = new Map<string, string[]>();
    for (const p of problems) byPointer.set(p.pointer, [...(byPointer.get(p.pointer) ?? []), p.reason]);
    const lines = [...byPointer].map(([pointer, reasons]) => {
      const branches = reasons.filter((r) => !/^must match (exactly one|a) schema in (oneOf|anyOf)$/.test(r));
      const reason = branches.length < reasons.length && branches.every((r) => r.startsWith('must be '))
        ? `must be ${branches.map((r) => r.slice('must be '.length)).join(' or ')}`
        : branches.join('; ');
      const path = pointer.startsWith(`${base}/`) ? pointer.slice(base.length + 1).split('/') : undefined;
      // The --set that wrote this place (or one above it); else the change broke a rule across fields.
      const culprit = path && [...overrides].reverse().find((o) => o.path.every((k, i) => path[i] === k));
      const where = culprit ? `--set ${culprit.text}` : `--set ${overrides.map((o) => o.text).join(' --set ')}`;
      const exact = culprit && path && culprit.path.length === path.length;
      return `${where}: ${exact ? '' : `${path ? path.join('.') : pointer}: `}${reason} (in ${id}'s ${tier} tier)`;
    });
    this.message = lines.join('\n');
    this.name = 'OverrideValueError';
  }
}

/** A copy of `spec` whose `tier` params carry the overrides, re-checked against the schemas. */
export function applyOverrides(spec: LoadedSpec, tier: Tier, overrides: Override[], registry: Registry = experiments): LoadedSpec {
  if (overrides.length === 0) return spec;
  const { file, hash: _hash, kind: _kind, ...content } = spec;
  const json = structuredClone(content) as typeof content;
  for (const o of overrides) setPath(requireTier(json, tier).params, o.path, o.value);
  try {
    return checkSpec(json, file, registry);
  } catch (e) {
    if (e instanceof SpecError) throw new OverrideValueError(e.problems, overrides, tier, spec.id);
    throw e;
  }
}
