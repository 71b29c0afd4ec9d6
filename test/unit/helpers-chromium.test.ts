import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { pinToOneCpu } from '../helpers/chromium.ts';

/** Each test file runs in its own process (vitest.config.ts: pool forks), so pinning this one leaves the others be. */
describe('pinToOneCpu (the browser test keeps SwiftShader to one core)', () => {
  it('puts this process on one CPU, and what it starts after inherits it', (ctx) => {
    const cpu = pinToOneCpu();
    if (cpu === undefined) return ctx.skip('no taskset on this machine: the browser test runs unpinned');
    const affinity = (pid: string) => execFileSync('sh', ['-c', `taskset -c -p ${pid}`], { encoding: 'utf8' }).trim().split(': ')[1];
    expect(affinity(String(process.pid))).toBe(cpu);
    expect(affinity('$$')).toBe(cpu);
  });
});
