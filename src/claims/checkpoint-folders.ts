import { rmdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * After a claim's seeds have all finished, the folders that held their checkpoints are empty:
 * checkpoints/<tier>/<claim>/, then checkpoints/<tier>/ and checkpoints/ when nothing else is
 * in them. Removed bottom-up with rmdir, which refuses a folder that is not empty, so a
 * checkpoint or a lock of another claim, seed or process is never touched.
 */
export function removeEmptyCheckpointFolders(resultsDir: string, tier: string, claimId: string): void {
  const root = join(resultsDir, 'checkpoints');
  for (const dir of [join(root, tier, claimId), join(root, tier), root]) {
    try {
      rmdirSync(dir);
    } catch {
      // Not empty (another claim's or process's checkpoints), or already gone: leave it.
      return;
    }
  }
}
