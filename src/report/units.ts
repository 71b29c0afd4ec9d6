import { parseCellMetric } from '../claims/cells.ts';
import { claimRegion } from '../claims/verdict.ts';
import type { CheckedQuantity } from '../results/record-types.ts';

/**
 * How the report shows a quantity to people: accuracies in %, differences of accuracies (and
 * the gaps the experiments derive) in points, everything else (losses, pixel units, epochs) as
 * measured. The README speaks % and points; the records keep fractions, so this is the one
 * place a fraction becomes a percentage.
 */

export type Unit = 'percent' | 'points' | 'raw';

/** The metric without its part prefix (`true-label.`), cell (`{a=1}`) or `control_` twin prefix. */
export function baseMetric(metric: string): string {
  const cell = parseCellMetric(metric);
  const name = cell ? cell.base : metric;
  return name.slice(name.lastIndexOf('.') + 1).replace(/^control_/, '');
}

const GAP = /^(leak_gap|gap_|epoch_max_leak_gap)/;
const ACCURACY = /(^|_)acc($|_)/;

export const isGap = (metric: string) => GAP.test(baseMetric(metric));
export const isAccuracy = (metric: string) => !isGap(metric) && ACCURACY.test(baseMetric(metric));

export function unitOf(q: Pick<CheckedQuantity, 'metric' | 'minus'>): Unit {
  if (isGap(q.metric) && q.minus === undefined) return 'points';
  if (isAccuracy(q.metric)) {
    if (q.minus === undefined) return 'percent';
    if (isAccuracy(q.minus) || isGap(q.minus)) return 'points';
  }
  if (isGap(q.metric) && q.minus !== undefined && isGap(q.minus)) return 'points';
  return 'raw';
}

/** The factor from the record's value to the shown one. */
export const scaleOf = (u: Unit) => (u === 'raw' ? 1 : 100);

/** Axis and column titles: "points", "%", or "" for a raw quantity (its name says what it is). */
export const unitWord = (u: Unit) => (u === 'points' ? 'points' : u === 'percent' ? '%' : '');

const minus = (s: string) => s.replace(/^-/, '−');

/** One value as shown: "−13.4 points", "94.8%", "2.31" (raw to 3 significant digits). */
export function show(v: number | null | undefined, u: Unit, { sign = u === 'points', suffix = true } = {}): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  if (u === 'raw') return minus(Number(v.toPrecision(3)).toString());
  const x = v * 100;
  const s = (Math.abs(x) < 0.05 ? 0 : x).toFixed(1);
  const signed = sign && Number(s) > 0 ? `+${s}` : minus(s);
  if (!suffix) return signed;
  return u === 'points' ? `${signed} points` : `${signed}%`;
}

/** "−13.4 points [−15.0, −11.8]": mean and its 95% interval, or "one seed" when unbounded. */
export function showInterval(mean: number | null, ci: { low: number | null; high: number | null }, u: Unit): string {
  if (mean === null) return '—';
  const bounds = ci.low === null || ci.high === null ? ' (one seed: no interval)' : ` [${show(ci.low, u, { suffix: false })}, ${show(ci.high, u, { suffix: false })}]`;
  return `${show(mean, u)}${bounds}`;
}

const OP_TEXT = { above: '>', below: '<', notAbove: '≤', notBelow: '≥', within: '∈' } as const;

/** The claim region in the shown unit, e.g. "> +10.0 points" or "∈ [5.00, 6.06]". */
export function showRegion(q: Pick<CheckedQuantity, 'metric' | 'minus' | 'op' | 'threshold' | 'tolerance'>): string {
  const u = unitOf(q);
  const r = claimRegion(q.op, q.threshold, q.tolerance);
  // Thresholds are round numbers: "> 10 points", "≥ 95%", not "> +10.0 points".
  const t = (x: number) => (u === 'raw' ? show(x, u) : `${minus(String(Number((x * 100).toFixed(2))))}`);
  const unit = u === 'points' ? ' points' : u === 'percent' ? '%' : '';
  if (q.op === 'within') return `${OP_TEXT.within} [${t(r.low)}, ${t(r.high)}]${unit}`;
  return `${OP_TEXT[q.op]} ${t(Number.isFinite(r.low) ? r.low : r.high)}${unit}`;
}

const WORDS: Record<string, string> = {
  clean_acc: 'clean accuracy',
  source_clean_acc: "source model's clean accuracy",
  adv_acc_fgsm: 'FGSM accuracy',
  adv_acc_bim: 'BIM accuracy',
  adv_acc_fgsm_pred: 'FGSM-pred accuracy',
  adv_acc_step_ll: 'step-LL accuracy',
  leak_gap_fgsm: 'leak gap (FGSM − clean accuracy)',
  clean_loss: 'clean loss',
  adv_linf_fgsm: 'FGSM L∞ perturbation',
  adv_linf_bim: 'BIM L∞ perturbation',
  adv_linf_fgsm_pred: 'FGSM-pred L∞ perturbation',
  adv_linf_step_ll: 'step-LL L∞ perturbation',
  loss_peak: 'peak loss along the gradient sign',
  loss_fall: 'fall of the loss after its peak',
  loss_rise: 'rise of the loss along the gradient sign',
  probe_acc_true: 'probe accuracy on true-label signs',
  probe_acc_random: 'probe accuracy on random-label signs',
  probe_acc_pixels: 'probe accuracy on clean pixels',
  probe_acc_least_likely: 'probe accuracy on least-likely signs',
  epoch_first_leak: 'first epoch FGSM accuracy is above clean',
  epoch_leak_count: 'epochs with FGSM accuracy above clean',
  epoch_max_leak_gap: 'largest leak gap over epochs',
};

const DATASETS: Record<string, string> = { mnist: 'MNIST', fashion_mnist: 'Fashion-MNIST', cifar10: 'CIFAR-10' };

function baseWords(name: string): string {
  if (WORDS[name]) return WORDS[name];
  const eps = /^(loss|acc)_eps_(\d+)$/.exec(name);
  if (eps) return `${eps[1] === 'loss' ? 'loss' : 'accuracy'} at ε = ${eps[2]} along the sign`;
  const data = /^(.*?)_(mnist|fashion_mnist|cifar10)$/.exec(name);
  if (data) return `${data[1] === 'gap' ? 'leak gap' : baseWords(data[1])} on ${DATASETS[data[2]]}`;
  return name;
}

/** A metric name in words: "true-label: FGSM accuracy", "leak gap (FGSM − clean accuracy) — fraction=1, eps=fixed8". */
export function metricWords(metric: string): string {
  const { part, words, cell } = split(metric);
  const w = part && !words.startsWith(part) ? `${part}: ${words}` : words;
  return cell ? `${w} — ${cellWords(cell)}` : w;
}

/** A metric's part (`true-label`), its own name in words, and its cell. */
function split(metric: string): { part: string; words: string; cell?: string } {
  const c = parseCellMetric(metric);
  const name = c ? c.base : metric;
  const dot = name.lastIndexOf('.');
  let base = name.slice(dot + 1);
  const control = base.startsWith('control_');
  if (control) base = base.slice('control_'.length);
  return { part: dot < 0 ? '' : name.slice(0, dot), words: `${baseWords(base)}${control ? ' (plain training)' : ''}`, cell: c?.id };
}

/** "fraction=1,eps=fixed8" → "fraction=1, eps=fixed8". */
export const cellWords = (id: string) => id.replace(/^\{|\}$/g, '').split(',').join(', ');

/** A checked quantity in words: "FGSM accuracy − BIM accuracy". */
export function quantityWords(q: Pick<CheckedQuantity, 'metric' | 'minus'>): string {
  if (q.minus === undefined) return metricWords(q.metric);
  const a = split(q.metric);
  const b = split(q.minus);
  if (a.part !== b.part || a.cell !== b.cell) return `${metricWords(q.metric)} − ${metricWords(q.minus)}`;
  // One part and cell: named once; "FGSM accuracy − clean accuracy" reads "FGSM − clean accuracy".
  const tail = ' accuracy';
  const diff = a.words.endsWith(tail) && b.words.endsWith(tail) ? `${a.words.slice(0, -tail.length)} − ${b.words}` : `${a.words} − ${b.words}`;
  const w = a.part && !a.words.startsWith(a.part) ? `${a.part}: ${diff}` : diff;
  return a.cell ? `${w} — ${cellWords(a.cell)}` : w;
}
