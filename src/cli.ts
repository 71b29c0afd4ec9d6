import { Command, CommanderError } from 'commander';
import { auditCommand } from './cli/audit-command.ts';
import { benchCommand } from './cli/bench-command.ts';
import { diffCommand } from './cli/diff-command.ts';
import { doctorCommand } from './cli/doctor-command.ts';
import { dataCommand } from './cli/data-command.ts';
import { listCommand } from './cli/list-command.ts';
import { reportCommand } from './cli/report-command.ts';
import { runCommand } from './cli/run-command.ts';
import { serveCommand } from './serve/command.ts';
import { usageErrorTypes } from './cli/usage-errors.ts';
import { printableLines } from './util/printable.ts';

const program = new Command('label-leak')
  .description('Seeded, executable checks of the claims of the write-up on label leaking in adversarial training')
  .showHelpAfterError()
  .addCommand(runCommand())
  .addCommand(listCommand())
  .addCommand(reportCommand())
  .addCommand(dataCommand())
  .addCommand(benchCommand())
  .addCommand(auditCommand())
  .addCommand(diffCommand())
  .addCommand(serveCommand())
  .addCommand(doctorCommand());

// Usage errors exit 2 (the CLI's contract), so commander must throw instead of exiting 1.
const overrideExits = (c: Command): void => {
  c.exitOverride();
  c.commands.forEach(overrideExits);
};
overrideExits(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // --help and --version end here too, with code 0.
    process.exit(err.exitCode === 0 ? 0 : 2);
  }
  if (usageErrorTypes.some((T) => err instanceof T)) {
    // Bad input (a malformed spec, an unknown claim, a missing dataset, an unavailable backend): exit 2.
    // Escaped at the last moment too: no name from outside reaches the terminal raw.
    console.error(`label-leak: ${printableLines((err as Error).message)}`);
    process.exit(2);
  }
  throw err;
}
