import * as tf from '@tensorflow/tfjs';
import { globalAveragePool } from '../backend/ops/index.ts';
import type { Rng } from '../util/rng.ts';
import type { Classifier } from './types.ts';
import { applyConv, applyDense, conv, dense, disposeAll, variablePrefix, type Conv } from './layers.ts';
import { applyBatchNorm, batchNorm, bnVariables, type BatchNorm, type Residual } from './batch-norm.ts';
import type { InputShape } from './shape.ts';

/** He et al. (2016), §4.2: depth n = 6k + 2, three stages of k two-conv blocks. */
export function resnetBlocksPerStage(depth: number): number {
  if (!Number.isInteger(depth) || depth < 8 || (depth - 2) % 6 !== 0) {
    throw new Error(
      `resnet: depth ${depth} is not of the form 6k+2 with k ≥ 1 (CIFAR ResNets are 20, 32, 44, 56, 110, …)`,
    );
  }
  return (depth - 2) / 6;
}

/** Base widths of the three stages; `width` multiplies them. */
export const RESNET_STAGE_CHANNELS = [16, 32, 64] as const;

interface Block {
  conv1: Conv;
  bn1: BatchNorm;
  conv2: Conv;
  bn2: BatchNorm;
  /** Shortcut needs subsampling and zero channels (the paper's option A, no parameters). */
  project: Residual['project'];
}

export function buildResnet(depth: number, width: number, input: InputShape, numClasses: number, rng: Rng): Classifier {
  const k = resnetBlocksPerStage(depth);
  if (!Number.isInteger(width) || width < 1) throw new Error(`resnet: width must be a positive integer, got ${width}`);
  const name = width === 1 ? `resnet${depth}` : `resnet${depth}x${width}`;
  const prefix = variablePrefix(name);
  const stem = conv(3, input.channels, RESNET_STAGE_CHANNELS[0] * width, 1, false, rng.fork('stem'), `${prefix}/stem`);
  const stemBn = batchNorm(RESNET_STAGE_CHANNELS[0] * width, `${prefix}/stem_bn`);
  const blocks: Block[] = [];
  let c = RESNET_STAGE_CHANNELS[0] * width;
  RESNET_STAGE_CHANNELS.forEach((base, s) => {
    const out = base * width;
    for (let b = 0; b < k; b++) {
      const stride = s > 0 && b === 0 ? 2 : 1;
      const id = `${prefix}/stage${s}/block${b}`;
      const r = rng.fork(`stage${s}/block${b}`);
      blocks.push({
        conv1: conv(3, c, out, stride, false, r.fork('conv1'), `${id}/conv1`),
        bn1: batchNorm(out, `${id}/bn1`),
        conv2: conv(3, out, out, 1, false, r.fork('conv2'), `${id}/conv2`),
        bn2: batchNorm(out, `${id}/bn2`),
        project: stride !== 1 || out !== c ? { stride, extraChannels: out - c } : null,
      });
      c = out;
    }
  });
  const head = dense(c, numClasses, rng.fork('logits'), `${prefix}/logits`);

  const trainable: tf.Variable[] = [stem.w, ...bnVariables(stemBn).trainable];
  const state: tf.Variable[] = [...bnVariables(stemBn).state];
  for (const b of blocks) {
    trainable.push(b.conv1.w, ...bnVariables(b.bn1).trainable, b.conv2.w, ...bnVariables(b.bn2).trainable);
    state.push(...bnVariables(b.bn1).state, ...bnVariables(b.bn2).state);
  }
  trainable.push(head.w, head.b);

  return {
    name,
    numClasses,
    trainable,
    state,
    logits: (x, training) =>
      tf.tidy(() => {
        let y = applyBatchNorm(stemBn, applyConv(stem, x, false), training, true);
        for (const b of blocks) {
          const r = applyBatchNorm(b.bn1, applyConv(b.conv1, y, false), training, true);
          y = applyBatchNorm(b.bn2, applyConv(b.conv2, r, false), training, true, { x: y, project: b.project });
        }
        const pooled = globalAveragePool(y);
        return applyDense(head, pooled, false);
      }),
    dispose: () => disposeAll([...trainable, ...state]),
  };
}
