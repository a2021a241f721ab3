/**
 * Strategies by name, each with its own settings schema (zod). The federation's `algorithm` names
 * the base strategy; `defenses.dp` wraps it in DP-FedAvg; secure aggregation is a collect workflow
 * around whichever strategy runs (server/secagg/stage.ts). Adding a strategy: one file exporting a
 * factory, one entry here.
 */
import { z } from 'zod';
import type { ModelDefinition } from '../../shared/models/definition';
import type { Scenario } from '../scenario/schema';
import { dpSampleRate } from '../dp/fedavg';
import { withDpFedAvg } from './dp-fedavg';
import { aggregationRule, describeAggregation } from './aggregation';
import { fedMeanStrategy } from './fed-mean';
import { withPlantedModel } from './malicious';
import type { PlantedModel } from '../malicious/behaviour';
import { trainingConfig } from './payload';
import type { Strategy } from './types';

/** What every strategy factory gets: the model it broadcasts and the scenario it serves. */
export interface StrategyEnv {
  model: ModelDefinition;
  scenario: Scenario;
  /** A malicious server (scenario `server.behaviour`): its planted parameters go into every broadcast. */
  planted?: Pick<PlantedModel, 'behaviour' | 'plant'>;
}

export interface StrategyEntry<Settings> {
  settings: z.ZodType<Settings>;
  create(env: StrategyEnv, settings: Settings): Strategy;
}

function fedMean(env: StrategyEnv): Strategy {
  const f = env.scenario.federation;
  return fedMeanStrategy({
    model: env.model,
    training: trainingConfig(f),
    roundTimeoutMs: f.roundTimeoutMs,
    rule: aggregationRule(f.aggregation),
    ruleName: describeAggregation(f.aggregation),
  });
}

const noSettings = z.strictObject({});

export const STRATEGIES = {
  fedsgd: { settings: noSettings, create: fedMean },
  fedavg: { settings: noSettings, create: fedMean },
} satisfies Record<string, StrategyEntry<Record<string, never>>>;

export type StrategyName = keyof typeof STRATEGIES;

/** The scenario's strategy: its algorithm's, wrapped in DP-FedAvg when defenses.dp is set. */
export function strategyFor(env: StrategyEnv): Strategy {
  const entry: StrategyEntry<Record<string, never>> = STRATEGIES[env.scenario.federation.algorithm];
  const base = entry.create(env, entry.settings.parse({}));
  const dp = env.scenario.defenses.dp;
  const wrapped = dp ? withDpFedAvg(base, { dp, sampleRate: dpSampleRate(env.scenario), seed: env.scenario.seed }) : base;
  return env.planted ? withPlantedModel(wrapped, env.planted) : wrapped;
}

export type { AcceptedUpdate, Aggregation, RoundContext, RoundPlan, Strategy } from './types';
export { withDpFedAvg } from './dp-fedavg';
export { fedMeanStrategy } from './fed-mean';
export {
  aggregationProblems,
  aggregationRule,
  aggregationSchema,
  describeAggregation,
  krumScores,
  type AggregationConfig,
  type UpdateAdjustment,
} from './aggregation';
export { withPlantedModel } from './malicious';
export { broadcastPlan, roundPayload, roundStartMessage, trainingConfig } from './payload';
