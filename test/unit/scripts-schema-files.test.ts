import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SCHEMA_FILES, schemaText } from '../../scripts/schema-files.ts';

describe('the JSON Schema files in the repository', () => {
  for (const [file, schema] of Object.entries(SCHEMA_FILES)) {
    it(`${file} is what the code validates with (else: npm run schemas)`, () => {
      expect(readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8')).toBe(schemaText(schema));
    });
  }
});
