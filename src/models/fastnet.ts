import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../util/rng.ts';
import type { Classifier } from './types.ts';
import { glorotUniform } from './init.ts';
import { applyConv, conv, disposeAll, variable, variablePrefix, type Conv } from './layers.ts';
import { applyBatchNorm, batchNorm, bnVariables, type BatchNorm } from './batch-norm.ts';
import type { InputShape } from './shape.ts';

/**
 * A fast-training CIFAR network in the shape of KellerJordan/airbench (itself hlb-CIFAR10's
 * net with the last block narrowed) and David Page's ResNet-9 without its residual
 * branches: a 3×3 conv stem, then one group per entry of `widths`:
 *
 *   conv 3×3 → max-pool 2×2 → BatchNorm → ReLU → conv 3×3 → BatchNorm → ReLU
 *
 * then a global max pool, a bias-free dense layer and a fixed scale on the logits. Pooling
 * before the first BatchNorm (airbench's order) normalises a quarter of the pixels. ReLU,
 * not airbench's GELU: a smooth activation blurs the gradient sign FGSM reads, which is
 * what label leaking is about. Why each piece is here, and what was left out: docs/models.md.
 */
export const FASTNET_DEFAULTS = { stem: 32, widths: [64, 256, 256], scale: 0.125 } as const;

interface Group {
  conv1: Conv;
  bn1: BatchNorm;
  conv2: Conv;
  bn2: BatchNorm;
}

export interface FastnetOptions {
  /** Channels of the stem conv (full resolution). */
  stem: number;
  /** Channels of each conv group; each group halves the image. */
  widths: number[];
  /** Logits are multiplied by this (airbench 1/9, ResNet-9 1/8): it sets the softmax's starting temperature. */
  scale: number;
}

export function buildFastnet(opts: FastnetOptions, input: InputShape, numClasses: number, rng: Rng): Classifier {
  const { stem: stemWidth, widths, scale } = opts;
  if (widths.length === 0) throw new Error('fastnet: widths must name at least one conv group');
  let side = Math.min(input.height, input.width);
  for (let i = 0; i < widths.length; i++) side = Math.floor(side / 2);
  if (side < 1) {
    throw new Error(
      `fastnet: ${widths.length} groups halve a ${input.height}×${input.width} image to nothing; use at most ${Math.floor(Math.log2(Math.min(input.height, input.width)))} widths`,
    );
  }
  const name = `fastnet[${stemWidth};${widths.join(',')}]`;
  const prefix = variablePrefix(name);
  const stem = conv(3, input.channels, stemWidth, 1, false, rng.fork('stem'), `${prefix}/stem`);
  const stemBn = batchNorm(stemWidth, `${prefix}/stem_bn`);
  const groups: Group[] = [];
  let c = stemWidth;
  widths.forEach((out, i) => {
    const r = rng.fork(`group${i}`);
    const id = `${prefix}/group${i}`;
    groups.push({
      conv1: conv(3, c, out, 1, false, r.fork('conv1'), `${id}/conv1`),
      bn1: batchNorm(out, `${id}/bn1`),
      conv2: conv(3, out, out, 1, false, r.fork('conv2'), `${id}/conv2`),
      bn2: batchNorm(out, `${id}/bn2`),
    });
    c = out;
  });
  // No bias, as in both recipes: the logits' offset carries no information after a softmax.
  const head = variable(glorotUniform(c * numClasses, c, numClasses, rng.fork('logits')), [c, numClasses], `${prefix}/logits/w`);

  const trainable: tf.Variable[] = [stem.w, ...bnVariables(stemBn).trainable];
  const state: tf.Variable[] = [...bnVariables(stemBn).state];
  for (const g of groups) {
    trainable.push(g.conv1.w, ...bnVariables(g.bn1).trainable, g.conv2.w, ...bnVariables(g.bn2).trainable);
    state.push(...bnVariables(g.bn1).state, ...bnVariables(g.bn2).state);
  }
  trainable.push(head);

  return {
    name,
    numClasses,
    trainable,
    state,
    logits: (x, training) =>
      tf.tidy(() => {
        let y = applyBatchNorm(stemBn, applyConv(stem, x, false), training, true);
        for (const g of groups) {
          const pooled = tf.maxPool(applyConv(g.conv1, y, false), 2, 2, 'valid') as tf.Tensor4D;
          const r = applyBatchNorm(g.bn1, pooled, training, true);
          y = applyBatchNorm(g.bn2, applyConv(g.conv2, r, false), training, true);
        }
        const features = tf.max(y, [1, 2]) as tf.Tensor2D;
        return tf.mul(tf.matMul(features, head as tf.Tensor2D), scale) as tf.Tensor2D;
      }),
    dispose: () => disposeAll([...trainable, ...state]),
  };
}
