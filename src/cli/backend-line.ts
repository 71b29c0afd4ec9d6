import type { BackendInfo } from '../backend/info.ts';

/**
 * The console's backend line: what runs, in one line. `auto`'s reasons for skipping the
 * better backends are install advice (about 900 characters on a CPU machine) that nobody
 * running on wasm asked for: they stay in the record's `backend.reason`, and print with
 * `--verbose` or `label-leak doctor`.
 */
export function backendLine(info: BackendInfo, skipped: readonly string[], verbose: boolean): string {
  const head = `backend: ${info.name} ${info.version} — ${info.device}`;
  if (verbose) return `${head} (${info.reason})`;
  if (skipped.length === 0) return head;
  return `${head} (auto; ${skipped.join(', ')} did not start — \`label-leak doctor\` says why)`;
}
