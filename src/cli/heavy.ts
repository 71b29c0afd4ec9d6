import type { Command } from 'commander';
import { auditCommand } from './audit-command.ts';
import { benchCommand } from './bench-command.ts';
import { diffCommand } from './diff-command.ts';
import { dataCommand } from './data-command.ts';
import { doctorCommand } from './doctor-command.ts';
import { listCommand } from './list-command.ts';
import { reportCommand } from './report-command.ts';
import { runCommand } from './run-command.ts';
import { serveCommand } from '../serve/command.ts';

export { usageErrorTypes } from './usage-errors.ts';

/**
 * Every command with its options and actions, and through them tfjs, its backends, vega and
 * ajv: about 1–2 s of module loading (more on a loaded machine). src/cli.ts imports this only
 * when a command runs; `label-leak --help` and `--version` list ./command-list.ts instead.
 */
export function allCommands(): Command[] {
  return [runCommand(), listCommand(), reportCommand(), dataCommand(), benchCommand(), auditCommand(), diffCommand(), serveCommand(), doctorCommand()];
}
