import { fmt } from '../claims/assess.ts';
import { summarize } from '../claims/stats.ts';
import { metricName } from '../experiments/protocol.ts';
import type { AssertionResult } from '../results/record-types.ts';
import { largestDrop, type AuditResult, type Flag } from './audit.ts';

/** The audit as Markdown: what was measured (mean ± 95% CI half-width, per seed), the loss curve, the flags. Pure. */

const ATTACK_LABEL: Record<string, string> = { fgsm: 'FGSM', 'fgsm-pred': 'FGSM-pred', pgd: 'PGD', bim: 'BIM' };

function row(label: string, metric: string, r: AuditResult): string | undefined {
  const ok = r.outcomes.filter((o) => o.status === 'ok' && o.metrics[metric] !== undefined);
  if (ok.length === 0) return undefined;
  const values = ok.map((o) => o.metrics[metric]);
  const s = summarize(values);
  const half = Number.isFinite(s.ci.high) ? fmt(s.ci.high - s.mean) : '∞';
  return `| ${label} | ${fmt(s.mean)} ± ${half} | ${ok.map((o, i) => `${o.seed}: ${fmt(values[i])}`).join(', ')} |`;
}

function curveLine(r: AuditResult): string {
  const ok = r.outcomes.filter((o) => o.status === 'ok');
  const points = r.options.epsSweep.map((eps) => {
    const s = summarize(ok.map((o) => o.metrics[`loss_eps_${eps}`]).filter((v): v is number => v !== undefined));
    return { eps, loss: s.mean };
  });
  if (points.length < 2) return 'Loss along the gradient sign: not measured (give --eps-sweep).';
  const d = largestDrop(points);
  const shape =
    d.drop <= r.options.lossFall
      ? 'monotone: it never drops as ε grows'
      : `not monotone: it drops by ${fmt(d.drop)} from ε = ${d.from} to ε = ${d.to}`;
  return `Loss along sign(∇ₓL) of the clean image, mean over seeds (ε: loss): ${points.map((p) => `${p.eps}: ${fmt(p.loss)}`).join(', ')} — ${shape}.`;
}

const FLAG_TEXT: Record<'labelLeaking' | 'gradientMasking', Record<Flag, string>> = {
  labelLeaking: { yes: 'YES', no: 'no', undecided: 'undecided (the seeds disagree; add seeds or test images)' },
  gradientMasking: { yes: 'SUSPECTED', no: 'no', undecided: 'undecided (the seeds disagree; add seeds or test images)' },
};

const assertionLine = (a: AssertionResult) => `  - ${a.name}: ${a.summary.replace('(claim:', '(flag when')}`;

export function renderAudit(r: AuditResult, header: string[]): string {
  const o = r.options;
  const attackRows = r.attacks.map((a) => row(`${ATTACK_LABEL[a] ?? a} accuracy (ε = ${o.eps})`, `adv_acc_${metricName(a)}`, r));
  const classes = r.outcomes.find((x) => x.status === 'ok');
  const failed = r.outcomes.filter((x) => x.status !== 'ok');
  return [
    ...header,
    '',
    '| Measure | Mean ± 95% CI half-width | Per seed |',
    '|---|---|---|',
    ...[
      row('clean accuracy', 'clean_acc', r),
      ...attackRows,
      row('leak gap: FGSM − clean accuracy', 'leak_gap_fgsm', r),
      row('gradient-sign probe accuracy (linear model on sign(∇ₓL) with the true label)', 'probe_acc_true', r),
    ].filter((l): l is string => l !== undefined),
    '',
    curveLine(r),
    ...(classes ? [] : ['', 'No seed finished.']),
    ...failed.map((f) => `Seed ${f.seed} failed: ${f.error?.name}: ${f.error?.message}`),
    '',
    'Flags (95% Student\'s t interval across seeds: a flag is raised when the interval lies wholly in its region):',
    `- label leaking: ${FLAG_TEXT.labelLeaking[r.flags.labelLeaking]}`,
    ...r.assertions.leaking.map(assertionLine),
    `- gradient masking: ${FLAG_TEXT.gradientMasking[r.flags.gradientMasking]}`,
    ...r.assertions.masking.map(assertionLine),
  ].join('\n');
}
