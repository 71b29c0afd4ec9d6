export { pixelsToUnit, type Epsilon } from './epsilon.ts';
export { lossGradientSign, lossAndGradientSign, leastLikelyClass, crossEntropySum, crossEntropyEach, type AttackOptions } from './gradient.ts';
export { fgsm, fgsmPred, stepLL, stepRand } from './one-step.ts';
export { bim, iterLL, pgd, randomStart, defaultIterations, type IterativeOptions, type PgdOptions } from './iterative.ts';
export { noiseImage } from './noise-image.ts';
export { attack, attackNames, type AttackName, type DispatchOptions } from './dispatch.ts';
