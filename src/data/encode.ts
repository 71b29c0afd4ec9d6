import { CIFAR_PIXELS, CIFAR_PLANE, CIFAR_RECORD, CIFAR_SIDE } from './cifar10.ts';
import type { ImageSet } from './types.ts';

/** The IDX bytes of an unsigned-byte array (the inverse of parseIdx). */
export function encodeIdx(dims: number[], data: Uint8Array): Uint8Array {
  const header = 4 + 4 * dims.length;
  const out = new Uint8Array(header + data.length);
  const view = new DataView(out.buffer);
  out[2] = 0x08;
  out[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, header);
  return out;
}

/** The CIFAR binary records of a 32×32×3 set (the inverse of parseCifarBatch). */
export function encodeCifar(set: ImageSet): Uint8Array {
  if (set.height !== CIFAR_SIDE || set.width !== CIFAR_SIDE || set.channels !== 3) {
    throw new RangeError(`encodeCifar: images must be 32×32×3, got ${set.height}×${set.width}×${set.channels}`);
  }
  const out = new Uint8Array(set.count * CIFAR_RECORD);
  for (let i = 0; i < set.count; i++) {
    const o = i * CIFAR_RECORD;
    out[o] = set.labels[i];
    const src = i * CIFAR_PIXELS;
    for (let p = 0; p < CIFAR_PLANE; p++) {
      out[o + 1 + p] = set.images[src + 3 * p];
      out[o + 1 + CIFAR_PLANE + p] = set.images[src + 3 * p + 1];
      out[o + 1 + 2 * CIFAR_PLANE + p] = set.images[src + 3 * p + 2];
    }
  }
  return out;
}
