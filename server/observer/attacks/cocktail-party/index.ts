/** Cocktail Party attack (Kariyappa et al. 2023): unmix a dense layer's weight gradient into its inputs. */
export { cocktailParty, type CocktailPartyOptions, type CocktailPartyResult, type UnmixingMethod } from './readout';
export { cocktailPartyRequirements } from './requirements';
