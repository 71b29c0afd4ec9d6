import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { beforeAll, describe, expect, it } from 'vitest';
import precompiledModule, { precompiledSchemas } from '../../scripts/precompile-validators.ts';
import { SCHEMA_OPTIONS, schemaValidator, validatorKey } from '../../src/util/schema-validator.ts';

/**
 * The compiled CLI validates with ajv's standalone code (scripts/precompile-validators.ts),
 * everything else with ajv's compiled functions: the two must accept and refuse the same
 * documents with the same errors, or a spec would load in the tests and fail in `run`.
 */
const specs = readdirSync('claims')
  .filter((f) => f.endsWith('.json') && !f.endsWith('.schema.json'))
  .map((f) => JSON.parse(readFileSync(join('claims', f), 'utf8')));
const records = ['fast/mnist-no-leaking.json', 'fast/leak-regime.json'].map((f) => JSON.parse(readFileSync(join('docs/results/records', f), 'utf8')));

/** Valid documents and broken copies of them: a field removed, one of the wrong type, one unknown. */
function documents(): unknown[] {
  const valid = [...specs, ...records, ...specs.flatMap((s) => Object.values(s.tiers).map((t) => (t as { params: unknown }).params))];
  const broken = valid.flatMap((d) => {
    const o = d as Record<string, unknown>;
    const [first, second] = Object.keys(o);
    return [{ ...o, [first]: undefined }, { ...o, [second ?? first]: 7 }, { ...o, unknownField: true }, null, 'text'];
  });
  return [...valid, ...broken].map((d) => JSON.parse(JSON.stringify(d ?? null)));
}

let precompiled: ReadonlyMap<string, ValidateFunction>;
beforeAll(async () => {
  // Inside the repository's node_modules' reach, as in .cache/cli/: the code require()s ajv's runtime.
  mkdirSync('.cache', { recursive: true });
  const file = join(process.cwd(), '.cache', `validators-test-${process.pid}.mjs`);
  writeFileSync(file, precompiledModule());
  try {
    precompiled = (await import(pathToFileURL(file).href)).PRECOMPILED;
  } finally {
    rmSync(file, { force: true });
  }
});
describe('precompiled validators (the compiled CLI) against ajv compiling the same schema', () => {
  it('cover every schema the CLI validates with, under the key schemaValidator looks up', () => {
    const keys = precompiledSchemas().map(([schema, options]) => validatorKey(schema, options));
    expect([...precompiled.keys()].sort()).toEqual([...keys].sort());
  });

  it('accept and refuse every document alike, with the same errors', () => {
    const docs = documents();
    let refused = 0;
    for (const [schema, options] of precompiledSchemas()) {
      const standalone = precompiled.get(validatorKey(schema, options))!;
      const compiled = new Ajv2020(SCHEMA_OPTIONS[options]).compile(schema);
      for (const doc of docs) {
        const ok = compiled(doc);
        expect(standalone(doc)).toBe(ok);
        expect(standalone.errors ?? null).toEqual(compiled.errors ?? null);
        if (!ok) refused++;
      }
    }
    // The broken copies are refused: the comparison covers errors, not only acceptance.
    expect(refused).toBeGreaterThan(docs.length);
  });

  it('schemaValidator compiles once per schema and options', () => {
    const [schema] = precompiledSchemas()[0];
    expect(schemaValidator(schema, 'strict')).toBe(schemaValidator(structuredClone(schema), 'strict'));
    expect(schemaValidator(schema, 'record')).not.toBe(schemaValidator(schema, 'strict'));
  });
});
