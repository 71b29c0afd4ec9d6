import type { ValidateFunction } from 'ajv/dist/2020.js';

/**
 * Validators compiled ahead of time, by validatorKey (schema-validator.ts). Empty in the
 * sources; the compiled CLI's build puts in its place a module with ajv's standalone code for
 * every schema the CLI validates with (bin/compiled-cli.mjs, scripts/precompile-validators.ts).
 */
export const PRECOMPILED: ReadonlyMap<string, ValidateFunction> = new Map();
