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
          required: ['attack', 'fraction', 'epsSigma', 'lossWeight'],
          properties: {
            attack: { enum: ['fgsm', 'step-ll', 'step-rand'] },
            fraction: { type: 'number', minimum: 0, maximum: 1 },
            epsSigma: { type: 'number', minimum: 0 },
            epsMax: { type: 'number', exclusiveMinimum: 0 },
            lossWeight: { type: 'number', minimum: 0 },
          },
        },
      ],
    },
  },
} as const;

export const dataSelectionProperties = {
  dataset: { enum: ['mnist', 'fashion-mnist', 'cifar10'] },
  trainSubset: { type: 'integer', minimum: 10 },
  testSubset: { type: 'integer', minimum: 10 },
} as const;
