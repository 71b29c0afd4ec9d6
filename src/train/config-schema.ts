import { DATASET_NAMES, enumOf, TRAINING_ATTACK_NAMES } from '../spec/names.ts';

/** JSON Schema (ajv strict) for `TrainConfig`, embedded in the experiment kinds' params schemas. */
export const trainConfigSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['epochs', 'batchSize', 'lr', 'momentum', 'nesterov', 'weightDecay'],
  properties: {
    epochs: { type: 'integer', minimum: 1 },
    batchSize: { type: 'integer', minimum: 1 },
    lr: {
      type: 'object',
      additionalProperties: false,
      required: ['base', 'milestones', 'gamma'],
      properties: {
        base: { type: 'number', exclusiveMinimum: 0 },
        milestones: { type: 'array', items: { type: 'number', minimum: 0 } },
        gamma: { type: 'number', exclusiveMinimum: 0 },
        warmupEpochs: { type: 'number', minimum: 0 },
      },
    },
    momentum: { type: 'number', minimum: 0, maximum: 1 },
    nesterov: { type: 'boolean' },
    weightDecay: { type: 'number', minimum: 0 },
    augment: {
      type: 'object',
      additionalProperties: false,
      required: ['crop', 'flip'],
      properties: { crop: { type: 'integer', minimum: 0 }, flip: { type: 'boolean' } },
    },
    adversarial: {
      oneOf: [
        { type: 'null' },
        {
          type: 'object',
          additionalProperties: false,
          required: ['attack', 'fraction', 'epsSigma', 'lossWeight'],
          properties: {
            attack: enumOf(TRAINING_ATTACK_NAMES),
            fraction: { type: 'number', minimum: 0, maximum: 1 },
            epsSigma: { type: 'number', minimum: 0 },
            epsMax: { type: 'number', exclusiveMinimum: 0 },
            lossWeight: { type: 'number', minimum: 0 },
            steps: { type: 'integer', minimum: 0 },
            stepSize: { type: 'number', exclusiveMinimum: 0 },
          },
          // PGD's step count cannot default from one ε when each example draws its own.
          if: { properties: { attack: { const: 'pgd' } } },
          then: { properties: { steps: true }, required: ['steps'] },
          else: { properties: { steps: false, stepSize: false } },
        },
      ],
    },
  },
} as const;

export const dataSelectionProperties = {
  dataset: enumOf(DATASET_NAMES),
  trainSubset: { type: 'integer', minimum: 10 },
  testSubset: { type: 'integer', minimum: 10 },
} as const;
