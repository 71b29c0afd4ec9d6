/**
 * Text from outside (file names above all) made safe to print: control characters (C0, DEL,
 * C1) and the Unicode bidirectional controls are shown as escapes, so a name holding an ANSI
 * escape or a newline can neither recolour the terminal nor forge a line of output. Every
 * other character, accents and all, is kept.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

export function printable(text: string): string {
  return text.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** As printable, but keeping line breaks: for a whole message whose own lines are wanted. */
export function printableLines(text: string): string {
  return text.split('\n').map(printable).join('\n');
}
