/** Why a training run stops early; callers up to the CLI tell the two apart. */

export class Interrupted extends Error {
  constructor() {
    super('interrupted; a checkpoint was written — run again with --resume to continue');
    this.name = 'Interrupted';
  }
}

/** Training diverged (NaN/Inf): the seed ends with an error verdict, never a pass. */
export class NonFiniteError extends Error {
  constructor(where: string, value: number) {
    super(`non-finite value ${value} in ${where}`);
    this.name = 'NonFiniteError';
  }
}

/** A schedule of zero steps (a batch larger than the data): an untrained model must never get a verdict. */
export class NoTrainingError extends Error {
  constructor(images: number, batchSize: number, epochs: number) {
    super(`0 training steps: batch size ${batchSize} is more than the ${images} training images (${epochs} epoch${epochs === 1 ? '' : 's'}); use a batch size of at most ${images}`);
    this.name = 'NoTrainingError';
  }
}
