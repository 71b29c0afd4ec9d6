import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const exec = promisify(execFile);

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: Record<string, string>;
  /**
   * Run without the power to read or write what file permissions forbid. As root (CI
   * containers, this machine) chmod alone proves nothing, so the process is started by
   * setpriv without CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH: still uid 0, but bound by modes.
   */
  unprivileged?: boolean;
  /**
   * Kill the process (SIGKILL) after this long: a bound for cases whose defect is a hang,
   * so a regression fails the test (killed, exit code null) instead of hanging the suite.
   */
  timeoutMs?: number;
}

/** Runs the real CLI as a user would, offline (tests never reach outside the machine); returns exit code and output instead of throwing. */
export async function cli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  const node = ['node', 'bin/label-leak.mjs', ...args];
  const argv = opts.unprivileged && process.getuid?.() === 0 ? ['setpriv', '--bounding-set', '-dac_override,-dac_read_search', ...node] : node;
  try {
    const r = await exec(argv[0], argv.slice(1), {
      env: { ...process.env, LABEL_LEAK_DATA_DIR: '', LABEL_LEAK_OFFLINE: '1', ...opts.env },
      maxBuffer: 64 * 1024 * 1024,
      ...(opts.timeoutMs ? { timeout: opts.timeoutMs, killSignal: 'SIGKILL' as const } : {}),
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}
