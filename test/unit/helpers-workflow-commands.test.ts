import { describe, expect, it } from 'vitest';
import { labelLeakCalls, readHelp, readmeTestCommand, resolveCall } from '../helpers/workflow-commands.ts';

describe('helpers reading workflow steps', () => {
  it('finds label-leak calls through npx, node and pipes', () => {
    const calls = labelLeakCalls(
      'npx --no label-leak data fetch cifar10 --data-dir "$D" || echo no\n' +
        'node bin/label-leak.mjs list --json \\\n  --matrix full | npx --no tsx x.ts >> "$GITHUB_OUTPUT"',
    );
    expect(calls.map((c) => c.args)).toEqual([
      ['data', 'fetch', 'cifar10', '--data-dir', '$D'],
      ['list', '--json', '--matrix', 'full'],
    ]);
  });

  it('reads commander help and walks subcommands', () => {
    const top = readHelp('Usage: x\n\nOptions:\n  -h, --help  display help\n\nCommands:\n  data [options]  datasets\n  run [claims...]  run\n');
    const data = readHelp('Usage: x data\n\nOptions:\n  --data-dir <dir>  where\n\nCommands:\n  fetch [names...]  get\n');
    expect([...top.commands]).toEqual(['data', 'run']);
    expect(data.placeholders.get('--data-dir')).toBe('<dir>');
    const help = (p: string[]) => (p.length === 0 ? top : p[0] === 'data' ? data : readHelp(''));
    expect(resolveCall(['data', 'fetch', 'cifar10', '--data-dir=/x'], help)).toEqual({
      path: ['data', 'fetch'],
      flags: ['--data-dir'],
      operands: ['cifar10'],
    });
  });

  it('takes the first fenced test command from a README', () => {
    expect(readmeTestCommand('Run `npm run x`.\n\n```sh\nnpm ci\n$ npm test\n```\n')).toBe('npm test');
    expect(readmeTestCommand('```\nnpm run claims  # main\nnpm test        # the tests\n```')).toBe('npm test');
    expect(readmeTestCommand('npm test\n')).toBeUndefined();
  });
});
