import type { ClaimDiff, Diff, DiffRow } from '../report/diff.ts';

/** A quantity changed: its mean moved, or it is on one side only. */
const rowChanged = (r: DiffRow): boolean => (r.change !== null ? r.change !== 0 : (r.a === null) !== (r.b === null));

/** A claim changed: its verdict moved, a quantity changed, or something to know (another version, --set, backend). */
const claimChanged = (c: ClaimDiff): boolean => c.moved || c.notes.length > 0 || c.rows.some(rowChanged);

/**
 * `diff --changed`: only the claims that changed, each with only its changed quantities, so a
 * run that reproduced every committed number shows nothing but the headline.
 */
export function changedOnly(diff: Diff): Diff {
  return {
    ...diff,
    claims: diff.claims.filter(claimChanged).map((c) => ({ ...c, rows: c.rows.filter(rowChanged) })),
  };
}

/** One line: how many claims, how many verdicts moved, how many quantities changed (and beyond their seeds' spread). */
export function diffHeadline(diff: Diff): string {
  const n = diff.claims.length;
  const moved = diff.claims.filter((c) => c.moved);
  const rows = diff.claims.flatMap((c) => c.rows);
  const changed = rows.filter(rowChanged).length;
  const apart = rows.filter((r) => r.apart).length;
  const parts = [
    `${n} claim${n === 1 ? '' : 's'} in both`,
    moved.length === 0 ? 'no verdict moved' : `${moved.length} verdict${moved.length === 1 ? '' : 's'} moved (${moved.map((c) => `${c.id}: ${c.verdicts[0]} → ${c.verdicts[1]}`).join(', ')})`,
    changed === 0 ? 'every quantity identical' : `${changed} of ${rows.length} quantities changed, ${apart} beyond the seeds' 95% intervals`,
  ];
  if (diff.onlyA.length > 0) parts.push(`only in A: ${diff.onlyA.join(', ')}`);
  if (diff.onlyB.length > 0) parts.push(`only in B: ${diff.onlyB.join(', ')}`);
  return `diff: ${parts.join(' · ')}`;
}
