import * as tf from '@tensorflow/tfjs';
import type { GradConfig, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { defineOp, normals } from './op.ts';
import { flatProgram, type WebgpuBackendLike } from './webgpu-program.ts';

/**
 * Global average pooling of NHWC images, tf.mean(x, [1, 2]), as one kernel forward and one
 * backward on webgpu. tfjs-backend-webgpu's Mean transposes the activation and reduces it (two
 * dispatches), and its gradient, div(mul(dy, ones(x.shape)), h·w), uploads a whole `ones`
 * tensor of the activation's size and a scalar every step. Same arithmetic as the cpu backend's
 * Mean (each value divided by h·w, then summed in order over the positions) and its gradient
 * (dy / h·w everywhere).
 */
export const GLOBAL_AVERAGE_POOL = 'LabelLeakGlobalAveragePool';
export const GLOBAL_AVERAGE_POOL_GRAD = 'LabelLeakGlobalAveragePoolGrad';

function forward(args: { inputs: { x: TensorInfo }; backend: unknown }): TensorInfo {
  const { x } = args.inputs;
  const [batch, height, width, channels] = x.shape;
  const program = flatProgram(
    'll_global_avg_pool',
    ['X'],
    batch * channels,
    `let c = uniforms.channels;
          let image = index / c;
          let base = image * uniforms.positions * c + (index - image * c);
          var total = 0.0;
          for (var p = 0; p < uniforms.positions; p = p + 1) { total = total + X[base + p * c] / uniforms.count; }
          setOutputAtIndex(index, total);`,
    'channels : i32, positions : i32, count : f32,',
  );
  const out = (args.backend as WebgpuBackendLike).runWebGPUProgram(program, [x], 'float32', [
    { type: 'int32', data: [channels] },
    { type: 'int32', data: [height * width] },
    { type: 'float32', data: [height * width] },
  ]);
  return { dataId: out.dataId, shape: [batch, channels], dtype: out.dtype };
}

interface GradAttrs {
  height: number;
  width: number;
}

function backward(args: { inputs: { dy: TensorInfo }; backend: unknown; attrs?: NamedAttrMap }): TensorInfo {
  const { dy } = args.inputs;
  const { height, width } = args.attrs as unknown as GradAttrs;
  const [batch, channels] = dy.shape;
  const program = flatProgram(
    'll_global_avg_pool_grad',
    ['Dy'],
    batch * height * width * channels,
    `let c = uniforms.channels;
          let image = index / (uniforms.positions * c);
          setOutputAtIndex(index, Dy[image * c + index % c] / uniforms.count);`,
    'channels : i32, positions : i32, count : f32,',
  );
  const out = (args.backend as WebgpuBackendLike).runWebGPUProgram(program, [dy], 'float32', [
    { type: 'int32', data: [channels] },
    { type: 'int32', data: [height * width] },
    { type: 'float32', data: [height * width] },
  ]);
  return { dataId: out.dataId, shape: [batch, height, width, channels], dtype: out.dtype };
}

const gradient: GradConfig = {
  kernelName: GLOBAL_AVERAGE_POOL,
  inputsToSave: ['x'],
  gradFunc: (dy, saved) => {
    const [, height, width] = saved[0].shape;
    return { x: () => tf.engine().runKernel(GLOBAL_AVERAGE_POOL_GRAD, { dy: dy as tf.Tensor }, { height, width }) as tf.Tensor };
  },
};

type GlobalAveragePool = (x: tf.Tensor4D) => tf.Tensor2D;

/** The mean of each image's channels over its positions, [batch, h, w, c] → [batch, c]. */
export const globalAveragePool = defineOp<GlobalAveragePool>({
  name: 'global average pool',
  reference: (x) => tf.mean(x, [1, 2]) as tf.Tensor2D,
  fused: (x) => tf.engine().runKernel(GLOBAL_AVERAGE_POOL, { x }, {}) as tf.Tensor2D,
  kernels: { webgpu: { [GLOBAL_AVERAGE_POOL]: forward, [GLOBAL_AVERAGE_POOL_GRAD]: backward } },
  // Reached only on backends with the forward kernel.
  gradients: [gradient],
  check: {
    run: (rng, call) => {
      const shape: [number, number, number, number] = [1 + rng.int(3), 1 + rng.int(6), 1 + rng.int(6), 1 + rng.int(9)];
      const x = tf.tensor4d(normals(tf.util.sizeFromShape(shape), rng), shape);
      const dy = tf.tensor2d(normals(shape[0] * shape[3], rng), [shape[0], shape[3]]);
      const { value, grad } = tf.valueAndGrad((xi: tf.Tensor) => call(xi as tf.Tensor4D))(x, dy);
      return [value, grad];
    },
    tolerance: 1e-6,
    why: 'both divide each value by h·w and sum in the same order, so only WGSL\'s division may round differently (2.5 ulps a term); a missed position, channel or image, or a wrong divisor, is off by far more',
  },
});
