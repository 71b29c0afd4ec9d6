/**
 * The module the compiled CLI carries in place of src/util/precompiled-validators.ts: ajv's
 * standalone code for every schema the CLI validates with (the claim schema, each experiment
 * kind's params, the record schema), keyed as schemaValidator looks them up. Run by
 * bin/compiled-cli.mjs's build, never by hand.
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import * as standalone from 'ajv/dist/standalone/index.js';
import { claimSchema } from '../src/spec/claim-schema.ts';
import { experiments } from '../src/experiments/registry.ts';
import { resultSchema } from '../src/results/record-schema.ts';
import { SCHEMA_OPTIONS, validatorKey, type SchemaOptions } from '../src/util/schema-validator.ts';

/** What the CLI validates, with the options it validates with. */
export function precompiledSchemas(): [object, SchemaOptions][] {
  return [[claimSchema, 'strict'], [resultSchema, 'record'], ...Object.values(experiments).map((k): [object, SchemaOptions] => [k.paramsSchema, 'strict'])];
}

export default function precompiledModule(): string {
  // CommonJS: under Node `default` is module.exports, whose `default` is the function; a bundler gives the function.
  type ToCode = (ajv: Ajv2020, validate: ValidateFunction) => string;
  const mod = (standalone as unknown as { default: ToCode | { default: ToCode } }).default;
  const toCode = typeof mod === 'function' ? mod : mod.default;
  const entries = precompiledSchemas().map(([schema, options]) => {
    const ajv = new Ajv2020({ ...SCHEMA_OPTIONS[options], code: { source: true } });
    const code = toCode(ajv, ajv.compile(schema));
    const required = code.replace(/\brequire\(("ajv\/dist\/runtime\/)/g, '__ajvRequire($1');
    return `[${JSON.stringify(validatorKey(schema, options))}, (() => { const module = { exports: {} }; ${required}\nreturn module.exports; })()]`;
  });
  // ajv's standalone code require()s its runtime helpers (ajv/dist/runtime/*).
  return [
    "import { createRequire } from 'node:module';",
    'const __ajvRequire = createRequire(import.meta.url);',
    `export const PRECOMPILED = new Map([\n${entries.join(',\n')}\n]);`,
    '',
  ].join('\n');
}
