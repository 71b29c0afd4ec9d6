import { OPS, SUITES, VERDICTS } from './claim.ts';
import { enumOf, REQUIRED_TIERS, TIERS } from './names.ts';

/**
 * JSON Schema (2020-12) of a claim spec. claims/claim.schema.json is written from this
 * (`npm run schemas`) for editors; a unit test keeps the two equal.
 */
export const claimSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://label-leak.invalid/claims/claim.schema.json',
  title: 'label-leak claim spec',
  description: "One claim of the write-up as an executable check. The tier params are checked in a second step against the experiment kind's own paramsSchema, and assertion metrics against the kind's metricNames(params).",
  type: 'object',
  additionalProperties: false,
  required: ['id', 'version', 'title', 'statement', 'source', 'writeUpFigure', 'experiment', 'tiers', 'assertions'],
  properties: {
    $schema: { type: 'string' },
    id: {
      description: 'Equals the file name without .json.',
      type: 'string',
      pattern: '^[a-z0-9]+(-[a-z0-9]+)*$'
    },
    version: {
      description: 'Bump when the spec changes what is run or asserted; result records carry it.',
      type: 'integer',
      minimum: 1
    },
    title: { type: 'string', minLength: 1 },
    statement: { description: 'Verbatim quote from the write-up.', type: 'string', minLength: 1 },
    source: {
      type: 'object',
      additionalProperties: false,
      required: ['writeUp'],
      properties: {
        writeUp: { description: 'Section of the write-up.', type: 'string', minLength: 1 },
        reference: { type: 'string', minLength: 1 }
      }
    },
    writeUpFigure: {
      description: 'What the write-up reports, shown beside our numbers in the report.',
      type: 'object',
      additionalProperties: false,
      required: ['text'],
      properties: {
        text: { type: 'string', minLength: 1 },
        values: {
          description: "The write-up's numbers keyed by our metric names.",
          type: 'object',
          propertyNames: { pattern: '^[A-Za-z0-9_:.-]+$' },
          additionalProperties: { type: 'number' }
        }
      }
    },
    experiment: { description: 'An experiment kind from src/experiments/registry.ts.', type: 'string', minLength: 1 },
    tiers: {
      description: 'fast and full for a claim; a control (controlOf) needs only fast.',
      type: 'object',
      additionalProperties: false,
      required: ['fast'],
      properties: Object.fromEntries(TIERS.map((t) => [t, { $ref: '#/$defs/tier' }]))
    },
    assertions: {
      type: 'array',
      minItems: 1,
      items: { $ref: '#/$defs/assertion' }
    },
    preconditions: {
      description: 'What a run must show before its assertions count (the model learned, the attack works, …), checked seed by seed: a seed outside a precondition\'s region makes the verdict error.',
      type: 'array',
      minItems: 1,
      items: { $ref: '#/$defs/precondition' }
    },
    notes: { description: 'Free text: scales tried, their numbers.', type: 'string' },
    controlOf: {
      description: "The id of the claim this spec is a positive control of: the claim's assertions on a setting where the effect is present.",
      type: 'string',
      pattern: '^[a-z0-9]+(-[a-z0-9]+)*$'
    }
  },
  // A claim has every required tier; a control only the tiers it was measured at.
  if: { properties: { controlOf: true }, required: ['controlOf'] },
  then: true,
  else: { properties: { tiers: { type: 'object', properties: Object.fromEntries(REQUIRED_TIERS.map((t) => [t, true])), required: [...REQUIRED_TIERS] } } },
  $defs: {
    verdict: enumOf(VERDICTS),
    tier: {
      type: 'object',
      additionalProperties: false,
      required: ['seeds', 'params', 'expected', 'rationale'],
      properties: {
        seeds: {
          type: 'array',
          minItems: 1,
          uniqueItems: true,
          items: { type: 'integer', minimum: 0 }
        },
        params: { description: "Checked against the experiment kind's paramsSchema.", type: 'object' },
        expected: { description: 'error only for a setting known not to decide: the rationale says which precondition fails.', enum: [...VERDICTS, 'error'] },
        rationale: { description: 'Why these numbers (what was measured).', type: 'string', minLength: 1 },
        timeoutMinutes: { type: 'number', exclusiveMinimum: 0 },
        suite: {
          description: "claims-only: too slow for npm test's claim suite; `label-leak run` runs it and a unit test checks its committed record.",
          enum: [...SUITES]
        }
      }
    },
    precondition: {
      description: "Each finished seed's value of metric (− minus) must lie in the region op threshold ± tolerance (tolerance widens ≤, ≥ and within, narrows < and >, as for assertions); else the verdict is error. inEveryCellWith (a sweep): in every cell whose coordinates satisfy these conditions; {} is every cell.",
      type: 'object',
      additionalProperties: false,
      required: ['name', 'metric', 'op', 'threshold'],
      properties: {
        name: { type: 'string', minLength: 1 },
        metric: { type: 'string', minLength: 1 },
        minus: { description: 'Makes the checked value metric − minus.', type: 'string', minLength: 1 },
        op: enumOf(OPS),
        threshold: { type: 'number' },
        tolerance: { description: 'Default 0.', type: 'number', minimum: 0 },
        tiers: {
          description: 'Tiers this precondition applies to; absent: all.',
          type: 'array',
          minItems: 1,
          uniqueItems: true,
          items: enumOf(TIERS)
        },
        inEveryCellWith: {
          description: 'Axis name → a value or a condition such as ">= 16"; {} is every cell.',
          type: 'object',
          additionalProperties: { anyOf: [{ type: 'number' }, { type: 'string' }, { type: 'boolean' }] },
        }
      }
    },
    assertion: {
      description: 'A plain assertion (metric op threshold ± tolerance), or one about the cells of a sweep: inEveryCellWith selects cells by axis conditions; risesWith / fallsWith names an axis along which the metric must rise (fall) between every two neighbouring cells (src/claims/cells.ts).',
      type: 'object',
      additionalProperties: false,
      required: ['name', 'metric', 'tolerance'],
      if: {
        anyOf: [
          { properties: { risesWith: true }, required: ['risesWith'] },
          { properties: { fallsWith: true }, required: ['fallsWith'] },
        ],
      },
      then: true,
      else: { properties: { op: true, threshold: true }, required: ['op', 'threshold'] },
      properties: {
        name: { type: 'string', minLength: 1 },
        metric: { type: 'string', minLength: 1 },
        minus: { description: 'Makes the asserted value metric − minus.', type: 'string', minLength: 1 },
        op: enumOf(OPS),
        threshold: { type: 'number' },
        tolerance: { type: 'number', minimum: 0 },
        tiers: {
          description: 'Tiers this assertion applies to; absent: all.',
          type: 'array',
          minItems: 1,
          uniqueItems: true,
          items: enumOf(TIERS)
        },
        inEveryCellWith: {
          description: 'Every cell whose coordinates satisfy all of these: axis name → a value (equality) or a string such as ">= 16", "< 8", "!= half".',
          type: 'object',
          minProperties: 1,
          additionalProperties: { anyOf: [{ type: 'number' }, { type: 'string' }, { type: 'boolean' }] },
        },
        risesWith: { description: 'Axis along which metric{next} − metric{previous} must be above threshold (default 0) for every two neighbouring cells.', type: 'string', minLength: 1 },
        fallsWith: { description: 'Axis along which metric{next} − metric{previous} must be below threshold (default 0) for every two neighbouring cells.', type: 'string', minLength: 1 }
      }
    }
  }
};
