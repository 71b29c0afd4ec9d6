export { pixelsToUnit, type Epsilon } from './epsilon.ts';
export { lossGradientSign, leastLikelyClass, crossEntropySum, type AttackOptions } from './gradient.ts';
export { fgsm, fgsmAlong, stepLL, stepRand, randomLabels } from './one-step.ts';
export { bim, iterLL, defaultIterations, type IterativeOptions } from './iterative.ts';
export { noiseImage } from './noise-image.ts';
export { attack, type DispatchOptions } from './dispatch.ts';
