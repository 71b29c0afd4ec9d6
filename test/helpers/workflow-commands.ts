// Reading GitHub workflows for test/unit/github-*.test.ts: GitHub's own parser for the
// schema check, shell-quote for the `label-leak …` command lines inside `run:` steps, and a
// reader for commander's `--help` text to check those command lines against the real CLI.
import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser';
import { parse as parseShell } from 'shell-quote';

/**
 * Every error GitHub's workflow parser (@actions/workflow-parser, the parser behind the
 * Actions VS Code extension) reports: schema violations, unknown expression contexts,
 * bad cron strings, `needs` naming unknown jobs or making cycles.
 */
export async function workflowErrors(name: string, content: string): Promise<string[]> {
  const parsed = parseWorkflow({ name, content }, new NoOperationTraceWriter());
  const errors = parsed.context.errors.getErrors().map((e) => e.message);
  if (parsed.value === undefined) return errors.length > 0 ? errors : [`${name}: not parsed`];
  const template = await convertWorkflowTemplate(parsed.context, parsed.value);
  const more = (template.errors ?? []).map((e) => e.Message).filter((m) => !errors.includes(m));
  return [...errors, ...more];
}

/** One `label-leak …` call found in a step's script. */
export interface Invocation {
  /** Words after the program, up to the end of the simple command. */
  args: string[];
  /** The step's script line it came from, for messages. */
  line: string;
}

const isProgram = (w: string) => w === 'label-leak' || w.endsWith('bin/label-leak.mjs') || w.endsWith('dist/label-leak.mjs');

/**
 * Finds every label-leak call in a bash script. Shell variables stay as `$NAME` words;
 * pipes, `||`, `&&`, `;` and redirections end a command.
 */
export function labelLeakCalls(script: string): Invocation[] {
  const calls: Invocation[] = [];
  // Continuation lines first, so one logical line is parsed at a time.
  for (const line of script.replace(/\\\n/g, ' ').split('\n')) {
    const tokens = parseShell(line, (key) => `$${key}`);
    let current: string[] | null = null;
    for (const t of tokens) {
      if (typeof t !== 'string') {
        // An operator: a pipe or list ends the call; a redirection's target is not an argument.
        if (current) calls.push({ args: current, line: line.trim() });
        current = null;
        continue;
      }
      if (current) current.push(t);
      else if (isProgram(t)) current = [];
    }
    if (current) calls.push({ args: current, line: line.trim() });
  }
  return calls;
}

/** What commander's `--help` lists: option flags and subcommand names. */
export interface HelpText {
  flags: Set<string>;
  commands: Set<string>;
  /** Option flag → its argument placeholder as shown, e.g. '--results' → '<dirs...>'. */
  placeholders: Map<string, string>;
}

/** Reads commander's help layout: `Options:` and `Commands:` sections of indented rows. */
export function readHelp(text: string): HelpText {
  const help: HelpText = { flags: new Set(), commands: new Set(), placeholders: new Map() };
  let section = '';
  for (const line of text.split('\n')) {
    const heading = /^(\w[\w ]*):\s*$/.exec(line);
    if (heading) {
      section = heading[1]!.toLowerCase();
      continue;
    }
    const row = /^\s{2}(\S.*?)(?:\s{2,}.*)?$/.exec(line);
    if (!row) continue;
    const head = row[1]!;
    if (section === 'options') {
      for (const m of head.matchAll(/(--?[A-Za-z0-9][\w-]*)(?:[ =]([<[][^>\]]*[>\]]))?/g)) {
        help.flags.add(m[1]!);
        if (m[2]) help.placeholders.set(m[1]!, m[2]);
      }
    } else if (section === 'commands') {
      help.commands.add(head.split(/[\s|]/)[0]!);
    }
  }
  return help;
}

/** A call split into its subcommand path, flags (without `=value`) and other words. */
export interface ResolvedCall {
  path: string[];
  flags: string[];
  operands: string[];
}

/**
 * Walks the call's leading words down the CLI's subcommand tree (`help(path)` gives the
 * help text at each level), so `data fetch cifar10` is the command `data fetch` with the
 * operand `cifar10`.
 */
export function resolveCall(args: string[], help: (path: string[]) => HelpText): ResolvedCall {
  const path: string[] = [];
  let i = 0;
  while (i < args.length && !args[i]!.startsWith('-') && help(path).commands.has(args[i]!)) {
    path.push(args[i]!);
    i++;
  }
  const rest = args.slice(i);
  return {
    path,
    flags: rest.filter((a) => a.startsWith('-')).map((a) => a.split('=')[0]!),
    operands: rest.filter((a) => !a.startsWith('-')),
  };
}

/**
 * The README's test command: the first line inside a fenced code block that runs the test
 * suite (`npm test`, `npm run test…`, `npx vitest…`), with any `$ ` prompt or comment removed.
 */
export function readmeTestCommand(readme: string): string | undefined {
  let fenced = false;
  for (const raw of readme.split('\n')) {
    if (/^\s*(```|~~~)/.test(raw)) {
      fenced = !fenced;
      continue;
    }
    // Without a `$ ` prompt or a trailing `# comment`.
    const line = raw.trim().replace(/^\$\s+/, '').replace(/\s+#.*$/, '');
    if (fenced && /^(npm (run )?test|npx vitest)(\s|$)/.test(line)) return line;
  }
  return undefined;
}
