/**
 * Runs one scenario end to end and writes <outDir>/results.json.
 * STUB: the federated runtime fills it (server + client processes + observer).
 */
import type { LoadedScenario } from '../../shared/scenario/load';
import type { RunResults } from '../../shared/results';

export interface RunOptions {
  outDir: string;
  /** Print progress lines to stderr. */
  progress: boolean;
}

export async function runScenario(loaded: LoadedScenario, options: RunOptions): Promise<RunResults> {
  void loaded;
  void options;
  throw new Error('runScenario is not implemented yet');
}
