import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderReport } from '../../src/report/markdown.ts';
import { mergeRecords } from '../../src/report/merge.ts';
import { cli } from '../helpers/cli.ts';
import { committedRecord } from '../helpers/record-folders.ts';

// A record is input from anywhere (a colleague's results folder, a CI artefact): `report`
// must neither write outside --out because of it nor copy its HTML into the report.

const tmp = mkdtempSync(join(tmpdir(), 'llk-report-untrusted-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Every file under `dir`, relative. */
const files = (dir: string): string[] => readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(dir.length + 1));

describe('report with a record whose claim id is a path (issue 26, item 2)', () => {
  it('refuses the record, naming it and the id, and writes nothing outside --out', async () => {
    const root = join(tmp, 'escape');
    const results = join(root, 'a', 'b', 'results');
    mkdirSync(join(results, 'fast'), { recursive: true });
    const r = committedRecord('mnist-no-leaking');
    r.claim.id = '../../escaped';
    const file = join(results, 'fast', 'mnist-no-leaking.json');
    writeFileSync(file, JSON.stringify(r));
    const out = join(results, 'report');
    const res = await cli(['report', '--results', results, '--out', out]);
    expect(res.code, res.stderr).toBe(2);
    expect(res.stderr).toContain(file);
    expect(res.stderr).toMatch(/claim\.id "\.\.\/\.\.\/escaped" is not a claim id/);
    expect(res.stderr).not.toMatch(/\n\s+at /);
    // Nothing anywhere under the root but the record itself.
    expect(files(root)).toEqual([join('a', 'b', 'results', 'fast', 'mnist-no-leaking.json')]);
  });
});

describe('text from a record in the Markdown report (issue 26, item 2)', () => {
  const html = '<img src=x onerror=alert(1)>';
  const record = committedRecord('mnist-no-leaking');
  record.claim.title = `title ${html}`;
  record.claim.statement = `statement <script>alert(2)</script>`;
  record.claim.writeUpFigure.text = `figure ${html}`;
  record.claim.assertions = record.claim.assertions.map((a) => ({ ...a, name: `${a.name} <b>bold</b>` }));
  record.assertions = record.assertions.map((a) => ({ ...a, name: `${a.name} <b>bold</b>` }));
  record.outcomes[0] = { ...record.outcomes[0], status: 'error', error: { name: 'Error', message: `failed ${html}` } };
  record.backend.device = `gpu ${html}`;
  record.environment.machine.cpuModel = `cpu [link](javascript:alert(3)) ${html}`;
  const md = renderReport({ results: mergeRecords([{ file: 'r.json', record }]), plots: new Map(), plotDir: 'plots', sources: ['results'], generatedAt: new Date('2026-12-06T00:00:00Z') });

  it('carries no HTML tag from the record: each is escaped and shows as text', () => {
    expect(md).not.toMatch(/<img|<script|<b>/);
    expect(md).toContain('title &lt;img src=x onerror=alert(1)&gt;');
    expect(md).toContain('statement &lt;script&gt;alert(2)&lt;/script&gt;');
    expect(md).toContain('failed &lt;img');
    expect(md).toContain('gpu &lt;img');
  });

  it('makes no link of a record\'s text', () => {
    expect(md).not.toContain('[link](javascript:');
    expect(md).toContain('cpu [link]\\(javascript:alert(3))');
  });

  it('keeps every table row whole when a metric name holds a pipe, a backtick or a newline', () => {
    const odd = committedRecord('mnist-no-leaking');
    // The report re-assesses from the claim's checks and the seeds' metrics: rename the metric in both.
    const rename = (m: string) => (m === 'adv_acc_fgsm' ? 'adv|acc`x\ny' : m);
    for (const o of odd.outcomes) o.metrics['adv|acc`x\ny'] = o.metrics.adv_acc_fgsm;
    odd.claim.assertions = odd.claim.assertions.map((a) => ({ ...a, metric: rename(a.metric) }));
    // Every precondition reads it too (some then fail: only the tables' shape is checked here).
    odd.claim.preconditions = odd.claim.preconditions?.map((p) => ({ ...p, metric: 'adv|acc`x\ny' }));
    const out = renderReport({ results: mergeRecords([{ file: 'r.json', record: odd }]), plots: new Map(), plotDir: 'plots', sources: ['results'], generatedAt: new Date(0) });
    const lines = out.split('\n');
    // An unescaped pipe would add a cell; a newline would cut the row short.
    const cells = (l: string) => l.replace(/\\\|/g, '').split('|').length;
    const header = (h: string) => lines.findIndex((l) => l.startsWith(h));
    for (const h of ['| Assertion |', '| Precondition |']) {
      const i = header(h);
      expect(i, h).toBeGreaterThan(0);
      for (const row of lines.slice(i + 2, lines.indexOf('', i))) expect(cells(row), row).toBe(cells(lines[i]));
    }
  });

  it('keeps the report\'s own markup: the anchor and the links to it', () => {
    expect(md).toContain('<a id="mnist-no-leaking-fast"></a>');
    expect(md).toContain('[mnist-no-leaking](#mnist-no-leaking-fast)');
  });
});

describe('ids in file names', () => {
  it('a record with a valid id still reports (exit 0), its plots inside --out', async () => {
    const results = join(tmp, 'ok');
    mkdirSync(join(results, 'fast'), { recursive: true });
    writeFileSync(join(results, 'fast', 'mnist-no-leaking.json'), readFileSync('docs/results/records/fast/mnist-no-leaking.json'));
    const out = join(tmp, 'ok-out');
    const res = await cli(['report', '--results', results, '--out', out]);
    expect(res.code, res.stderr).toBe(0);
    expect(existsSync(join(out, 'report.md'))).toBe(true);
    expect(files(out)).toContain(join('plots', 'mnist-no-leaking-fast-accuracy.svg'));
  });
});
