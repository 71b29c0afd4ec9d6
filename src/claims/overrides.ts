import { experiments } from '../experiments/registry.ts';
import { setPath } from '../util/dotted-path.ts';
import { checkSpec } from './spec-files.ts';
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

/** A copy of `spec` whose `tier` params carry the overrides, re-checked against the schemas. */
export function applyOverrides(spec: LoadedSpec, tier: Tier, overrides: Override[], registry: Registry = experiments): LoadedSpec {
  if (overrides.length === 0) return spec;
  const { file, hash: _hash, kind: _kind, ...content } = spec;
  const json = structuredClone(content) as typeof content;
  for (const o of overrides) setPath(requireTier(json, tier).params, o.path, o.value);
  return checkSpec(json, file, registry);
}
