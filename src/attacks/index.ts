export { pixelsToUnit, type Epsilon } from './epsilon.ts';
export { lossGradientSign, lossAndGradientSign, leastLikelyClass, crossEntropySum, crossEntropyEach, type AttackOptions } from './gradient.ts';
export { fgsm, fgsmAlong, fgsmPred, stepLL, stepRand, randomLabels } from './one-step.ts';
export { bim, iterLL, pgd, randomStart, defaultIterations, type IterativeOptions, type PgdOptions } from './iterative.ts';
export { noiseImage } from './noise-image.ts';
export { attack, type DispatchOptions } from './dispatch.ts';
