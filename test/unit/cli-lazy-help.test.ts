import { readFileSync } from 'node:fs';
import { Help } from 'commander';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs module without types (bin/ runs before any TypeScript loader)
import { compiledCli } from '../../bin/compiled-cli.mjs';
import { COMMANDS, needsCommands } from '../../src/cli/command-list.ts';
import { allCommands } from '../../src/commands.ts';
import { cli } from '../helpers/cli.ts';

describe('label-leak --help lists the commands without loading them', () => {
  it('the list is the real commands: same names, order, usage and descriptions', () => {
    const help = new Help();
    expect(COMMANDS).toEqual(allCommands().map((c) => ({ name: c.name(), term: help.subcommandTerm(c), description: c.description() })));
  });

  it('loads the commands only for a command or help on one', () => {
    expect(needsCommands([])).toBe(false);
    expect(needsCommands(['--help'])).toBe(false);
    expect(needsCommands(['--version'])).toBe(false);
    expect(needsCommands(['nosuch'])).toBe(false);
    expect(needsCommands(['help'])).toBe(false);
    expect(needsCommands(['run', '--tier', 'fast'])).toBe(true);
    expect(needsCommands(['--help', 'run'])).toBe(true);
    expect(needsCommands(['help', 'diff'])).toBe(true);
  });

  it('the compiled entry imports commander alone; tfjs, vega and ajv wait in heavy.mjs', async () => {
    const entry = (await compiledCli()) as string;
    const text = readFileSync(entry, 'utf8');
    const statics = (js: string) => [...js.matchAll(/^import .* from "([^"]+)";$/gm)].map((m) => m[1]);
    expect(statics(text)).toEqual(['commander']);
    expect(text).toContain('import("./heavy.mjs")');
    // There, the CommonJS packages are required, not imported (no cjs-module-lexer pass over
    // tfjs at each start), and vega loads with the first plot.
    const heavy = readFileSync(entry.replace(/label-leak\.mjs$/, 'heavy.mjs'), 'utf8');
    for (const p of ['@tensorflow/tfjs', 'ajv/dist/2020.js', 'vega', 'vega-lite']) expect(statics(heavy)).not.toContain(p);
    expect(heavy).toContain('__nodeRequire("@tensorflow/tfjs")');
    expect(heavy).toContain('import("vega")');
  });

  it('--help lists every command; --version prints the package version; both exit 0', async () => {
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    for (const c of COMMANDS) expect(help.stdout).toContain(`  ${c.term} `);
    expect(help.stdout).toContain('help [command]');
    const version = await cli(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toBe(`label-leak ${JSON.parse(readFileSync('package.json', 'utf8')).version}`);
    // A mistyped command is still a usage error.
    expect((await cli(['rnu'])).code).toBe(2);
  });

  it('a command still gets its own options and help', async () => {
    const r = await cli(['run', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--dry-run');
  });
});
