/**
 * Sets `value` at `path` (keys, as `a.b.c` names them) inside `target`, creating objects
 * where the path leads through something that is not one. Shared by `--set` overrides and
 * the sweep kind's axes, so a path means the same thing in both.
 */
export function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]] = value;
}
