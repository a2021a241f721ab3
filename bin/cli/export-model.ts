/**
 * `fedleak export-model <built-in> --out DIR`: the built-in model with freshly initialised parameters
 * (the run's θ₀ for that seed) as a tfjs LayersModel folder, so users see the format the import reads.
 */
import type { Command } from 'commander';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { modelFromDefinition } from '../../shared/models/definition';
import { ModelExportError, writeTfjsLayersModel } from '../../shared/models/export/tfjs-layers';
import { paramCount } from '../../shared/models/types';
import { Rng } from '../../shared/random';
import { UserError } from './errors';
import { collect, parseSeed } from './options';
import { builtinModel, builtinModelEntries, DEFAULT_CLASSES, DEFAULT_SHAPE, userFacing, type ModelOptions } from './model-source';

interface ExportOptions extends ModelOptions {
  out: string;
  seed: string;
  force?: boolean;
}

function checkOut(dir: string, force: boolean): void {
  if (fs.existsSync(dir) && !fs.statSync(dir).isDirectory()) throw new UserError(`--out ${dir}: exists and is not a folder`);
  const json = path.join(dir, 'model.json');
  if (!force && fs.existsSync(json)) throw new UserError(`--out ${dir}: already holds a model.json; choose another folder or pass --force`);
}

export function exportBuiltinModel(name: string, opts: ExportOptions): { files: string[]; values: number; summary: string } {
  if (!builtinModelEntries().some((e) => e.name === name) && fs.existsSync(name))
    throw new UserError(`${name}: export-model writes built-in models; a model file is already in a format fedleak reads`);
  const seed = parseSeed(opts.seed);
  const source = builtinModel(name, opts);
  const dir = path.resolve(opts.out);
  checkOut(dir, opts.force === true);
  const model = userFacing(() => modelFromDefinition(source.definition));
  // The stream a run's server draws θ₀ from (server/coordinator/setup.ts), so the file equals a run's initial model.
  const params = model.initParams(new Rng(seed).fork('model-init'));
  let files: string[];
  try {
    files = writeTfjsLayersModel(dir, source.definition, params, 'fedleak export-model');
  } catch (err) {
    if (err instanceof ModelExportError) throw new UserError(err.message);
    throw err;
  }
  const d = source.definition;
  const summary = `${d.name} ${JSON.stringify(source.settings)}, input ${d.inputShape.join('×')}, ${d.numClasses} classes, seed ${seed}`;
  return { files, values: paramCount(d.params), summary };
}

export function registerExportModelCommand(program: Command): void {
  program
    .command('export-model')
    .description('write a built-in model with freshly initialised parameters as a tfjs LayersModel (model.json + weights) folder')
    .argument(
      '<model>',
      `built-in model name (${builtinModelEntries()
        .map((e) => e.name)
        .join(', ')})`,
    )
    .requiredOption('--out <dir>', 'folder to write model.json and group1-shard1of1.bin into')
    .option('--shape <h,w,c>', `input shape (default ${DEFAULT_SHAPE.join(',')})`)
    .option('--classes <k>', `number of classes (default ${DEFAULT_CLASSES})`)
    .option('--set <model.field=value>', 'a model setting, e.g. --set model.channels=[8,16] (repeatable; value is JSON)', collect, [])
    .option('--seed <n>', "initialisation seed (a run's initial model for the same seed)", '0')
    .option('--force', 'overwrite a model.json already in --out')
    .action((model: string, opts: ExportOptions) => {
      const done = exportBuiltinModel(model, opts);
      process.stdout.write(`${done.files.join('\n')}\n`);
      process.stderr.write(`fedleak export-model: ${done.summary}: ${done.values.toLocaleString('en-US')} parameter values\n`);
    });
}
