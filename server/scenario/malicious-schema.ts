/**
 * Scenario sections of the malicious server (issue 18): `server` says what the server does to the
 * model it sends; `client` says which guards the (simulated) clients run. Both are server-side: the
 * clients never see `server`, and a real client gets its guards from its own command line
 * (`fedleak client --guards … --model-hash …`); the simulator's spawner passes `client.guards` so.
 */
import { z } from 'zod';
import { GUARD_NAMES } from '../../shared/guards';
import type { Capability } from '../observer/threat-model';

const honest = z.strictObject({ behaviour: z.literal('honest') });

const imprint = z.strictObject({
  behaviour: z.literal('imprint'),
  /** Bins of the imprint block (units of its first layer). */
  bins: z.number().int().min(2).max(4096).default(256),
  /** The image statistic the bins split: "fourier" (DCT mode 0, the reference default) or "avg" brightness. */
  query: z.enum(['fourier', 'avg']).default('fourier'),
  /** Public examples (from the server's test split) the bin boundaries are fitted on. */
  publicExamples: z.number().int().min(2).default(1000),
});

const trapWeights = z.strictObject({
  behaviour: z.literal('trap-weights'),
  /** Calibrate the positive factor so a unit fires for 1/batchSize of public data; else the reference's 0.95. */
  calibrate: z.boolean().default(true),
  publicExamples: z.number().int().min(2).default(1000),
});

export const serverSchema = z.discriminatedUnion('behaviour', [honest, imprint, trapWeights]);
export type ServerConfig = z.infer<typeof serverSchema>;
export type ImprintBehaviour = z.infer<typeof imprint>;
export type TrapBehaviour = z.infer<typeof trapWeights>;

/**
 * What the server must be able to do for its behaviour (server/observer/threat-model.ts): nothing
 * beyond the honest protocol for "honest"; for a planted model, sending clients a modified model
 * built on the honest architecture, and public examples from the clients' distribution where the
 * planted parameters are fitted on them (imprint's bin boundaries; trap-weights' calibrated factor).
 * The scenario is refused at load when its threatModel grants less (server/scenario/cross-checks.ts).
 */
export function behaviourRequires(config: ServerConfig): Capability[] {
  switch (config.behaviour) {
    case 'honest':
      return [];
    case 'imprint':
      return ['architecture', 'modify-model', 'surrogate-data'];
    case 'trap-weights':
      return config.calibrate ? ['architecture', 'modify-model', 'surrogate-data'] : ['architecture', 'modify-model'];
  }
}

export const clientSchema = z.strictObject({
  /** Guards every simulated client runs (client/guards); a refusal keeps that client out of the round. */
  guards: z.array(z.enum(GUARD_NAMES)).default([]),
});
export type ClientConfig = z.infer<typeof clientSchema>;
