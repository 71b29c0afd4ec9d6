// The GitHub workflows are code that only GitHub runs; these checks are what keeps them
// honest here: GitHub's own workflow schema, the shape the docs promise, the README's test
// command, and every `label-leak` subcommand and flag they call existing in the real CLI.
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { labelLeakCalls, readHelp, resolveCall, workflowErrors, type HelpText } from '../helpers/workflow-commands.ts';
import { root, workflowDir, WORKFLOWS, text, load, runSteps } from '../helpers/workflows.ts';
import { parseMatrix } from '../../scripts/gpu-matrix.ts';

describe('workflow files', () => {
  it('are exactly the two this project documents', () => {
    expect(readdirSync(workflowDir).sort()).toEqual([...WORKFLOWS].sort());
  });

  for (const file of WORKFLOWS) {
    it(`${file} passes GitHub's workflow parser with no errors`, async () => {
      expect(await workflowErrors(file, text(file))).toEqual([]);
    });

    it(`${file} pins every action to a major version or commit`, () => {
      const uses = Object.values(load(file).jobs).flatMap((j) => j.steps.flatMap((s) => (s.uses ? [s.uses] : [])));
      expect(uses.length).toBeGreaterThan(0);
      for (const u of uses) expect(u).toMatch(/^[\w.-]+\/[\w./-]+@(v\d+(\.\d+)*|[0-9a-f]{40})$/);
    });

    it(`${file} runs bash with pipefail (explicit shell)`, () => {
      expect(load(file).defaults?.run?.shell).toBe('bash');
    });

    it(`${file} refers only to declared workflow_dispatch inputs`, () => {
      const declared = Object.keys(
        ((load(file).on.workflow_dispatch ?? {}) as { inputs?: Record<string, unknown> }).inputs ?? {},
      );
      const used = [...text(file).matchAll(/\binputs\.([\w-]+)/g)].map((m) => m[1]!);
      for (const name of used) expect(declared, `inputs.${name}`).toContain(name);
    });
  }

  it('the parser rejects broken workflows (so the checks above can fail)', async () => {
    const gpu = text('gpu-claims.yml');
    const broken: [string, RegExp][] = [
      [gpu.replace('timeout-minutes: 1380', 'timeout-minutes: 1380\n    timeout-minuts: 5'), /timeout-minuts/],
      [gpu.replace('needs: matrix\n', 'needs: matrixx\n'), /unknown job 'matrixx'/],
      [gpu.replace('${{ matrix.claim }} (seed', '${{ matrx.claim }} (seed'), /matrx/],
      [gpu.replace("cron: '0 3 * * 6'", "cron: '0 3 * *'"), /cron/i],
    ];
    for (const [content, why] of broken) {
      expect(content).not.toBe(gpu);
      expect((await workflowErrors('broken.yml', content)).join('\n')).toMatch(why);
    }
  });
});

describe('the label-leak calls in the workflows exist in the CLI', () => {
  const helpCache = new Map<string, HelpText>();
  const helpFor = (path: string[]): HelpText => {
    const key = path.join(' ');
    let help = helpCache.get(key);
    if (!help) {
      const out = execFileSync(process.execPath, [join(root, 'bin', 'label-leak.mjs'), ...path, '--help'], {
        cwd: root,
        encoding: 'utf8',
        timeout: 60_000,
      });
      help = readHelp(out);
      helpCache.set(key, help);
    }
    return help;
  };
  const calls = WORKFLOWS.flatMap((file) =>
    runSteps(load(file)).flatMap((s) => labelLeakCalls(s.run!).map((c) => ({ file, ...c }))),
  );

  it('finds the calls the workflows make', () => {
    expect(calls.map((c) => c.args[0]).sort()).toEqual(['data', 'data', 'data', 'list', 'report', 'run']);
  });

  for (const call of calls) {
    it(`${call.file}: label-leak ${call.args.join(' ')}`, () => {
      const resolved = resolveCall(call.args, helpFor);
      expect(resolved.path.length, `a subcommand in: ${call.line}`).toBeGreaterThan(0);
      const help = helpFor(resolved.path);
      for (const flag of resolved.flags) {
        expect([...help.flags], `label-leak ${resolved.path.join(' ')} --help lists ${flag}`).toContain(flag);
      }
      // The report job builds its `--results DIR` pairs in an array the parse cannot see.
      if (resolved.path[0] === 'report') {
        expect([...help.flags]).toContain('--results');
        expect(help.flags.has('--out')).toBe(true);
      }
    });
  }

  it('`label-leak list --json --matrix full` prints a matrix the workflow can use', () => {
    const out = execFileSync(process.execPath, [join(root, 'bin', 'label-leak.mjs'), 'list', '--json', '--matrix', 'full'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
    });
    const matrix = parseMatrix(out);
    const specs = readdirSync(join(root, 'claims')).filter((f) => f.endsWith('.json'));
    if (specs.length > 0) expect(matrix.include.length).toBeGreaterThan(0);
  });
});
