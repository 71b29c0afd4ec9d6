const YES = new Set(['1', 'true', 'yes', 'on']);
const NO = new Set(['', '0', 'false', 'no', 'off']);

/**
 * An environment variable read as a yes/no switch: true for 1/true/yes/on, false for
 * unset/empty/0/false/no/off (any case, spaces ignored), undefined for anything else, which
 * the caller refuses naming the variable.
 */
export function parseFlag(value: string | undefined): boolean | undefined {
  const v = (value ?? '').trim().toLowerCase();
  if (YES.has(v)) return true;
  if (NO.has(v)) return false;
  return undefined;
}
