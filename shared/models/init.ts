import { z } from 'zod';
import type { Rng } from '../random';
import type { ParamSpec } from './types';

/**
 * `uniform`: every weight and bias U(−range, range) (the DLG paper: range 0.5).
 * `fan-in`: PyTorch's default for Linear/Conv2d, U(±1/√fan_in) for weights and biases.
 */
export const initSchema = z.union([
  z.strictObject({ kind: z.literal('uniform'), range: z.number().positive() }),
  z.strictObject({ kind: z.literal('fan-in') }),
]);

export type InitScheme = z.infer<typeof initSchema>;

export function fanIn(spec: ParamSpec, kernelSpec: ParamSpec): number {
  void spec;
  const s = kernelSpec.shape;
  // conv [kh, kw, inC, outC] → kh·kw·inC; dense [in, out] → in
  return s.length === 4 ? s[0] * s[1] * s[2] : s[0];
}

/** What an op says of one parameter's initialisation: a constant value, or a kernel's own fan-in. */
export interface ParamInitTrait {
  fill?: number;
  fanIn?: number;
}

/**
 * Fills a flat vector; biases use the fan-in of the kernel that precedes them in `specs`. A parameter
 * with a constant `fill` (batch norm's gamma, beta, moving statistics) takes it and draws nothing; a
 * kernel with its own `fanIn` (depthwise) uses it, and so does the bias after it.
 */
export function initFlat(specs: readonly ParamSpec[], scheme: InitScheme, rng: Rng, traits: readonly ParamInitTrait[] = []): Float32Array {
  const total = specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
  const out = new Float32Array(total);
  let offset = 0;
  let lastFanIn: number | null = null;
  specs.forEach((spec, i) => {
    const size = spec.shape.reduce((a, b) => a * b, 1);
    const trait = traits[i] ?? {};
    if (trait.fill !== undefined) {
      out.fill(trait.fill, offset, offset + size);
      offset += size;
      return;
    }
    if (spec.shape.length > 1) lastFanIn = trait.fanIn ?? fanIn(spec, spec);
    const bound = scheme.kind === 'uniform' ? scheme.range : 1 / Math.sqrt(lastFanIn ?? fanIn(spec, spec));
    rng.fillUniform(out.subarray(offset, offset + size), -bound, bound);
    offset += size;
  });
  return out;
}
