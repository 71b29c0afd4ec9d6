import type { Rng } from '../util/rng.ts';

/**
 * Initial weights drawn from the run's seeded streams in plain JavaScript, not with tfjs's
 * random ops, so the same seed gives bit-identical weights on every backend.
 */

/** He et al. (2015): N(0, 2 / fanIn), right for ReLU layers. */
export function heNormal(size: number, fanIn: number, rng: Rng): Float32Array {
  const std = Math.sqrt(2 / fanIn);
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = rng.normal() * std;
  return out;
}

/** Glorot & Bengio (2010): U(−l, l) with l = √(6 / (fanIn + fanOut)). */
export function glorotUniform(size: number, fanIn: number, fanOut: number, rng: Rng): Float32Array {
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = (2 * rng.next() - 1) * limit;
  return out;
}
