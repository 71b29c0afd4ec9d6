/**
 * The filter of the sub-pixel form of a stride-s transposed convolution (the input gradient
 * of a stride-s convolution). Output pixel h of the transposed convolution only meets filter
 * taps k ≡ h + pad (mod s); grouping pixels by that phase p gives s² stride-1 convolutions
 * of dy, each with the taps p, p + s, p + 2s, … in reverse order. Stacking the phases along
 * the output channels in depth-to-space order makes them one convolution:
 *
 *   G[th, tw, co, (ph·s + pw)·Ci + ci] = W[ph + (J−1−th)·s, pw + (J−1−tw)·s, ci, co]  (0 past the filter)
 *
 * with J = ⌈K / s⌉ taps per axis. It does J²·s² multiply-adds per dy pixel and channel pair
 * where convolving the zero-dilated dy does K²·s².
 */
export function subPixelFilter(
  w: Float32Array,
  shape: readonly [number, number, number, number],
  stride: number,
): { values: Float32Array; shape: [number, number, number, number] } {
  const [kh, kw, ci, co] = shape;
  const jh = Math.ceil(kh / stride);
  const jw = Math.ceil(kw / stride);
  const depth = stride * stride * ci;
  const out = new Float32Array(jh * jw * co * depth);
  for (let th = 0; th < jh; th++) {
    for (let tw = 0; tw < jw; tw++) {
      for (let ph = 0; ph < stride; ph++) {
        const r = ph + (jh - 1 - th) * stride;
        if (r >= kh) continue;
        for (let pw = 0; pw < stride; pw++) {
          const c = pw + (jw - 1 - tw) * stride;
          if (c >= kw) continue;
          for (let i = 0; i < ci; i++) {
            const src = ((r * kw + c) * ci + i) * co;
            const d = (ph * stride + pw) * ci + i;
            for (let o = 0; o < co; o++) out[((th * jw + tw) * co + o) * depth + d] = w[src + o];
          }
        }
      }
    }
  }
  return { values: out, shape: [jh, jw, co, depth] };
}
