import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.ts';
import { committedRecord, fgsmRaised, recordFolder } from '../helpers/record-folders.ts';

const tmp = mkdtempSync(join(tmpdir(), 'llk-cli-diff-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('label-leak diff', () => {
  it('prints the side-by-side table and exits 0; another spec version exits 2 unless --force', async () => {
    const b = recordFolder(tmp, 'b', [fgsmRaised(0.1)]);
    const ok = await cli(['diff', 'docs/results/records', b]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('| mnist-no-leaking | fast | reproduced | refuted | **moved** (reproduced → refuted) |');
    expect(ok.stdout).toMatch(/\| ✱ adv_acc_fgsm − clean_acc \| .* \| \+0\.1 \| yes \|/);
    const v2 = committedRecord('mnist-no-leaking');
    v2.claim.version = 2;
    const c = recordFolder(tmp, 'v2', [v2]);
    const refused = await cli(['diff', 'docs/results/records', c]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(join(c, 'fast', 'mnist-no-leaking.json'));
    expect(refused.stderr).toMatch(/different spec versions.*give --force/);
    const forced = await cli(['diff', 'docs/results/records', c, '--force', '--asserted']);
    expect(forced.code).toBe(0);
    expect(forced.stdout).toContain('⚠ spec version 1 in A, 2 in B');
    expect(forced.stdout).not.toContain('| clean_acc |');
  });

  it('ends with a one-line headline; --changed shows only the claims and quantities that changed', async () => {
    const b = recordFolder(tmp, 'changed', [fgsmRaised(0.1)]);
    const all = await cli(['diff', 'docs/results/records', b]);
    expect(all.code, all.stderr).toBe(0);
    expect(all.stderr.trim().split('\n').at(-1)).toMatch(
      /^diff: 1 claim in both · 1 verdict moved \(mnist-no-leaking: reproduced → refuted\) · \d+ of \d+ quantities changed, \d+ beyond the seeds' 95% intervals · only in A: /,
    );
    expect(all.stdout).toContain('| clean_acc |'); // unchanged, shown in full
    const changed = await cli(['diff', 'docs/results/records', b, '--changed']);
    expect(changed.code, changed.stderr).toBe(0);
    expect(changed.stdout).toMatch(/\| ✱ adv_acc_fgsm − clean_acc \| .* \| \+0\.1 \| yes \|/);
    expect(changed.stdout).not.toContain('| clean_acc |');
    // The same records on both sides: every quantity identical, nothing listed.
    const same = await cli(['diff', 'docs/results/records', 'docs/results/records', '--changed']);
    expect(same.stderr).toMatch(/· no verdict moved · every quantity identical$/m);
    expect(same.stdout).not.toMatch(/^## /m);
  });

  it('a folder that does not exist exits 2 naming it', async () => {
    const r = await cli(['diff', 'docs/results/records', join(tmp, 'nowhere')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(join(tmp, 'nowhere'));
  });
});
