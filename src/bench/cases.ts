import casesJson from '../../bench/cases.json' with { type: 'json' };
import type { AdversarialTraining } from '../train/step.ts';
import type { ModelSpec, InputShape } from '../models/spec.ts';
import type { TimingPlan } from './timing.ts';

/**
 * The bench's workloads live in bench/cases.json, which bench/pytorch_anchor.py reads too,
 * so both sides measure the same models, batch sizes and steps.
 */
export interface TrainCase {
  id: string;
  label: string;
  model: ModelSpec;
  input: InputShape;
  batch: number;
  adversarial: Omit<AdversarialTraining, 'epsMax'> | null;
}

export interface AttackCase {
  id: string;
  label: string;
  model: ModelSpec;
  input: InputShape;
  batch: number;
  attack: 'fgsm' | 'bim';
  /** Pixel units (0–255). */
  eps: number;
  steps: number;
}

export interface BenchCases {
  train: TrainCase[];
  attack: AttackCase[];
  optimizer: { learningRate: number; momentum: number; nesterov: boolean; weightDecay: number };
  timing: TimingPlan;
}

export const benchCases = casesJson as unknown as BenchCases;

export function caseIds(c: BenchCases = benchCases): string[] {
  return [...c.train, ...c.attack].map((x) => x.id);
}
