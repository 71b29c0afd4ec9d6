import type * as tf from '@tensorflow/tfjs';

/**
 * A classifier as the training loop and the attacks see it: a function from images in
 * [0, 1] (NHWC) to logits, and the variables the optimiser updates.
 */
export interface Classifier {
  readonly name: string;
  readonly numClasses: number;
  /** Trainable variables, in a fixed order (checkpoints rely on it). */
  readonly trainable: tf.Variable[];
  /** Non-trainable state (BatchNorm moving averages), saved with checkpoints. */
  readonly state: tf.Variable[];
  /**
   * Logits. `training: true` uses batch statistics in BatchNorm and updates its moving
   * averages; `false` uses the moving averages and changes nothing.
   */
  logits(x: tf.Tensor4D, training: boolean): tf.Tensor2D;
  dispose(): void;
}
