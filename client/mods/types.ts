/**
 * Client mods, after Flower's: each is `(update, context, next)` and either passes a (transformed)
 * update on with `next` or takes it over (secure aggregation masks it and answers the server's
 * protocol instead of sending it in the clear). The chain in client/mods/chain.ts runs them in
 * `defenses.order`; the end of the chain sends the update. The chain owns `update.values`: mods may
 * change it in place.
 */
import type { ParamSpec } from '../../shared/models/types';
import type { Rng } from '../../shared/random';
import type { WireUpdateKind } from '../../shared/wire';

export interface ClientUpdate {
  round: number;
  kind: WireUpdateKind;
  /** Distinct examples behind the update. */
  numExamples: number;
  /** Flat float32, the model's parameter order. */
  values: Float32Array;
}

/** What a mod did, as plain numbers for results.json (e.g. norm before/after, zeroed count). */
export type StageReport = Record<string, number>;

export interface ModContext {
  /** The client's seeded stream for this round; mods that draw noise advance it. */
  rng: Rng;
  /** Tensor boundaries of the update (the model's specs); per-tensor mods treat the update as one tensor without them. */
  specs?: readonly ParamSpec[];
  /** What each mod did, by mod name. */
  report: Record<string, StageReport>;
}

export type Next = (update: ClientUpdate, context: ModContext) => void;
export type ClientMod = (update: ClientUpdate, context: ModContext, next: Next) => void;

/** The context a defence transform sees (the part of ModContext it needs). */
export type DefenseContext = Pick<ModContext, 'rng' | 'specs'>;

/** An in-place transform of the update with its config: the shape of clipping, pruning, noise, quantisation. */
export interface Defense<Config> {
  readonly name: string;
  /** Transforms `values` in place. */
  apply(values: Float32Array, config: Config, context: DefenseContext): StageReport;
}

/** A Defense as a mod: transform in place, report under its name, pass on. */
export function transformMod<C>(defense: Defense<C>, config: C): ClientMod {
  return (update, context, next) => {
    context.report[defense.name] = defense.apply(update.values, config, context);
    next(update, context);
  };
}
