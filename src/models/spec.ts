import type { Rng } from '../util/rng.ts';
import type { Classifier } from './types.ts';
import type { InputShape } from './shape.ts';
import { buildMlp } from './mlp.ts';
import { buildCnn } from './cnn.ts';
import { buildResnet } from './resnet.ts';
import { buildFastnet, FASTNET_DEFAULTS } from './fastnet.ts';

export type { InputShape } from './shape.ts';

export type ModelSpec =
  | { kind: 'mlp'; hidden: number[] }
  | { kind: 'cnn'; channels: number[]; dense?: number }
  | { kind: 'resnet'; depth: number; width?: number }
  /** airbench-shaped conv groups (src/models/fastnet.ts); absent fields take FASTNET_DEFAULTS. */
  | { kind: 'fastnet'; widths?: number[]; stem?: number; scale?: number };

const positiveInt = { type: 'integer', minimum: 1 } as const;

/** JSON Schema (ajv strict mode) for ModelSpec; experiment params schemas embed it. */
export const modelSpecSchema = {
  oneOf: [
    {
      type: 'object',
      properties: {
        kind: { const: 'mlp' },
        hidden: { type: 'array', items: positiveInt },
      },
      required: ['kind', 'hidden'],
      additionalProperties: false,
    },
    {
      type: 'object',
      properties: {
        kind: { const: 'cnn' },
        channels: { type: 'array', items: positiveInt, minItems: 1 },
        dense: positiveInt,
      },
      required: ['kind', 'channels'],
      additionalProperties: false,
    },
    {
      type: 'object',
      properties: {
        kind: { const: 'resnet' },
        // 6k+2 is checked by buildClassifier, which names the valid depths.
        depth: { type: 'integer', minimum: 8 },
        width: positiveInt,
      },
      required: ['kind', 'depth'],
      additionalProperties: false,
    },
    {
      type: 'object',
      properties: {
        kind: { const: 'fastnet' },
        widths: { type: 'array', items: positiveInt, minItems: 1 },
        stem: positiveInt,
        scale: { type: 'number', exclusiveMinimum: 0 },
      },
      required: ['kind'],
      additionalProperties: false,
    },
  ],
} as const;

/**
 * Builds a seeded classifier: the same spec, input and seed give identical weights. Each
 * layer draws from its own fork of `rng`, so changing one layer never shifts another.
 */
export function buildClassifier(spec: ModelSpec, input: InputShape, numClasses: number, rng: Rng): Classifier {
  switch (spec.kind) {
    case 'mlp':
      return buildMlp(spec.hidden, input, numClasses, rng);
    case 'cnn':
      return buildCnn(spec.channels, spec.dense, input, numClasses, rng);
    case 'resnet':
      return buildResnet(spec.depth, spec.width ?? 1, input, numClasses, rng);
    case 'fastnet':
      return buildFastnet(
        {
          stem: spec.stem ?? FASTNET_DEFAULTS.stem,
          widths: spec.widths ?? [...FASTNET_DEFAULTS.widths],
          scale: spec.scale ?? FASTNET_DEFAULTS.scale,
        },
        input,
        numClasses,
        rng,
      );
  }
}

/** Number of trainable scalars (ResNet-20 ≈ 0.27 M). */
export function parameterCount(model: Classifier): number {
  return model.trainable.reduce((n, v) => n + v.size, 0);
}
