import { permutation, type Rng } from '../util/rng.ts';
import type { ImageSet } from './types.ts';

/**
 * Small seeded image sets for fixtures. Each class has its own pattern under pixel noise and
 * a random shift, so a model trained on them does measurably better than chance while the
 * task is not a constant lookup.
 *  - `blobs`   28×28×1: a bright spot at one of ten places on a ring (MNIST-like)
 *  - `stripes` 28×28×1: a bar, horizontal or vertical, at one of five offsets (Fashion-like)
 *  - `squares` 32×32×3: a square in one of ten colours (CIFAR-like)
 */
export type SyntheticKind = 'blobs' | 'stripes' | 'squares';

const SQUARE_COLOURS: [number, number, number][] = [
  [230, 30, 30], [30, 230, 30], [30, 30, 230], [230, 230, 30], [230, 30, 230],
  [30, 230, 230], [250, 140, 20], [140, 20, 250], [250, 250, 250], [120, 120, 120],
];

const clampByte = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));

/** Balanced labels in seeded order: counts per class differ by at most one. */
function balancedLabels(count: number, rng: Rng): Uint8Array {
  const order = permutation(rng, count);
  return Uint8Array.from(order, (k) => k % 10);
}

function drawGrey(kind: 'blobs' | 'stripes', label: number, rng: Rng, out: Uint8Array, offset: number): void {
  const side = 28;
  const dx = rng.int(5) - 2;
  const dy = rng.int(5) - 2;
  const angle = (2 * Math.PI * label) / 10;
  const cx = 14 + 8 * Math.cos(angle) + dx;
  const cy = 14 + 8 * Math.sin(angle) + dy;
  const barAt = 4 + (label % 5) * 5;
  const horizontal = label < 5;
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      let v = rng.int(48);
      if (kind === 'blobs') {
        const r2 = (x - cx) ** 2 + (y - cy) ** 2;
        v += 220 * Math.exp(-r2 / (2 * 2.5 * 2.5));
      } else {
        const along = horizontal ? y - dy : x - dx;
        if (Math.abs(along - barAt) <= 1) v += 190;
      }
      out[offset + y * side + x] = clampByte(v);
    }
  }
}

function drawSquare(label: number, rng: Rng, out: Uint8Array, offset: number): void {
  const side = 32;
  const size = 12;
  const x0 = 10 + rng.int(9) - 4;
  const y0 = 10 + rng.int(9) - 4;
  const colour = SQUARE_COLOURS[label];
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const inside = x >= x0 && x < x0 + size && y >= y0 && y < y0 + size;
      for (let c = 0; c < 3; c++) {
        const base = inside ? colour[c] : 64;
        out[offset + (y * side + x) * 3 + c] = clampByte(base + rng.int(64) - 32);
      }
    }
  }
}

export function syntheticSet(kind: SyntheticKind, count: number, rng: Rng): ImageSet {
  const [height, width, channels] = kind === 'squares' ? [32, 32, 3] : [28, 28, 1];
  const size = height * width * channels;
  const labels = balancedLabels(count, rng);
  const images = new Uint8Array(count * size);
  for (let i = 0; i < count; i++) {
    if (kind === 'squares') drawSquare(labels[i], rng, images, i * size);
    else drawGrey(kind, labels[i], rng, images, i * size);
  }
  return { images, labels, count, height, width, channels };
}
