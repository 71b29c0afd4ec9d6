import { InvalidArgumentError } from 'commander';

/**
 * A folder or file option: an empty value (`--results ''`, a variable that was never set)
 * would resolve to the current folder and write there, so it is refused (exit 2).
 */
export function pathOption(value: string): string {
  if (value.trim() === '') throw new InvalidArgumentError('an empty path; name a folder or file, or leave the option out for its default');
  return value;
}

/** `pathOption` for a repeatable option. */
export const collectPaths = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), pathOption(value)];
