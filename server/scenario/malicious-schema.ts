/**
 * Scenario sections of the malicious server (issue 18): `server` says what the server does to the
 * model it sends; `client` says which guards the (simulated) clients run. Both are server-side: the
 * clients never see `server`, and a real client gets its guards from its own command line
 * (`fedleak client --guards … --model-hash …`); the simulator's spawner passes `client.guards` so.
 */
import { z } from 'zod';
import { GUARD_NAMES } from '../../shared/guards';

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

export const clientSchema = z.strictObject({
  /** Guards every simulated client runs (client/guards); a refusal keeps that client out of the round. */
  guards: z.array(z.enum(GUARD_NAMES)).default([]),
});
export type ClientConfig = z.infer<typeof clientSchema>;
