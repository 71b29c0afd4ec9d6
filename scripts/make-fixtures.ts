// Writes the synthetic, seeded data fixtures (npm run fixtures). Running it twice gives
// byte-identical files, so the committed fixtures can be checked against it.
//
//   fixtures/data/mnist/                 plain IDX, 300 train + 100 test 28×28 "blobs"
//   fixtures/data/fashion-mnist/         gzip IDX, 300 train + 100 test 28×28 "stripes"
//   fixtures/data/cifar-10-batches-bin/  CIFAR binary, 5×40 train + 100 test 32×32×3 "squares"
//   fixtures/fetch/cifar-10-binary.tar.gz  a miniature of the official tarball, for fetch tests
//   fixtures/fetch/sources.json          DatasetSource entries (sizes, SHA-256) for those archives
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import * as tar from 'tar';
import { CIFAR_META_FILE, CIFAR_TEST_FILES, CIFAR_TRAIN_FILES } from '../src/data/cifar10.ts';
import { encodeCifar, encodeIdx } from '../src/data/encode.ts';
import { IDX_FILES } from '../src/data/layout.ts';
import type { DatasetSource } from '../src/data/manifest.ts';
import { syntheticSet, type SyntheticKind } from '../src/data/synthetic.ts';
import { subset } from '../src/data/batches.ts';
import type { ImageSet } from '../src/data/types.ts';
import { makeRng } from '../src/util/rng.ts';

export const FIXTURES_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
const SEED = 'fixtures-v1';
const CIFAR_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function write(path: string, bytes: Uint8Array | string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, bytes);
}

function split(kind: SyntheticKind, name: string, count: number): ImageSet {
  return syntheticSet(kind, count, makeRng(SEED, `${kind}/${name}`));
}

async function writeIdxSet(dir: string, kind: SyntheticKind, gzip: boolean): Promise<void> {
  const pack = (b: Uint8Array) => (gzip ? gzipSync(b, { level: 9 }) : b);
  const ext = gzip ? '.gz' : '';
  for (const [name, count, imagesFile, labelsFile] of [
    ['train', 300, IDX_FILES.trainImages, IDX_FILES.trainLabels],
    ['test', 100, IDX_FILES.testImages, IDX_FILES.testLabels],
  ] as const) {
    const set = split(kind, name, count);
    await write(join(dir, imagesFile + ext), pack(encodeIdx([set.count, set.height, set.width], set.images)));
    await write(join(dir, labelsFile + ext), pack(encodeIdx([set.count], set.labels)));
  }
}

/** The CIFAR layout: the training split cut evenly into the five batch files. */
async function writeCifarDir(dir: string, train: ImageSet, test: ImageSet): Promise<void> {
  const per = train.count / CIFAR_TRAIN_FILES.length;
  for (let b = 0; b < CIFAR_TRAIN_FILES.length; b++) {
    const idx = Array.from({ length: per }, (_, i) => b * per + i);
    await write(join(dir, CIFAR_TRAIN_FILES[b]), encodeCifar(subset(train, idx)));
  }
  await write(join(dir, CIFAR_TEST_FILES[0]), encodeCifar(test));
  await write(join(dir, CIFAR_META_FILE), `${CIFAR_CLASSES.join('\n')}\n\n`);
}

/** Writes every fixture under `root` (replacing what is there). */
export async function writeFixtures(root: string): Promise<void> {
  await rm(root, { recursive: true, force: true });
  const data = join(root, 'data');
  await writeIdxSet(join(data, 'mnist'), 'blobs', false);
  await writeIdxSet(join(data, 'fashion-mnist'), 'stripes', true);
  await writeCifarDir(join(data, 'cifar-10-batches-bin'), split('squares', 'train', 200), split('squares', 'test', 100));

  // The miniature tarball: same folder and file names as the official one, plus a
  // readme.html that fetch must leave out.
  const fetchDir = join(root, 'fetch');
  const staging = join(fetchDir, 'staging');
  const folder = 'cifar-10-batches-bin';
  await writeCifarDir(join(staging, folder), split('squares', 'tar-train', 10), split('squares', 'tar-test', 2));
  await write(join(staging, folder, 'readme.html'), '<p>synthetic fixture</p>\n');
  const members = [...CIFAR_TRAIN_FILES, ...CIFAR_TEST_FILES, CIFAR_META_FILE, 'readme.html'].map((f) => `${folder}/${f}`);
  const tarball = join(fetchDir, 'cifar-10-binary.tar.gz');
  // portable + a fixed mtime keep the archive byte-identical from run to run.
  await tar.c({ gzip: true, file: tarball, cwd: staging, portable: true, mtime: new Date(0) }, members);
  const fileSizes = await Promise.all(
    [...CIFAR_TRAIN_FILES, ...CIFAR_TEST_FILES, CIFAR_META_FILE].map(async (name) => ({
      name,
      bytes: (await readFile(join(staging, folder, name))).length,
    })),
  );
  await rm(staging, { recursive: true });
  const tarBytes = await readFile(tarball);

  const fashionDir = join(data, 'fashion-mnist');
  const fashionArchives = await Promise.all(
    Object.values(IDX_FILES).map(async (name) => {
      const gz = await readFile(join(fashionDir, `${name}.gz`));
      return { name: `${name}.gz`, bytes: gz.length, sha256: sha256(gz), format: 'gz' as const, unpacksTo: name };
    }),
  );
  const fashionFiles = await Promise.all(
    Object.values(IDX_FILES).map(async (name) => {
      const raw = gunzipSync(await readFile(join(fashionDir, `${name}.gz`)));
      return { name, bytes: raw.length, digest: { algorithm: 'sha256' as const, hex: sha256(raw) } };
    }),
  );
  // baseUrl is a placeholder: tests pass their loopback server's address.
  const sources: Record<string, DatasetSource> = {
    cifar10: {
      dataset: 'cifar10',
      subdir: folder,
      baseUrl: 'http://127.0.0.1:0/fetch/',
      archives: [{ name: 'cifar-10-binary.tar.gz', bytes: tarBytes.length, sha256: sha256(tarBytes), format: 'tar.gz', folder }],
      files: fileSizes,
    },
    'fashion-mnist': {
      dataset: 'fashion-mnist',
      subdir: 'fashion-mnist',
      baseUrl: 'http://127.0.0.1:0/data/fashion-mnist/',
      archives: fashionArchives,
      files: fashionFiles,
    },
  };
  await write(join(fetchDir, 'sources.json'), `${JSON.stringify(sources, null, 2)}\n`);
}

// Run as a script (npm run fixtures [-- OUT_DIR]); imported by the fixture test, it only exports.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const out = process.argv[2] ?? FIXTURES_ROOT;
  await writeFixtures(out);
  console.log(`fixtures written to ${out}`);
}
