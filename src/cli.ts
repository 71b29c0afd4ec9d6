import { Command, CommanderError, Help } from 'commander';
import { COMMANDS, needsCommands } from './cli/command-list.ts';
import { printableLines } from './util/printable.ts';
import pkg from '../package.json' with { type: 'json' };

const program = new Command('label-leak')
  .description('Seeded, executable checks of the claims of the write-up on label leaking in adversarial training')
  .version(`label-leak ${pkg.version}`, '-V, --version', 'print the version')
  .showHelpAfterError();

// The commands (and with them tfjs, its backends, vega, ajv) load only when one runs:
// `--help`, `--version` and a mistyped command get the list of names alone.
const heavy = needsCommands(process.argv.slice(2)) ? await import('./commands.ts') : undefined;
if (heavy) for (const c of heavy.allCommands()) program.addCommand(c);
else {
  for (const c of COMMANDS) program.command(c.name).description(c.description);
  const terms = new Map(COMMANDS.map((c) => [c.name, c.term]));
  const help = new Help();
  program.configureHelp({ subcommandTerm: (cmd) => terms.get(cmd.name()) ?? help.subcommandTerm(cmd) });
}

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
  if (heavy?.usageErrorTypes.some((T) => err instanceof T)) {
    // Bad input (a malformed spec, an unknown claim, a missing dataset, an unavailable backend): exit 2.
    // Escaped at the last moment too: no name from outside reaches the terminal raw.
    console.error(`label-leak: ${printableLines((err as Error).message)}`);
    process.exit(2);
  }
  throw err;
}
