/**
 * Client-held data (`fedleak client --data PATH`): the client trains on its own files instead of
 * rebuilding a shard from the public scenario, and the server learns only how many examples each
 * update used. PATH is an image folder (one sub-folder per class, images at their own size), or a
 * JSON file with one data config for any file loader, e.g.
 * {"dataset": "csv", "path": "patients.csv", "label": "diagnosis"}. Relative paths inside the JSON
 * are resolved against the current directory, as in scenarios. Whether the data fits the model
 * (input shape, class count) is checked when the server's welcome arrives.
 */
import * as fs from 'node:fs';
import { DataError } from '../shared/data/errors';
import { loadDataFile } from '../shared/data/file-loaders';
import { loadImageFolder } from '../shared/data/image-folder';
import type { Dataset } from '../shared/data/types';

export interface OwnData {
  dataset: Dataset;
  /** The --data argument, for logs and errors. */
  source: string;
  /** Answer the simulator's evaluation channel (eval.truth-request) with the examples used; off by default. */
  shareTruth: boolean;
}

export function loadClientData(spec: string): Dataset {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(spec);
  } catch {
    throw new DataError(`--data ${spec}: no such file or folder`);
  }
  if (stat.isDirectory()) return loadImageFolder({ path: spec });
  if (!spec.toLowerCase().endsWith('.json')) {
    throw new DataError(
      `--data ${spec}: expected an image folder or a .json data config (e.g. {"dataset": "csv", "path": "t.csv", "label": "y"})`,
    );
  }
  let config: unknown;
  try {
    config = JSON.parse(fs.readFileSync(spec, 'utf8'));
  } catch (err) {
    throw new DataError(`--data ${spec}: not valid JSON: ${(err as Error).message}`);
  }
  return loadDataFile(config, spec);
}

/**
 * The scenario's `data.location` and the client's --data must agree: "clients" means every client
 * brings its own files; "server" (the default) means clients rebuild their shards from the scenario.
 */
export function checkDataLocation(location: 'server' | 'clients', own: OwnData | undefined): void {
  if (location === 'clients' && !own) {
    throw new DataError('the scenario says data.location "clients": each client holds its own data; start this client with --data PATH');
  }
  if (location === 'server' && own) {
    throw new DataError(
      `--data ${own.source}: the scenario says data.location "server" (clients rebuild their shards from it); ` +
        'set data.location to "clients" in the scenario to train on client-held files',
    );
  }
}
