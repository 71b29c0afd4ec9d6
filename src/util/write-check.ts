import { existsSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { TEMP_SUFFIX, writeFileAtomic } from './atomic-write.ts';
import { printable } from './printable.ts';
import { WriteError, writeFailureReason } from './write-error.ts';

/**
 * Output folders are tried before the work that fills them: a folder that cannot take a
 * file (read-only, full, a file, no permission) fails at once with exit 2, not after minutes
 * of training or an audit whose result would then be lost. A probe file is written as the
 * real writes are (folders made as needed; temp, fsync, rename), then removed with the
 * folders made for it.
 */
export function checkWritableDir(dir: string, option: string): void {
  const probe = join(dir, `.write-probe-${process.pid}${TEMP_SUFFIX}`);
  const created = missingFolders(resolve(dir));
  try {
    writeFileAtomic(probe, 'probe\n');
  } catch (e) {
    const cause = e instanceof WriteError && e.cause !== undefined ? e.cause : e;
    throw new WriteError(dir, `cannot write ${printable(dir)}/ (the ${option} folder): ${writeFailureReason(probe, cause)}; name a folder you can write to`);
  } finally {
    try {
      rmSync(probe, { force: true });
    } catch {
      // nothing was written (a part of the path is a file): nothing to remove
    }
    // Folders made only for the probe go again (a run that saves nothing leaves nothing);
    // rmdir, never a recursive removal: another process may have written there meanwhile.
    for (const d of created) {
      try {
        rmdirSync(d);
      } catch {
        break;
      }
    }
  }
}

/** The folders of `dir` (itself included) that do not exist yet, deepest first. */
function missingFolders(dir: string): string[] {
  const out: string[] = [];
  for (let d = dir; !existsSync(d) && dirname(d) !== d; d = dirname(d)) out.push(d);
  return out;
}

/** As checkWritableDir for the folder of an output file, which must not be a folder itself. */
export function checkWritableFile(file: string, option: string): void {
  let isDir = false;
  try {
    isDir = statSync(file).isDirectory();
  } catch {
    // absent: fine, it is written later
  }
  if (isDir) throw new WriteError(file, `cannot write ${printable(file)} (${option}): it is a folder; name a file, e.g. ${printable(join(file, 'audit.json'))}`);
  checkWritableDir(dirname(file), option);
}
