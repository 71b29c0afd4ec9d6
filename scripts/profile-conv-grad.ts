// Where the wasm filter gradient's time goes (docs/backends.md, "Where a ResNet-20 step's
// time goes"), for the three 3×3 stride-1 layer shapes of ResNet-20 at batch 128:
//   npx tsx scripts/profile-conv-grad.ts [--threads N] [--repeats R]
// Each line is the median of R runs (default 9) after 2 warm-ups, in ms. The parts are what
// src/backend/ops/conv2d-backprop-filter.ts, conv2d-backprop-input.ts runs: two transposes, then one forward convolution whose
// "filter" is dy (8 MB here). tfjs-wasm caches an XNNPACK operator per filter tensor, so a
// convolution with a filter it has seen before skips repacking it; the gradient's filter is
// new every time.
import * as tf from '@tensorflow/tfjs';
import { parseArgs } from 'node:util';
import { releaseBackend, startBackend } from '../src/backend/select.ts';

const { values } = parseArgs({ options: { threads: { type: 'string', default: '1' }, repeats: { type: 'string', default: '9' } } });
const info = await startBackend('wasm', { threads: Number(values.threads) });
const repeats = Number(values.repeats);
console.log(`${info.name} ${info.version}, ${info.device}`);

function median(run: () => tf.Tensor): number {
  for (let i = 0; i < 2; i++) run().dispose();
  const ms: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    const r = run(); // wasm kernels are synchronous: the work is done when this returns
    ms.push(performance.now() - t0);
    r.dispose();
  }
  return ms.sort((a, b) => a - b)[repeats >> 1];
}

const SAME_3X3: [[0, 0], [number, number], [number, number], [0, 0]] = [[0, 0], [1, 1], [1, 1], [0, 0]];
for (const [n, side, c] of [[128, 32, 16], [128, 16, 32], [128, 8, 64]]) {
  const x = tf.randomNormal([n, side, side, c]) as tf.Tensor4D;
  const dy = tf.randomNormal([n, side, side, c]) as tf.Tensor4D;
  const w = tf.randomNormal([3, 3, c, c]) as tf.Tensor4D;
  const image = x.transpose([3, 1, 2, 0]) as tf.Tensor4D; // [Ci, H, W, N]
  const filter = dy.transpose([1, 2, 0, 3]) as tf.Tensor4D; // [OH, OW, N, Co]
  const images = tf.split(image, 4, 3) as tf.Tensor4D[];
  const filters = tf.split(filter, 4, 2) as tf.Tensor4D[];
  const rows: [string, number][] = [
    ['forward conv (the layer itself)', median(() => tf.conv2d(x, w, 1, 'same'))],
    ['filter gradient, whole kernel', median(() => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, c, c] }) as tf.Tensor)],
    ['  transpose x → [Ci, H, W, N]', median(() => x.transpose([3, 1, 2, 0]))],
    ['  transpose dy → [OH, OW, N, Co]', median(() => dy.transpose([1, 2, 0, 3]))],
    ['  convolution, operator cached', median(() => tf.conv2d(image, filter, 1, SAME_3X3))],
    ['  convolution, new filter (repacked)', median(() => tf.tidy(() => tf.conv2d(image, tf.add(filter, 0) as tf.Tensor4D, 1, SAME_3X3)))],
    // Tried: blocking the reduction over the batch, so each filter chunk stays in cache.
    ['  same, as 4 convolutions over batch chunks (operands pre-split, operators cached)', median(() => tf.tidy(() => tf.addN(images.map((im, i) => tf.conv2d(im, filters[i], 1, SAME_3X3)))))],
    ['  splitting the operands into those chunks', median(() => tf.tidy(() => tf.concat([...tf.split(image, 4, 3).map((t) => t.reshape([-1])), ...tf.split(filter, 4, 2).map((t) => t.reshape([-1]))])))],
  ];
  console.log(`\n${n}×${side}×${side}×${c}, 3×3×${c}×${c}, stride 1`);
  for (const [label, ms] of rows) console.log(`${label.padEnd(84)} ${ms.toFixed(1).padStart(6)} ms`);
  tf.dispose([x, dy, w, image, filter, ...images, ...filters]);
}
releaseBackend();
