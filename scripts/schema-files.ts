import { resultSchema } from '../src/results/record-schema.ts';
import { claimSchema } from '../src/spec/claim-schema.ts';

/** The JSON Schema files in the repository, by path from the project root, and what each is written from. */
export const SCHEMA_FILES: Record<string, object> = {
  'claims/claim.schema.json': claimSchema,
  'src/results/result.schema.json': resultSchema,
};

export const schemaText = (schema: object) => `${JSON.stringify(schema, null, 2)}\n`;
