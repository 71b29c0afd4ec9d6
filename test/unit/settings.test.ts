import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { SETTINGS, settingsMarkdown } from '../../src/util/env.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const NAME = /LABEL_LEAK_[A-Z0-9_]+/g;

function files(dir: string, keep: (f: string) => boolean): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' || e.name.startsWith('.cache') ? [] : files(rel, keep);
    return keep(rel) ? [rel] : [];
  });
}

/**
 * `LABEL_LEAK_*` names in a TypeScript file's code: string and template literals and
 * identifiers (`env.LABEL_LEAK_X` reads one as much as `env['LABEL_LEAK_X']`); comments are
 * prose and may name a variable.
 */
function namesInCode(text: string): { name: string; line: number }[] {
  const scanner = ts.createScanner(ts.ScriptTarget.Latest, /* skipTrivia */ true, ts.LanguageVariant.Standard, text);
  const found: { name: string; line: number }[] = [];
  let depth = 0;
  const braces: number[] = [];
  for (let kind = scanner.scan(); kind !== ts.SyntaxKind.EndOfFileToken; kind = scanner.scan()) {
    // Template literals: the scanner returns `}` as a brace until told to rescan a template tail.
    if (kind === ts.SyntaxKind.OpenBraceToken) depth++;
    else if (kind === ts.SyntaxKind.CloseBraceToken) {
      if (braces.at(-1) === depth) {
        braces.pop();
        kind = scanner.reScanTemplateToken(false);
        if (kind === ts.SyntaxKind.TemplateMiddle) braces.push(depth);
      } else depth--;
    } else if (kind === ts.SyntaxKind.SlashToken || kind === ts.SyntaxKind.SlashEqualsToken) kind = scanner.reScanSlashToken();
    if (kind === ts.SyntaxKind.TemplateHead) braces.push(depth);
    const textual = [
      ts.SyntaxKind.StringLiteral,
      ts.SyntaxKind.NoSubstitutionTemplateLiteral,
      ts.SyntaxKind.TemplateHead,
      ts.SyntaxKind.TemplateMiddle,
      ts.SyntaxKind.TemplateTail,
      ts.SyntaxKind.Identifier,
    ].includes(kind);
    if (!textual) continue;
    for (const m of scanner.getTokenText().matchAll(NAME)) {
      found.push({ name: m[0], line: text.slice(0, scanner.getTokenStart()).split('\n').length });
    }
  }
  return found;
}

/** Files allowed to read a setting without SETTINGS: none now (each entry must still hold such a read, or it is stale). */
const PENDING: Record<string, string[]> = {};

const listed = new Set(Object.values(SETTINGS).map((s) => s.name));

describe('the one list of settings (src/util/env.ts)', () => {
  it('finds names in strings, templates and identifiers, not in comments', () => {
    const code = [
      "// LABEL_LEAK_COMMENT",
      "/** LABEL_LEAK_DOC */",
      "const a = 'LABEL_LEAK_A';",
      'const b = env.LABEL_LEAK_B;',
      'const c = `x ${f({ y: 1 })} LABEL_LEAK_C ${z}`;',
      'const d = /re/.test(q) ? "LABEL_LEAK_D" : 0;',
    ].join('\n');
    expect(namesInCode(code)).toEqual([
      { name: 'LABEL_LEAK_A', line: 3 },
      { name: 'LABEL_LEAK_B', line: 4 },
      { name: 'LABEL_LEAK_C', line: 5 },
      { name: 'LABEL_LEAK_D', line: 6 },
    ]);
  });

  it('is the only place in src/ that names a LABEL_LEAK_ variable', () => {
    const offenders = files('src', (f) => f.endsWith('.ts') && f !== join('src', 'util', 'env.ts'))
      .flatMap((f) => namesInCode(readFileSync(join(ROOT, f), 'utf8')).map((n) => ({ ...n, file: f })))
      .filter((n) => !PENDING[n.file]?.includes(n.name))
      .map((n) => `${n.file}:${n.line}: ${n.name} (use SETTINGS from src/util/env.ts)`);
    expect(offenders).toEqual([]);
  });

  it('has no stale pending exception', () => {
    for (const [file, names] of Object.entries(PENDING)) {
      const here = new Set(namesInCode(readFileSync(join(ROOT, file), 'utf8')).map((n) => n.name));
      for (const n of names) {
        expect(here.has(n), `${file} no longer names ${n}: drop it from PENDING`).toBe(true);
        expect(listed.has(n as never), `${n} in SETTINGS`).toBe(true);
      }
    }
  });

  it('lists every LABEL_LEAK_ variable the code, tests, scripts and CI use, and none they do not', () => {
    const where = [
      // Not the list itself, nor this test: each names them all.
      ...files('src', (f) => /\.(ts|json)$/.test(f) && f !== join('src', 'util', 'env.ts')),
      ...files('test', (f) => /\.(ts|mjs)$/.test(f) && f !== join('test', 'unit', 'settings.test.ts')),
      ...files('scripts', (f) => /\.(ts|mjs|sh)$/.test(f)),
      ...files('bin', (f) => /\.mjs$/.test(f)),
      ...files('.github', (f) => /\.ya?ml$/.test(f)),
      '.ci/run',
      'vitest.stryker.config.ts',
      'package.json',
    ];
    const used = new Map<string, string>();
    for (const f of where) {
      const text = readFileSync(join(ROOT, f), 'utf8');
      for (const m of text.matchAll(NAME)) if (!used.has(m[0])) used.set(m[0], f);
      // src/ reads a variable as SETTINGS.<key>.name.
      for (const m of text.matchAll(/\bSETTINGS\.(\w+)/g)) {
        const name = SETTINGS[m[1] as keyof typeof SETTINGS]?.name;
        if (name && !used.has(name)) used.set(name, f);
      }
    }
    const unlisted = [...used].filter(([n]) => !listed.has(n as never)).map(([n, f]) => `${n} (in ${relative(ROOT, join(ROOT, f))})`);
    expect(unlisted, 'add them to SETTINGS in src/util/env.ts').toEqual([]);
    expect([...listed].filter((n) => !used.has(n)), 'listed but read nowhere').toEqual([]);
  });

  it('is what docs/settings.md shows (npm run settings writes it)', () => {
    expect(readFileSync(join(ROOT, 'docs', 'settings.md'), 'utf8'), 'docs/settings.md is stale: run `npm run settings`').toBe(settingsMarkdown());
  });
});
