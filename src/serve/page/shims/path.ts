/**
 * node:path for the page (POSIX only): the in-memory file system of fs.ts has one root and
 * no current directory other than `/`, so these are the plain POSIX rules.
 */
export const sep = '/';
export const delimiter = ':';

export function normalize(p: string): string {
  const abs = p.startsWith('/');
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!abs) out.push('..');
    } else out.push(part);
  }
  const body = out.join('/');
  const trailing = p.endsWith('/') && body !== '' ? '/' : '';
  return abs ? `/${body}${trailing}` : body ? `${body}${trailing}` : p.endsWith('/') && p !== '' ? './' : '.';
}

export function join(...parts: string[]): string {
  const kept = parts.filter((p) => p !== '');
  return kept.length === 0 ? '.' : normalize(kept.join('/'));
}

export function resolve(...parts: string[]): string {
  let acc = '';
  for (let i = parts.length - 1; i >= 0 && !acc.startsWith('/'); i--) if (parts[i]) acc = acc ? `${parts[i]}/${acc}` : parts[i];
  const n = normalize(acc.startsWith('/') ? acc : `/${acc}`);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

export function isAbsolute(p: string): boolean {
  return p.startsWith('/');
}

export function dirname(p: string): string {
  const n = p.length > 1 && p.endsWith('/') ? normalize(p.slice(0, -1)) : normalize(p);
  const i = n.lastIndexOf('/');
  if (i < 0) return '.';
  return i === 0 ? '/' : n.slice(0, i);
}

export function basename(p: string, ext?: string): string {
  const n = p.length > 1 && p.endsWith('/') ? normalize(p.slice(0, -1)) : normalize(p);
  const b = n.slice(n.lastIndexOf('/') + 1);
  return ext && b.endsWith(ext) && b !== ext ? b.slice(0, -ext.length) : b;
}

export function extname(p: string): string {
  const b = basename(p);
  const i = b.lastIndexOf('.');
  return i <= 0 ? '' : b.slice(i);
}

export function relative(from: string, to: string): string {
  const a = resolve(from).split('/').filter(Boolean);
  const b = resolve(to).split('/').filter(Boolean);
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return [...a.slice(i).map(() => '..'), ...b.slice(i)].join('/');
}

export const posix = { sep, delimiter, normalize, join, resolve, isAbsolute, dirname, basename, extname, relative };
export default posix;
