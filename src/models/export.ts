import * as tf from '@tensorflow/tfjs';
import { BN_EPSILON } from './batch-norm.ts';
import { resnetBlocksPerStage, RESNET_STAGE_CHANNELS } from './resnet.ts';
import { FASTNET_DEFAULTS } from './fastnet.ts';
import type { InputShape, ModelSpec } from './spec.ts';
import type { Classifier } from './types.ts';
import { modelFiles, modelJsonPath } from './model-files.ts';

/**
 * A trained Classifier as a Keras-style tf.LayersModel with the same weights, so it can be
 * saved in the format every tfjs user loads (`tf.loadLayersModel`, model.json + weights.bin)
 * and that tensorflowjs_converter turns into a Keras model. The project's own layers map onto
 * Keras layers one for one (same weight layouts: dense [in, out], conv [k, k, in, out], NHWC
 * flattening); the one exception is the ResNet's parameter-free shortcut (subsample and pad
 * with zero channels), which becomes a fixed 1×1 convolution whose kernel is an identity
 * padded with zeros: exact, and built only from stock layers, so no custom layer has to be
 * registered to load the file.
 */
export function toLayersModel(model: Classifier, spec: ModelSpec, input: InputShape): tf.LayersModel {
  const trainable = [...model.trainable];
  const state = [...model.state];
  const take = (from: tf.Variable[], n: number, what: string): tf.Tensor[] => {
    if (from.length < n) throw new Error(`export ${model.name}: ran out of ${what} variables (the model does not match its spec)`);
    return from.splice(0, n);
  };
  const shape: [number, number, number] = [input.height, input.width, input.channels];
  const x = tf.input({ shape });
  const assignments: [tf.layers.Layer, () => tf.Tensor[]][] = [];
  const layer = <L extends tf.layers.Layer>(l: L, weights: () => tf.Tensor[]): L => {
    assignments.push([l, weights]);
    return l;
  };
  const dense = (units: number, relu: boolean) =>
    layer(tf.layers.dense({ units, activation: relu ? 'relu' : 'linear' }), () => take(trainable, 2, 'trainable'));
  const conv = (filters: number, strides: number, bias: boolean, relu: boolean) =>
    layer(
      tf.layers.conv2d({ filters, kernelSize: 3, strides, padding: 'same', useBias: bias, activation: relu ? 'relu' : 'linear' }),
      () => take(trainable, bias ? 2 : 1, 'trainable'),
    );
  const batchNorm = () =>
    layer(tf.layers.batchNormalization({ axis: 3, epsilon: BN_EPSILON }), () => [
      ...take(trainable, 2, 'trainable'),
      ...take(state, 2, 'state'),
    ]);

  let y: tf.SymbolicTensor;
  switch (spec.kind) {
    case 'mlp': {
      y = tf.layers.flatten().apply(x) as tf.SymbolicTensor;
      for (const units of spec.hidden) y = dense(units, true).apply(y) as tf.SymbolicTensor;
      y = dense(model.numClasses, false).apply(y) as tf.SymbolicTensor;
      break;
    }
    case 'cnn': {
      y = x;
      for (const c of spec.channels) y = conv(c, 2, true, true).apply(y) as tf.SymbolicTensor;
      y = tf.layers.flatten().apply(y) as tf.SymbolicTensor;
      if (spec.dense) y = dense(spec.dense, true).apply(y) as tf.SymbolicTensor;
      y = dense(model.numClasses, false).apply(y) as tf.SymbolicTensor;
      break;
    }
    case 'resnet': {
      const width = spec.width ?? 1;
      const k = resnetBlocksPerStage(spec.depth);
      const relu = (t: tf.SymbolicTensor) => tf.layers.activation({ activation: 'relu' }).apply(t) as tf.SymbolicTensor;
      // Layers take their weights in the order they are created, which must be the model's order: conv, then its BatchNorm.
      const convBn = (filters: number, stride: number, input: tf.SymbolicTensor) => {
        const c = conv(filters, stride, false, false).apply(input) as tf.SymbolicTensor;
        return batchNorm().apply(c) as tf.SymbolicTensor;
      };
      y = relu(convBn(RESNET_STAGE_CHANNELS[0] * width, 1, x));
      let c = RESNET_STAGE_CHANNELS[0] * width;
      RESNET_STAGE_CHANNELS.forEach((base, s) => {
        const out = base * width;
        for (let b = 0; b < k; b++) {
          const stride = s > 0 && b === 0 ? 2 : 1;
          const r = relu(convBn(out, stride, y));
          const f = convBn(out, 1, r);
          let short = y;
          if (stride !== 1 || out !== c) {
            const inC = c;
            short = layer(tf.layers.conv2d({ filters: out, kernelSize: 1, strides: stride, padding: 'valid', useBias: false, trainable: false }), () => [
              tf.tidy(() => tf.reshape(tf.eye(inC, out), [1, 1, inC, out])),
            ]).apply(y) as tf.SymbolicTensor;
          }
          y = relu(tf.layers.add().apply([f, short]) as tf.SymbolicTensor);
          c = out;
        }
      });
      y = tf.layers.globalAveragePooling2d({}).apply(y) as tf.SymbolicTensor;
      y = dense(model.numClasses, false).apply(y) as tf.SymbolicTensor;
      break;
    }
    case 'fastnet': {
      const o = { ...FASTNET_DEFAULTS, ...spec };
      const convBnRelu = (filters: number, input: tf.SymbolicTensor, pool: boolean) => {
        let t = conv(filters, 1, false, false).apply(input) as tf.SymbolicTensor;
        if (pool) t = tf.layers.maxPooling2d({ poolSize: 2, strides: 2, padding: 'valid' }).apply(t) as tf.SymbolicTensor;
        t = batchNorm().apply(t) as tf.SymbolicTensor;
        return tf.layers.activation({ activation: 'relu' }).apply(t) as tf.SymbolicTensor;
      };
      y = convBnRelu(o.stem, x, false);
      for (const w of o.widths) y = convBnRelu(w, convBnRelu(w, y, true), false);
      y = tf.layers.globalMaxPooling2d({}).apply(y) as tf.SymbolicTensor;
      // The fixed logit scale folded into the bias-free head's kernel (a new tensor, freed below).
      y = layer(tf.layers.dense({ units: model.numClasses, useBias: false }), () => [
        tf.tidy(() => tf.mul(take(trainable, 1, 'trainable')[0], o.scale)),
      ]).apply(y) as tf.SymbolicTensor;
      break;
    }
  }
  const built = tf.model({ inputs: x, outputs: y, name: model.name.replace(/[^A-Za-z0-9_]/g, '_') });
  for (const [l, weights] of assignments) {
    const ws = weights();
    l.setWeights(ws);
    // Only the identity shortcut kernels and the scaled head are created here; the model's own variables stay the model's.
    for (const w of ws) if (!(w instanceof tf.Variable)) w.dispose();
  }
  if (trainable.length > 0 || state.length > 0) {
    built.dispose();
    throw new Error(`export ${model.name}: ${trainable.length + state.length} variables left over (the model does not match its spec)`);
  }
  return built;
}

/**
 * A loaded tfjs model as the attacks and metrics see a Classifier. `outputs: 'probabilities'`
 * (a model that ends in softmax) takes logs, which are logits up to a per-example constant
 * and so give the same softmax, loss and gradients.
 */
export function classifierOf(
  net: tf.LayersModel | tf.GraphModel,
  opts: { name: string; numClasses: number; outputs: 'logits' | 'probabilities' },
): Classifier {
  return {
    name: opts.name,
    numClasses: opts.numClasses,
    trainable: [],
    state: [],
    logits: (x) =>
      tf.tidy(() => {
        // apply (training off: BatchNorm on its moving averages, no dropout) and execute are
        // plain tfjs ops, so the attacks' gradients flow through them.
        const out = (net instanceof tf.GraphModel ? net.execute(x) : net.apply(x, { training: false })) as tf.Tensor;
        const y = out.reshape([x.shape[0], -1]) as tf.Tensor2D;
        return opts.outputs === 'probabilities' ? (tf.log(tf.maximum(y, 1e-12)) as tf.Tensor2D) : y;
      }),
    dispose: () => net.dispose(),
  };
}


/**
 * Writes a trained Classifier as a tfjs layers model: `dir`/model.json (topology, weights
 * manifest, `metadata` as userDefinedMetadata) and `dir`/weights.bin. Returns model.json's path.
 */
export async function saveClassifier(model: Classifier, spec: ModelSpec, input: InputShape, dir: string, metadata: Record<string, unknown>): Promise<string> {
  const layers = toLayersModel(model, spec, input);
  try {
    layers.setUserDefinedMetadata(metadata);
    await layers.save(modelFiles(dir));
  } finally {
    layers.dispose();
  }
  return modelJsonPath(dir);
}
