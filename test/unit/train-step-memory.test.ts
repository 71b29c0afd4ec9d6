import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { attack } from '../../src/attacks/index.ts';
import { ATTACK_NAMES } from '../../src/spec/names.ts';
import { BackendUnavailableError, startBackend } from '../../src/backend/select.ts';
import { buildClassifier, type ModelSpec } from '../../src/models/spec.ts';
import { Sgd } from '../../src/train/sgd.ts';
import { trainStep } from '../../src/train/step.ts';
import { makeRng } from '../../src/util/rng.ts';

// Every backend that can start on a machine is checked; the others are skipped by name below.
const backends = ['wasm', 'cpu', 'webgpu', 'tensorflow'] as const;
const available = new Map<string, string | undefined>();
for (const b of backends) {
  try {
    await startBackend(b);
    available.set(b, undefined);
  } catch (e) {
    if (!(e instanceof BackendUnavailableError)) throw e;
    available.set(b, e.message.split('\n')[0]);
  }
}

const models: ModelSpec[] = [
  { kind: 'mlp', hidden: [16] },
  { kind: 'cnn', channels: [4, 8] },
  { kind: 'resnet', depth: 8 },
];

// webgpu runs here on SwiftShader, which compiles every new shader on the CPU: the ResNet's
// dozens of shaders would cost minutes, so webgpu checks the MLP and the CNN (convolutions, their
// gradients, pooling, dense layers); the kernels the ResNet adds have property tests of their own.
const modelsOnSwiftshader = models.filter((m) => m.kind !== 'resnet');

describe.each(backends)('tensor count on %s', (backend) => {
  const why = available.get(backend);
  it.skipIf(why !== undefined)(
    why ? `skipped: ${backend} does not start here (${why})` : 'does not grow across adversarial training steps and attack calls',
    async () => {
      await startBackend(backend);
      const rng = makeRng(1);
      for (const spec of backend === 'webgpu' ? modelsOnSwiftshader : models) {
        const model = buildClassifier(spec, { height: 12, width: 12, channels: 3 }, 10, rng.fork(spec.kind));
        const sgd = new Sgd(model.trainable, { momentum: 0.9, nesterov: false, weightDecay: 1e-4 });
        const x = tf.randomUniform([8, 12, 12, 3]) as tf.Tensor4D;
        const y = tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7], 'int32');
        const step = async () => {
          const loss = trainStep(model, sgd, { x, y }, { attack: 'fgsm', fraction: 0.5, epsSigma: 8, lossWeight: 1 }, 0.01, rng);
          await loss.data();
          loss.dispose();
        };
        const attacks = () => ATTACK_NAMES.forEach((name) => attack(name, model, x, y, 4, { rng, steps: 2 }).dispose());
        await step();
        attacks();
        const before = tf.memory().numTensors;
        for (let i = 0; i < 3; i++) {
          await step();
          attacks();
        }
        expect(tf.memory().numTensors, `${spec.kind} on ${backend}`).toBe(before);
        sgd.dispose();
        model.dispose();
        tf.dispose([x, y]);
      }
    },
    backend === 'webgpu' ? 600_000 : undefined,
  );
});
