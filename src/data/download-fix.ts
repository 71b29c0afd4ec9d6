import { DATA_DIR_ENV } from './data-dir.ts';
import { DataFileError } from './errors.ts';
import { DataDirWriteError, DownloadError } from './fetch.ts';
import { LAYOUTS } from './layout.ts';
import { MIRROR_ENV, OFFLINE_ENV } from './mirror.ts';
import type { DatasetName } from '../spec/names.ts';
import { printable } from '../util/printable.ts';

const MiB = 1024 * 1024;

/**
 * The one line that fixes a failed download, fitted to its cause: the network only when the
 * network failed, the server when it answered wrongly, the disk when the disk did; each
 * followed by the way round every download (a folder that already holds the set).
 */
export function downloadFix(dataset: DatasetName, e: unknown): string {
  const subdir = LAYOUTS[dataset].subdir;
  const elsewhere = `or set ${DATA_DIR_ENV}=DIR where DIR holds ${subdir}/${dataset === 'fashion-mnist' ? ', or apt-get install dataset-fashion-mnist' : ''}`;
  const resumes = '(the download resumes where it stopped)';
  if (e instanceof DataDirWriteError) {
    if (e.problem === 'disk-full') {
      const need = e.needBytes === undefined ? 'some space' : `${Math.ceil(e.needBytes / MiB)} MiB`;
      return `free ${need} on the disk of ${printable(e.file)}, or point --data-dir at a disk with room, and run again ${resumes}; ${elsewhere}`;
    }
    return `make ${printable(e.file)} writable, or point --data-dir (or ${DATA_DIR_ENV}) at a folder you can write to; ${elsewhere}`;
  }
  if (e instanceof DownloadError) {
    switch (e.problem) {
      case 'offline':
        return `run \`label-leak data fetch ${dataset}\` with network access (without --offline / ${OFFLINE_ENV}), ${elsewhere}`;
      case 'network':
        return `check the network connection and run again ${resumes}, ${elsewhere}`;
      case 'stalled':
        return `the server went silent: run again later ${resumes}, or set ${MIRROR_ENV} to a mirror, ${elsewhere}`;
      case 'http': {
        const s = e.status ?? 0;
        if (s === 404 || s === 410) return `the server no longer has the file (HTTP ${s}): set ${MIRROR_ENV} to a mirror that has it, ${elsewhere}`;
        if (s === 401 || s === 403) return `the server refuses the download (HTTP ${s}): set ${MIRROR_ENV} to a mirror you may use, ${elsewhere}`;
        return `the server failed (HTTP ${s}): run again later or set ${MIRROR_ENV} to a mirror, ${elsewhere}`;
      }
      case 'checksum':
      case 'size':
        return `the server sent something other than the official file (removed): run again later or set ${MIRROR_ENV} to a mirror, ${elsewhere}`;
    }
  }
  if (e instanceof DataFileError && (e.file === OFFLINE_ENV || e.file === MIRROR_ENV)) {
    // A bad setting: its own message says what it must be.
    return `correct ${e.file} as said above`;
  }
  if (e instanceof DataFileError && e.problem === 'gzip') {
    return `the archive checked out but does not unpack (removed): set ${MIRROR_ENV} to another mirror, ${elsewhere}`;
  }
  if (e instanceof DataFileError && (e.problem === 'missing' || e.problem === 'truncated')) {
    return `the archive checked out but does not hold the set as expected (removed): check the mirror's digest list (${MIRROR_ENV}), ${elsewhere}`;
  }
  return `${elsewhere.replace(/^or /, '')}`;
}

/** For the offline case, where there is no error object: the same line as downloadFix's. */
export function offlineFix(dataset: DatasetName): string {
  return downloadFix(dataset, new DownloadError('', 'offline', ''));
}
