import type { Command } from 'commander';
import { auditCommand } from './cli/audit-command.ts';
import { benchCommand } from './cli/bench-command.ts';
import { diffCommand } from './cli/diff-command.ts';
import { dataCommand } from './cli/data-command.ts';
import { doctorCommand } from './cli/doctor-command.ts';
import { listCommand } from './cli/list-command.ts';
import { reportCommand } from './cli/report-command.ts';
import { runCommand } from './cli/run-command.ts';
import { serveCommand } from './serve/command.ts';

export { usageErrorTypes } from './cli/usage-errors.ts';

/**
 * Every command with its options and actions, and through them tfjs, its backends, vega and
 * ajv: about 1–2 s of module loading (more on a loaded machine). src/cli.ts imports this only
 * when a command runs; `label-leak --help` and `--version` list cli/command-list.ts instead.
 */
export function allCommands(): Command[] {
  return [runCommand(), listCommand(), reportCommand(), dataCommand(), benchCommand(), auditCommand(), diffCommand(), serveCommand(), doctorCommand()];
}
