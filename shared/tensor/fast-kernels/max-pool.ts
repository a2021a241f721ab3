/**
 * Max pooling on NHWC float32: the forward pass, its gradient (MaxPoolGrad) and MaxPoolWithArgmax,
 * from one window scan. tfjs's cpu kernels read every pixel through TensorBuffer.get and scan the
 * windows once per kernel; in an Inverting Gradients step on a max-pooling network they took most
 * of the time (bench/ig-resnet.ts). Same tie rule as tfjs: the first maximum in row-major window
 * order wins, and a window without a value above −∞ has no position (−1) and passes no gradient.
 */
export interface PoolGeometry {
  batch: number;
  inH: number;
  inW: number;
  channels: number;
  outH: number;
  outW: number;
  fh: number;
  fw: number;
  strideH: number;
  strideW: number;
  padTop: number;
  padLeft: number;
}

/**
 * Per output (NHWC order) the maximum of its window and the flat NHWC index of that maximum in the
 * input. Channels are the inner loop, so every read walks the input contiguously.
 */
export function maxPoolArgmax(x: Float32Array, g: PoolGeometry): { values: Float32Array; argmax: Int32Array } {
  const C = g.channels;
  const values = new Float32Array(g.batch * g.outH * g.outW * C).fill(-Infinity);
  const argmax = new Int32Array(values.length).fill(-1);
  for (let b = 0; b < g.batch; b++) {
    for (let oy = 0; oy < g.outH; oy++) {
      const y0 = oy * g.strideH - g.padTop;
      const yLo = Math.max(0, y0);
      const yHi = Math.min(g.inH, y0 + g.fh);
      for (let ox = 0; ox < g.outW; ox++) {
        const x0 = ox * g.strideW - g.padLeft;
        const xLo = Math.max(0, x0);
        const xHi = Math.min(g.inW, x0 + g.fw);
        const out = ((b * g.outH + oy) * g.outW + ox) * C;
        for (let y = yLo; y < yHi; y++) {
          for (let xx = xLo; xx < xHi; xx++) {
            const at = ((b * g.inH + y) * g.inW + xx) * C;
            for (let d = 0; d < C; d++) {
              const v = x[at + d];
              if (v > values[out + d]) {
                values[out + d] = v;
                argmax[out + d] = at + d;
              }
            }
          }
        }
      }
    }
  }
  return { values, argmax };
}

/**
 * MaxPoolGrad: each output gradient added to the input position that won its window. Sums run in
 * float64 in output order, as the stock kernel's, so overlapping windows give the same float32.
 */
export function maxPoolGrad(dy: Float32Array, input: Float32Array, g: PoolGeometry): Float32Array {
  const { argmax } = maxPoolArgmax(input, g);
  const dx = new Float64Array(input.length);
  for (let o = 0; o < argmax.length; o++) {
    const at = argmax[o];
    if (at >= 0) dx[at] += dy[o];
  }
  return Float32Array.from(dx);
}

/** MaxPoolWithArgmax's indexes: NHWC flat, or within the example when `includeBatchInIndex` is false. */
export function argmaxIndexes(argmax: Int32Array, g: PoolGeometry, includeBatchInIndex: boolean): Int32Array {
  if (includeBatchInIndex) return argmax;
  const perExampleIn = g.inH * g.inW * g.channels;
  const perExampleOut = g.outH * g.outW * g.channels;
  const out = new Int32Array(argmax.length);
  for (let o = 0; o < argmax.length; o++) {
    const at = argmax[o];
    out[o] = at < 0 ? at : at - Math.floor(o / perExampleOut) * perExampleIn;
  }
  return out;
}
