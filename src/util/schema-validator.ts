import { Ajv2020, type Options, type ValidateFunction } from 'ajv/dist/2020.js';
import { PRECOMPILED } from './precompiled-validators.ts';

/**
 * One home for turning a JSON Schema into a validator: specs, their params, sweep cells and
 * records all come through here. Compiling a schema with ajv costs a process ~0.1–0.3 s of
 * CPU each (the claim schema, each kind's params, the record schema), and every `label-leak`
 * command pays it at start-up; the compiled CLI (bin/compiled-cli.mjs) therefore carries
 * them precompiled, ajv's standalone code for the same schema and options, in PRECOMPILED.
 * Elsewhere (tsx, the tests, the page) and for any schema it lacks, ajv compiles here, once.
 */

/** The two ways this project validates: strict with every error; records also allow `number | null`. */
export const SCHEMA_OPTIONS = {
  strict: { strict: true, allErrors: true },
  // Curve points and statistics use `number | null` for what cannot be finite.
  record: { strict: true, allErrors: true, allowUnionTypes: true },
} as const satisfies Record<string, Options>;
export type SchemaOptions = keyof typeof SCHEMA_OPTIONS;

/** The key a schema's validator is kept under: its options and its text (not a hash: an exact match or none). */
export function validatorKey(schema: object, options: SchemaOptions): string {
  return `${options}\u0000${JSON.stringify(schema)}`;
}

const compiled = new Map<string, ValidateFunction>();

export function schemaValidator<T = unknown>(schema: object, options: SchemaOptions): ValidateFunction<T> {
  const key = validatorKey(schema, options);
  let v = compiled.get(key);
  if (!v) {
    // A fresh ajv per schema: kinds' schemas may share $ids, which one instance refuses.
    v = PRECOMPILED.get(key) ?? new Ajv2020(SCHEMA_OPTIONS[options]).compile(schema);
    compiled.set(key, v);
  }
  return v as ValidateFunction<T>;
}
