import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const ignored = (path: string): boolean => {
  try {
    execFileSync('git', ['check-ignore', '-q', path]);
    return true;
  } catch {
    return false;
  }
};

describe('what a run or a report writes stays out of git status', () => {
  it('results/, its report, and report/ from `label-leak report --out report`', () => {
    expect(ignored('results/fast/mnist-no-leaking.json')).toBe(true);
    expect(ignored('results/report/report.md')).toBe(true);
    expect(ignored('report/report.md')).toBe(true);
    expect(ignored('report/plots/x.svg')).toBe(true);
    // The committed report is not ignored.
    expect(ignored('docs/results/report.md')).toBe(false);
  });
});
