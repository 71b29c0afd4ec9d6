import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { listBackends, startBackend } from '../../src/backend/select.ts';
import { buildClassifier, type ModelSpec } from '../../src/models/spec.ts';
import { makeRng } from '../../src/util/rng.ts';

/**
 * Forward and gradient passes of every model leave no tensor behind, on every backend that
 * starts here: tf.memory().numTensors is the same before and after repeated calls, and so
 * is the backend's own count of buffers, which also sees what kernels composed of other
 * kernels (src/backend/wasm-*.ts) allocate below the engine.
 */
// Small enough for the cpu backend's ResNet pass to take a second, not ten.
const tiny = { height: 4, width: 4, channels: 3 };
const specs: ModelSpec[] = [
  { kind: 'mlp', hidden: [16] },
  { kind: 'cnn', channels: [4, 8], dense: 8 },
  { kind: 'resnet', depth: 8 },
  { kind: 'fastnet', stem: 4, widths: [4, 8] },
];

// Probed once: the backends that really start on this machine (webgpu and tensorflow do not here).
const started = (await listBackends()).filter((b) => b.info !== undefined).map((b) => b.name);

// On webgpu (SwiftShader here, compiling every new shader on the CPU) the ResNet would cost
// minutes; its kernels have property tests of their own.
describe.each(started)('on %s', (backend) => {
  it.each(specs.filter((s) => backend !== 'webgpu' || s.kind !== 'resnet').map((s) => [s.kind, s] as const))('%s: repeated forward + weight and input gradients do not grow numTensors or backend buffers', async (_, spec) => {
    await startBackend(backend);
    const m = buildClassifier(spec, tiny, 10, makeRng(1, 'model'));
    const x = tf.randomUniform([4, tiny.height, tiny.width, tiny.channels], 0, 1, 'float32', 1) as tf.Tensor4D;
    const y = tf.oneHot(tf.tensor1d([0, 1, 2, 3], 'int32'), 10);
    const loss = (input: tf.Tensor4D, training: boolean) => tf.losses.softmaxCrossEntropy(y, m.logits(input, training)) as tf.Scalar;
    const once = () => {
      const { value, grads } = tf.variableGrads(() => loss(x, true), m.trainable);
      const dx = tf.grad((input: tf.Tensor) => loss(input as tf.Tensor4D, false))(x);
      const evalLogits = m.logits(x, false);
      tf.dispose([value, dx, evalLogits, ...Object.values(grads)]);
    };
    once(); // kernels may cache on first use
    const before = tf.memory().numTensors;
    const buffersBefore = tf.engine().backend.numDataIds();
    for (let i = 0; i < 3; i++) once();
    expect(tf.memory().numTensors).toBe(before);
    expect(tf.engine().backend.numDataIds()).toBe(buffersBefore);
    tf.dispose([x, y]);
    m.dispose();
  }, backend === 'webgpu' ? 600_000 : undefined); // SwiftShader compiles each new shader on the CPU
});

it('probes at least wasm and cpu here', () => {
  expect(started).toEqual(expect.arrayContaining(['wasm', 'cpu']));
});
