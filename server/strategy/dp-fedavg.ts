/**
 * Server-side DP-FedAvg (McMahan et al. 2018) as a wrapper around any strategy, after Flower's
 * DifferentialPrivacyServerSideFixedClipping: each update is clipped to L2 norm C once, here; the
 * noisy unweighted mean of the clipped updates (server/dp/aggregate.ts) replaces the inner mean and
 * the inner strategy takes the step. The curious server sees the clipped updates it aggregates, so
 * the observer and the captures get exactly those (with `serverClippedTo`).
 */
import { Rng } from '../../shared/random';
import { clipToNorm, noisyMean } from '../dp/aggregate';
import { privacyAfterRounds } from '../dp/privacy';
import type { DpConfig } from '../scenario/schema';
import { plainView } from './observed';
import type { Strategy } from './types';

export interface DpFedAvgOptions {
  dp: DpConfig;
  /** q = clientsPerRound / clients, the sampling rate the accountant assumes. */
  sampleRate: number;
  /** Seed of the aggregation noise; round r draws from Rng(seed).fork(`aggregate/round-r`). */
  seed: number;
}

export function withDpFedAvg(inner: Strategy, options: DpFedAvgOptions): Strategy {
  const { dp } = options;
  return {
    name: `dp-fedavg(${inner.name})`,
    configure: (ctx) => inner.configure(ctx),
    aggregate: (ctx, plan, updates) => {
      const clipped = updates.map((u) => clipToNorm(u.update, dp.clippingNorm).clipped);
      const rng = new Rng(options.seed).fork(`aggregate/round-${ctx.round}`);
      // A fixed denominator (the clients selected) keeps the mean's sensitivity at C / selected when some drop.
      const mean = noisyMean(clipped, dp, rng, Math.max(ctx.selected.length, updates.length));
      return {
        params: inner.applyMean(ctx.globalParams, mean),
        observed: updates.map((u, i) => ({ ...plainView(u, plan.payload, clipped[i]), serverClippedTo: dp.clippingNorm })),
        privacy: privacyAfterRounds(dp, options.sampleRate, ctx.round),
      };
    },
    applyMean: (globalParams, mean) => inner.applyMean(globalParams, mean),
  };
}
