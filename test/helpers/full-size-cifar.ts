import { copyFileSync, mkdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CIFAR_META_FILE, CIFAR_RECORD, CIFAR_TEST_FILES, CIFAR_TRAIN_FILES } from '../../src/data/cifar10.ts';

const FIXTURE_META = join(import.meta.dirname, '..', '..', 'fixtures', 'data', 'cifar-10-batches-bin', CIFAR_META_FILE);

/** Records in each official CIFAR-10 batch file. */
const CIFAR_BATCH_RECORDS = 10_000;

/**
 * A `cifar-10-batches-bin/` under `dataDir` with every batch at the official size (10,000
 * records), so checks against the official sizes pass without the real set: the batches
 * are sparse files of zeros (label 0, black images; no disk blocks, nothing to download).
 * `damaged` is written instead by `write`, from such a batch's bytes.
 */
export function fullSizeCifarDir(dataDir: string, damaged?: string, write?: (original: Buffer, path: string) => void): string {
  const dir = join(dataDir, 'cifar-10-batches-bin');
  mkdirSync(dir, { recursive: true });
  copyFileSync(FIXTURE_META, join(dir, CIFAR_META_FILE));
  for (const f of [...CIFAR_TRAIN_FILES, ...CIFAR_TEST_FILES]) {
    const path = join(dir, f);
    if (f === damaged && write) write(Buffer.alloc(CIFAR_BATCH_RECORDS * CIFAR_RECORD), path);
    else {
      writeFileSync(path, '');
      truncateSync(path, CIFAR_BATCH_RECORDS * CIFAR_RECORD);
    }
  }
  return dataDir;
}
