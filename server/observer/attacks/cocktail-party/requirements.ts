/** What the Cocktail Party attack needs from the threat model, for the options it runs with. */
import type { Capability } from '../../threat-model';
import type { CocktailPartyOptions } from './readout';

export function cocktailPartyRequirements(opts: Pick<CocktailPartyOptions, 'method' | 'binaryPrior' | 'dataMean'>): Capability[] {
  // The updates, and which parameters form the first dense layer (its shape and bias).
  const needs: Capability[] = ['updates', 'architecture'];
  // Total variation and "digits are strokes on black" are generic priors on the inputs (SoK B).
  if ((opts.method ?? 'priors') === 'priors' || opts.binaryPrior) needs.push('data-prior');
  // The dataset's mean image is computed from samples of the clients' distribution (SoK D).
  if (opts.dataMean) needs.push('surrogate-data');
  return needs;
}
