/**
 * `fedleak inspect-model <model.json | built-in>`: the model's layers and parameter count, and which
 * attacks apply to it and why not (server/observer/applicability.ts), as text or --json.
 */
import type { Command } from 'commander';
import { modelFromDefinition } from '../../shared/models/definition';
import { summarizeDefinition, type ModelSummary } from '../../shared/models/summary';
import * as path from 'node:path';
import { attackApplicability, type AttackApplicability, type ModelApplicability } from '../../server/observer/applicability';
import { registerAttackPlugin } from '../../server/observer/attacks';
import { UserError } from './errors';
import { collect } from './options';
import { DEFAULT_CLASSES, DEFAULT_SHAPE, resolveModel, userFacing, type ModelOptions, type ModelSource } from './model-source';

interface InspectOptions extends ModelOptions {
  json?: boolean;
  plugin: string[];
}

function registerPlugins(files: readonly string[]): void {
  for (const file of files) {
    try {
      registerAttackPlugin(path.resolve(file));
    } catch (err) {
      throw new UserError(`--plugin ${file}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

export interface InspectReport {
  origin: string;
  settings?: Record<string, unknown>;
  droppedSoftmax?: boolean;
  model: ModelSummary;
  applicability: ModelApplicability;
}

export function inspectModel(source: ModelSource): InspectReport {
  return userFacing(() => ({
    origin: source.origin,
    ...(source.settings ? { settings: source.settings } : {}),
    ...(source.droppedSoftmax !== undefined ? { droppedSoftmax: source.droppedSoftmax } : {}),
    model: summarizeDefinition(source.definition),
    applicability: attackApplicability(modelFromDefinition(source.definition)),
  }));
}

const count = (n: number) => n.toLocaleString('en-US');
const dims = (shape: readonly number[]) => shape.join('×');

/** Left-aligned columns, two spaces apart. */
function table(rows: string[][]): string[] {
  const widths = rows[0].map((_c, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => `  ${r.map((c, i) => c.padEnd(widths[i])).join('  ')}`.trimEnd());
}

function layerLines(m: ModelSummary): string[] {
  const rows = m.layers.map((l) => [l.name, l.op, l.inputs.join(', '), dims(l.outputShape), count(l.params)]);
  return table([['layer', 'op', 'inputs', 'output', 'params'], ...rows, ['total', '', '', '', count(m.totalParams)]]);
}

function propertyLines(a: ModelApplicability): string[] {
  const t = a.traits;
  const none = (names: string[]) => (names.length ? names.join(', ') : 'none');
  return [
    `  logit layer (dense, bias, linear, last): ${t.logitDense ?? 'none'}`,
    `  dense first layer with bias: ${t.firstDenseWithBias ?? 'none'}`,
    `  batch norm: ${none(t.batchNormLayers)}; dropout: ${none(t.dropoutLayers)}`,
    ...a.notes.map((n) => `  note: ${n}`),
  ];
}

function attackLines(attacks: readonly AttackApplicability[]): string[] {
  const width = Math.max(...attacks.map((a) => a.attack.length));
  return attacks.flatMap((a) => {
    const needs = `needs ${a.requires.join(', ')}; weakest threat model ${a.weakestThreatModel ?? 'none (no preset grants it)'}`;
    const head = `  ${a.attack.padEnd(width)}  ${a.applies ? 'applies        ' : 'does not apply '} ${needs}`;
    return a.problem ? [head, `  ${' '.repeat(width)}  why not: ${a.problem}`] : [head];
  });
}

export function formatInspectReport(r: InspectReport): string {
  const m = r.model;
  const head = r.settings ? `model ${m.name}: built-in, settings ${JSON.stringify(r.settings)}` : `model ${r.origin}: tfjs LayersModel`;
  const softmax = r.droppedSoftmax ? '; its final softmax was removed (fedleak models output logits)' : '';
  return [
    `${head}${softmax}`,
    `input ${dims(m.inputShape)}, ${m.numClasses} classes, ${count(m.totalParams)} parameters in ${m.paramTensors} tensors`,
    '',
    ...layerLines(m),
    '',
    'properties',
    ...propertyLines(r.applicability),
    '',
    'attacks (threat models A–H: docs/verdicts.md)',
    ...attackLines(r.applicability.attacks),
    '',
  ].join('\n');
}

export function registerInspectModelCommand(program: Command): void {
  program
    .command('inspect-model')
    .description("a model's layers and parameter count, and which attacks apply to it and why not (a tfjs model.json or a built-in model)")
    .argument('<model>', 'path of a tfjs LayersModel model.json (or its folder), or a built-in model name')
    .option('--shape <h,w,c>', `input shape of a built-in model (default ${DEFAULT_SHAPE.join(',')})`)
    .option('--classes <k>', `classes of a built-in model (default ${DEFAULT_CLASSES})`)
    .option('--set <model.field=value>', 'a built-in model setting, e.g. --set model.hidden=[64] (repeatable; value is JSON)', collect, [])
    .option('--plugin <file>', 'also judge the attacks of a plug-in module (repeatable)', collect, [])
    .option('--json', 'print the report as JSON')
    .action((model: string, opts: InspectOptions) => {
      registerPlugins(opts.plugin);
      const report = inspectModel(resolveModel(model, opts));
      process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatInspectReport(report));
    });
}
