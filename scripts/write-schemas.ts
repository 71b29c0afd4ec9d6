/**
 * Writes the JSON Schema files from the schemas the code validates with, so the lists of
 * names (src/spec/names.ts) reach editors and readers of records too. `npm run schemas`;
 * test/unit/spec-claim-schema.test.ts fails when a file is stale.
 */
import { writeFileSync } from 'node:fs';
import { SCHEMA_FILES, schemaText } from './schema-files.ts';

for (const [file, schema] of Object.entries(SCHEMA_FILES)) {
  writeFileSync(new URL(`../${file}`, import.meta.url), schemaText(schema));
  console.log(`wrote ${file}`);
}
