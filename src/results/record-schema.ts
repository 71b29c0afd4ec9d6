import { OPS, VERDICTS } from '../spec/claim.ts';
import { DATASET_NAMES, enumOf, TIERS } from '../spec/names.ts';

/** The fields an assertion's and a precondition's result share (record-types.ts CheckedQuantity). */
const checkedQuantity = {
  name: { type: 'string' },
  metric: { type: 'string' },
  minus: { type: 'string' },
  op: enumOf(OPS),
  threshold: { type: 'number' },
  tolerance: { type: 'number', minimum: 0 },
  region: { type: 'string' },
};

/**
 * JSON Schema (2020-12) of a result record (the authority; ./record-types.ts mirrors it).
 * src/results/result.schema.json is written from this (`npm run schemas`) for readers of
 * records; a unit test keeps the two equal.
 */
export const resultSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://label-leak.invalid/results/result.schema.json',
  title: 'label-leak result record',
  description: 'One run of one claim at one tier: per-seed outcomes, statistics per assertion, verdict, and what it ran on. Written by src/claims/runner.ts, read by the report; generated from src/results/record-schema.ts.',
  type: 'object',
  additionalProperties: false,
  required: [
    'format', 'claim', 'tier', 'params', 'paramsHash', 'expected', 'seeds', 'pendingSeeds', 'outcomes',
    'assertions', 'verdict', 'backend', 'environment', 'startedAt', 'finishedAt', 'wallSeconds'
  ],
  properties: {
    format: { const: 1 },
    claim: {
      type: 'object',
      additionalProperties: false,
      required: ['id', 'version', 'hash', 'title', 'statement', 'experiment', 'writeUpFigure', 'assertions'],
      properties: {
        // A claim id names the report's files: never a path.
        id: { type: 'string', pattern: '^[a-z0-9]+(-[a-z0-9]+)*$' },
        version: { type: 'integer', minimum: 1 },
        hash: { type: 'string', pattern: '^[0-9a-f]{16}$' },
        title: { type: 'string' },
        statement: { type: 'string' },
        experiment: { type: 'string' },
        writeUpFigure: {
          type: 'object',
          additionalProperties: false,
          required: ['text'],
          properties: {
            text: { type: 'string' },
            values: { type: 'object', additionalProperties: { type: 'number' } }
          }
        },
        assertions: { type: 'array', items: { $ref: '#/$defs/assertionSpec' } },
        preconditions: { type: 'array', items: { $ref: '#/$defs/assertionSpec' } },
        controlOf: { description: 'The claim this run is a positive control of (the spec\'s controlOf).', type: 'string', minLength: 1 }
      }
    },
    tier: { $ref: '#/$defs/tier' },
    params: { type: 'object' },
    paramsHash: { type: 'string', pattern: '^[0-9a-f]{16}$' },
    overrides: { type: 'array', items: { type: 'string' } },
    expected: { enum: [...VERDICTS, 'error'] },
    seeds: { $ref: '#/$defs/seedList' },
    pendingSeeds: { $ref: '#/$defs/seedList' },
    outcomes: { type: 'array', items: { $ref: '#/$defs/seedResult' } },
    assertions: { type: 'array', items: { $ref: '#/$defs/assertionResult' } },
    preconditions: { type: 'array', items: { $ref: '#/$defs/preconditionResult' } },
    verdict: enumOf([...VERDICTS, 'error']),
    backend: {
      type: 'object',
      additionalProperties: false,
      required: ['name', 'version', 'threads', 'device', 'reason'],
      properties: {
        name: { type: 'string' },
        version: { type: 'string' },
        threads: { type: 'integer', minimum: 0 },
        device: { type: 'string' },
        reason: { type: 'string' }
      }
    },
    environment: {
      type: 'object',
      additionalProperties: false,
      required: ['packages', 'gitCommit', 'gitDirty', 'node', 'machine'],
      properties: {
        packages: { type: 'object', additionalProperties: { type: 'string' } },
        gitCommit: { type: 'string', pattern: '^([0-9a-f]{40}|unknown)$' },
        gitDirty: { type: ['boolean', 'null'] },
        node: { type: 'string' },
        machine: {
          type: 'object',
          additionalProperties: false,
          required: ['cpuModel', 'cpus', 'os', 'memoryGiB'],
          properties: {
            cpuModel: { type: 'string' },
            cpus: { type: 'integer', minimum: 0 },
            os: { type: 'string' },
            memoryGiB: { type: 'number', minimum: 0 }
          }
        }
      }
    },
    data: {
      description: 'The data the seeds read, per dataset: files with their SHA-256 (of the content, after gunzip), where they came from, official or not. Absent in records made before records named their data.',
      type: 'array',
      items: { $ref: '#/$defs/dataUsed' }
    },
    startedAt: { $ref: '#/$defs/timestamp' },
    finishedAt: { $ref: '#/$defs/timestamp' },
    wallSeconds: { type: 'number', minimum: 0 }
  },
  $defs: {
    tier: enumOf(TIERS),
    verdict: enumOf(VERDICTS),
    timestamp: { description: 'ISO 8601, UTC (Date.toISOString).', type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?Z$' },
    seedList: { type: 'array', uniqueItems: true, items: { type: 'integer', minimum: 0 } },
    nullableNumber: { type: ['number', 'null'] },
    sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
    dataUsed: {
      type: 'object',
      additionalProperties: false,
      required: ['dataset', 'provenance', 'source', 'files', 'digest'],
      properties: {
        dataset: enumOf(DATASET_NAMES),
        provenance: { enum: ['official', 'unofficial-copy'] },
        source: {
          type: 'object',
          additionalProperties: false,
          required: ['kind', 'where'],
          properties: {
            kind: { enum: ['data-dir', 'npm-package', 'debian-package', 'folder'] },
            where: { type: 'string' },
            version: { type: 'string' }
          }
        },
        files: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['name', 'file', 'bytes', 'sha256'],
            properties: {
              name: { type: 'string', minLength: 1 },
              file: { type: 'string', minLength: 1 },
              bytes: { type: 'integer', minimum: 0 },
              sha256: { $ref: '#/$defs/sha256' }
            }
          }
        },
        digest: { $ref: '#/$defs/sha256' }
      }
    },
    assertionSpec: {
      type: 'object',
      additionalProperties: false,
      required: ['name', 'metric', 'op', 'threshold', 'tolerance'],
      properties: {
        name: { type: 'string' },
        metric: { type: 'string' },
        minus: { type: 'string' },
        op: enumOf(OPS),
        threshold: { type: 'number' },
        tolerance: { type: 'number', minimum: 0 },
        tiers: { type: 'array', items: { $ref: '#/$defs/tier' } }
      }
    },
    seedResult: {
      type: 'object',
      additionalProperties: false,
      required: ['seed', 'status', 'metrics', 'curves', 'wallSeconds', 'startedAt', 'finishedAt'],
      properties: {
        seed: { type: 'integer', minimum: 0 },
        status: { enum: ['ok', 'error'] },
        metrics: { type: 'object', additionalProperties: { type: 'number' } },
        curves: {
          type: 'object',
          additionalProperties: {
            type: 'array',
            items: { type: 'object', additionalProperties: { $ref: '#/$defs/nullableNumber' } }
          }
        },
        wallSeconds: { type: 'number', minimum: 0 },
        imagesPerSecond: { type: 'number', minimum: 0 },
        error: {
          type: 'object',
          additionalProperties: false,
          required: ['name', 'message'],
          properties: { name: { type: 'string' }, message: { type: 'string' } }
        },
        startedAt: { $ref: '#/$defs/timestamp' },
        finishedAt: { $ref: '#/$defs/timestamp' }
      },
      if: { properties: { status: { const: 'error' } } },
      then: { properties: { error: true }, required: ['error'] },
      else: { not: { properties: { error: true }, required: ['error'] } }
    },
    preconditionResult: {
      type: 'object',
      additionalProperties: false,
      required: ['name', 'metric', 'op', 'threshold', 'tolerance', 'region', 'seeds', 'values', 'failedSeeds', 'holds', 'summary'],
      properties: {
        ...checkedQuantity,
        seeds: { type: 'array', items: { type: 'integer' } },
        values: { type: 'array', items: { $ref: '#/$defs/nullableNumber' } },
        failedSeeds: { type: 'array', items: { type: 'integer' } },
        holds: { type: 'boolean' },
        summary: { type: 'string' }
      }
    },
    assertionResult: {
      type: 'object',
      additionalProperties: false,
      required: ['name', 'metric', 'op', 'threshold', 'tolerance', 'region', 'seeds', 'values', 'n', 'mean', 'sd', 'ci', 'verdict', 'summary'],
      properties: {
        ...checkedQuantity,
        seeds: { type: 'array', items: { type: 'integer' } },
        values: { type: 'array', items: { type: 'number' } },
        n: { type: 'integer', minimum: 0 },
        mean: { $ref: '#/$defs/nullableNumber' },
        sd: { $ref: '#/$defs/nullableNumber' },
        ci: {
          type: 'object',
          additionalProperties: false,
          required: ['low', 'high'],
          properties: { low: { $ref: '#/$defs/nullableNumber' }, high: { $ref: '#/$defs/nullableNumber' } }
        },
        verdict: { $ref: '#/$defs/verdict' },
        summary: { type: 'string' }
      }
    }
  }
};
