import type { DatasetName } from '../spec/names.ts';

/**
 * Images stay uint8 in memory (CIFAR-10's 50,000 training images are 150 MB as bytes,
 * 600 MB as float32); float batches are made on demand by `data/batches.ts`.
 */
export interface ImageSet {
  /** NHWC, row-major, 0–255. */
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
  height: number;
  width: number;
  channels: number;
}


export interface Dataset {
  name: DatasetName;
  classes: string[];
  train: ImageSet;
  test: ImageSet;
}
