import * as tf from '@tensorflow/tfjs';
import type { KernelBackend, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { defineOp, runKernel } from '../op.ts';
import { flatProgram } from '../webgpu-program.ts';
import { scoped, upstream as wasmUpstream } from './wasm-shared.ts';
import { i32, run, upstream } from './webgpu-shared.ts';
import { throughRelu } from './grad-sum.ts';
import { shortcutOf } from './normalise.ts';
import { activation, channels } from './check.ts';

/** ∂ of the shortcut input of a batch norm with a shortcut (normalise.ts). */
export const BN_GRAD_SHORTCUT = 'LabelLeakBnGradShortcut';

export interface GradShortcutAttrs {
  relu: boolean;
  stride: number;
  /** The shortcut input's shape [N, H, W, C]. */
  shape: number[];
}

/**
 * The shortcut input's gradient: gy at the pixels the stride kept, 0 elsewhere, and only the
 * channels the input has (the appended zero channels have no source).
 */
function webgpuGradShortcut(args: { inputs: { dy: TensorInfo; y?: TensorInfo }; backend: unknown; attrs?: NamedAttrMap }): TensorInfo {
  const { dy, y } = args.inputs;
  const a = args.attrs as unknown as GradShortcutAttrs;
  const [, outH, outW, ch] = dy.shape;
  const [, sH, sW, sC] = a.shape;
  const program = flatProgram(
    `ll_bn_grad_shortcut_${a.relu ? 'relu' : 'linear'}`,
    ['DY', ...(a.relu ? ['Y'] : [])],
    tf.util.sizeFromShape(a.shape),
    `let c = index % uniforms.sC;
          let pixel = index / uniforms.sC;
          let w = pixel % uniforms.sW;
          let h = (pixel / uniforms.sW) % uniforms.sH;
          let n = pixel / (uniforms.sW * uniforms.sH);
          var g = 0.0;
          if (h % uniforms.stride == 0 && w % uniforms.stride == 0) {
            let i = ((n * uniforms.outH + h / uniforms.stride) * uniforms.outW + w / uniforms.stride) * uniforms.ch + c;
            g = ${upstream(a.relu)};
          }
          setOutputAtIndex(index, g);`,
    'outH : i32, outW : i32, ch : i32, sH : i32, sW : i32, sC : i32, stride : i32,',
  );
  const out = run(args.backend, program, [dy, ...(a.relu && y ? [y] : [])], [outH, outW, ch, sH, sW, sC, a.stride].map(i32));
  return { ...out, shape: a.shape };
}


/**
 * The shortcut input's gradient: gy at the pixels the stride kept, 0 elsewhere, on the input's
 * own channels. Spread by the reshape-and-pad of conv2d-backprop-input.ts's dilation, then cropped.
 */
function wasmGradShortcut(args: { inputs: { dy: TensorInfo; y?: TensorInfo }; backend: KernelBackend; attrs?: NamedAttrMap }): TensorInfo {
  const { inputs, backend } = args;
  const a = args.attrs as unknown as GradShortcutAttrs;
  const [n, oh, ow, ch] = inputs.dy.shape;
  const [, sh, sw, sc] = a.shape;
  const st = a.stride;
  return scoped(backend, (k) => {
    let g = wasmUpstream(k, inputs.dy, inputs.y, a.relu);
    if (sc < ch) g = k.run('Slice', { x: g }, { begin: [0, 0, 0, 0], size: [n, oh, ow, sc] });
    if (st === 1) return g === inputs.dy ? k.run('Identity', { x: g }) : g;
    const rows = k.run('Reshape', { x: g }, { shape: [n * oh, 1, ow, sc] });
    const spread = k.run('PadV2', { x: rows }, { paddings: [[0, 0], [0, st - 1], [0, 0], [0, (st - 1) * sc]], constantValue: 0 });
    const full = k.run('Reshape', { x: spread }, { shape: [n, oh * st, ow * st, sc] });
    if (oh * st === sh && ow * st === sw) return full;
    return k.run('Slice', { x: full }, { begin: [0, 0, 0, 0], size: [n, sh, sw, sc] });
  });
}

type GradShortcut = (dy: tf.Tensor4D, y: tf.Tensor4D | undefined, attrs: GradShortcutAttrs) => tf.Tensor4D;

export const gradShortcut = defineOp<GradShortcut>({
  name: 'batch-norm shortcut ∂',
  // The subsample's own gradient: gy at the kept pixels, 0 elsewhere, on the input's channels.
  reference: (dy, y, { relu, stride, shape }) =>
    tf.tidy(() => {
      const gy = throughRelu(dy, y, relu);
      const s = tf.zeros(shape);
      return tf.grad((t: tf.Tensor) => tf.sum(tf.mul(shortcutOf(t as tf.Tensor4D, stride, dy.shape[3]), gy)))(s) as tf.Tensor4D;
    }),
  fused: (dy, y, attrs) => runKernel(BN_GRAD_SHORTCUT, { dy, y: attrs.relu ? y : undefined }, attrs),
  kernels: { webgpu: { [BN_GRAD_SHORTCUT]: webgpuGradShortcut }, wasm: { [BN_GRAD_SHORTCUT]: wasmGradShortcut } },
  check: {
    run: (rng, call) => {
      const c = channels(rng);
      const stride = 1 + rng.int(2);
      const dy = activation(rng, c);
      const [n, h, w] = dy.shape;
      const shape = [n, h * stride - rng.int(stride), w * stride - rng.int(stride), stride === 1 ? c : 1 + rng.int(c)];
      return [call(dy, activation(rng, c, dy.shape), { relu: rng.next() < 0.5, stride, shape })];
    },
    tolerance: 0,
    why: 'it only moves gy\'s values (times a 0/1 step): any difference is a wrong position',
  },
});
