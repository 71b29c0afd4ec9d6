import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../util/rng.ts';
import type { Classifier } from './types.ts';
import { applyConv, applyDense, conv, dense, disposeAll, variablePrefix, type Conv, type Dense } from './layers.ts';
import type { InputShape } from './shape.ts';

/**
 * A small CNN: one 3×3 conv + ReLU per entry of `channels`, each with stride 2 (it halves
 * the image and costs a quarter of a stride-1 conv followed by pooling), then an optional
 * ReLU dense layer and the logits.
 */
export function buildCnn(
  channels: number[],
  denseUnits: number | undefined,
  input: InputShape,
  numClasses: number,
  rng: Rng,
): Classifier {
  if (channels.length === 0) throw new Error('cnn: channels must name at least one conv layer');
  const name = `cnn[${channels.join(',')}]${denseUnits ? `+dense${denseUnits}` : ''}`;
  const prefix = variablePrefix(name);
  const convs: Conv[] = [];
  let c = input.channels;
  let h = input.height;
  let w = input.width;
  channels.forEach((out, i) => {
    convs.push(conv(3, c, out, 2, true, rng.fork(`conv${i}`), `${prefix}/conv${i}`));
    c = out;
    h = Math.ceil(h / 2);
    w = Math.ceil(w / 2);
  });
  const flat = h * w * c;
  const hiddenLayer: Dense | undefined = denseUnits ? dense(flat, denseUnits, rng.fork('dense'), `${prefix}/dense`) : undefined;
  const out = dense(denseUnits ?? flat, numClasses, rng.fork('logits'), `${prefix}/logits`);
  const trainable = [
    ...convs.flatMap((l) => [l.w, l.b as tf.Variable]),
    ...(hiddenLayer ? [hiddenLayer.w, hiddenLayer.b] : []),
    out.w,
    out.b,
  ];
  return {
    name,
    numClasses,
    trainable,
    state: [],
    logits: (x) =>
      tf.tidy(() => {
        let y = x;
        for (const l of convs) y = applyConv(l, y, true);
        let z = tf.reshape(y, [x.shape[0], flat]) as tf.Tensor2D;
        if (hiddenLayer) z = applyDense(hiddenLayer, z, true);
        return applyDense(out, z, false);
      }),
    dispose: () => disposeAll(trainable),
  };
}
