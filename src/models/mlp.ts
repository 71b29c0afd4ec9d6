import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../util/rng.ts';
import type { Classifier } from './types.ts';
import { applyDense, dense, disposeAll, variablePrefix, type Dense } from './layers.ts';
import type { InputShape } from './shape.ts';

/**
 * The write-up's MLP: flatten → ReLU hidden layers → logits. With no hidden layers it is
 * the linear softmax model the write-up fits on gradient-sign images.
 */
export function buildMlp(hidden: number[], input: InputShape, numClasses: number, rng: Rng): Classifier {
  const name = `mlp[${hidden.join(',')}]`;
  const prefix = variablePrefix(name);
  const widths = [input.height * input.width * input.channels, ...hidden, numClasses];
  const layers: Dense[] = [];
  for (let i = 0; i + 1 < widths.length; i++) {
    layers.push(dense(widths[i], widths[i + 1], rng.fork(`dense${i}`), `${prefix}/dense${i}`));
  }
  const trainable = layers.flatMap((l) => [l.w, l.b]);
  return {
    name,
    numClasses,
    trainable,
    state: [],
    logits: (x) =>
      tf.tidy(() => {
        let h = tf.reshape(x, [x.shape[0], widths[0]]) as tf.Tensor2D;
        layers.forEach((l, i) => {
          h = applyDense(l, h, i < layers.length - 1);
        });
        return h;
      }),
    dispose: () => disposeAll(trainable),
  };
}
