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
