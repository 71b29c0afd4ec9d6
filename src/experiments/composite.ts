import { kindLookup } from './kind-lookup.ts';
import { meanThroughput } from './protocol.ts';
import type { Curves, ExperimentKind, SeedOutcome } from './types.ts';

/**
 * Several experiments asked as one claim (e.g. the least-likely question, answered both by a
 * linear probe and by step-LL adversarial training). Each part's metrics are prefixed with the
 * part's name: part `probe` reporting `probe_acc_true` gives `probe.probe_acc_true`.
 */
export interface CompositeParams {
  parts: Record<string, { experiment: string; params: any }>;
}

export function compositeKind(kinds: ExperimentKind<any>[]): ExperimentKind<CompositeParams> {
  const kindOf = kindLookup(kinds, 'composite');
  return {
    name: 'composite',
    paramsSchema: {
      type: 'object',
      additionalProperties: false,
      required: ['parts'],
      properties: {
        parts: {
          type: 'object',
          minProperties: 1,
          propertyNames: { pattern: '^[a-z][a-z0-9-]*$' },
          additionalProperties: {
            oneOf: kinds.map((k) => ({
              type: 'object',
              additionalProperties: false,
              required: ['experiment', 'params'],
              properties: { experiment: { const: k.name }, params: k.paramsSchema },
            })),
          },
        },
      },
    },
    metricNames: (p) =>
      Object.entries(p.parts).flatMap(([part, { experiment, params }]) => kindOf(experiment).metricNames(params).map((m) => `${part}.${m}`)),
    trainings(p) {
      const parts = Object.entries(p.parts).map(([part, { experiment, params }]) =>
        kindOf(experiment).trainings?.(params)?.map((t) => ({ ...t, role: `${part}.${t.role}` })),
      );
      // Every part must say, or the estimate would leave some training out.
      return parts.every((t) => t !== undefined) ? parts.flat() : undefined;
    },
    async run(p, ctx): Promise<SeedOutcome> {
      const metrics: Record<string, number> = {};
      const curves: Curves = {};
      const rates: (number | undefined)[] = [];
      for (const [part, { experiment, params }] of Object.entries(p.parts)) {
        const out = await kindOf(experiment).run(params, ctx);
        for (const [k, v] of Object.entries(out.metrics)) metrics[`${part}.${k}`] = v;
        for (const [k, v] of Object.entries(out.curves)) curves[`${part}:${k}`] = v;
        rates.push(out.imagesPerSecond);
      }
      return { metrics, curves, imagesPerSecond: meanThroughput(rates) };
    },
  };
}
