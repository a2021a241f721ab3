/**
 * A malicious server's strategy: the honest one, but every round's broadcast carries the planted
 * parameters (server/malicious/behaviour.ts re-crafts them, since the training step moves them), and
 * the step is taken from the parameters the clients actually trained. The definition with the
 * planted block already went out in `welcome`; the secrets go to the observer (server/run).
 */
import type { PlantedModel } from '../malicious/behaviour';
import type { RoundContext, Strategy } from './types';

export function withPlantedModel(base: Strategy, planted: Pick<PlantedModel, 'behaviour' | 'plant'>): Strategy {
  if (planted.behaviour === 'honest') return base;
  const sent = (ctx: RoundContext): RoundContext => ({ ...ctx, globalParams: planted.plant(ctx.globalParams) });
  return {
    name: `${planted.behaviour}+${base.name}`,
    configure: (ctx) => base.configure(sent(ctx)),
    aggregate: (ctx, plan, updates) => base.aggregate({ ...ctx, globalParams: plan.payload.params }, plan, updates),
    applyMean: (globalParams, mean) => base.applyMean(planted.plant(globalParams), mean),
  };
}
