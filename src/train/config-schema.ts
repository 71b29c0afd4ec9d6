import { DATASET_NAMES, enumOf, TRAINING_ATTACK_NAMES } from '../spec/names.ts';
import { epsDistributions } from './step.ts';

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
        anneal: { enum: ['linear'] },
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
          required: ['attack', 'fraction', 'lossWeight'],
          properties: {
            attack: enumOf(TRAINING_ATTACK_NAMES),
            // 1 = every example adversarial, no clean images (Wong, Rice & Kolter 2020).
            fraction: { type: 'number', minimum: 0, maximum: 1 },
            // half-normal: ε ~ |N(0, epsSigma)|, the write-up and Kurakin et al. 2016 §4.1;
            // fixed: ε = eps, Goodfellow et al. 2015 and Wong et al. 2020;
            // uniform: ε ~ U(0, eps).
            epsDist: { enum: epsDistributions },
            epsSigma: { type: 'number', minimum: 0 },
            eps: { type: 'number', minimum: 0 },
            epsMax: { type: 'number', exclusiveMinimum: 0 },
            // FGSM-RS, Wong, Rice & Kolter 2020 (arXiv:2001.03994), Algorithm 3: δ ~ U(−ε, ε), step stepRatio·ε (1.25).
            randomStart: {
              type: 'object',
              additionalProperties: false,
              required: ['stepRatio'],
              properties: { stepRatio: { type: 'number', exclusiveMinimum: 0 } },
            },
            lossWeight: { type: 'number', minimum: 0 },
            steps: { type: 'integer', minimum: 0 },
            stepSize: { type: 'number', exclusiveMinimum: 0 },
          },
          allOf: [
            // Each distribution names the one field it draws from; absent epsDist is the half normal.
            {
              if: { properties: { epsDist: { enum: ['fixed', 'uniform'] } }, required: ['epsDist'] },
              then: { properties: { eps: true }, required: ['eps'] },
              else: { properties: { epsSigma: true }, required: ['epsSigma'] },
            },
            // PGD's step count cannot default from one ε when each example draws its own.
            {
              if: { properties: { attack: { const: 'pgd' } } },
              then: { properties: { steps: true }, required: ['steps'] },
              else: { properties: { steps: false, stepSize: false } },
            },
          ],
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
