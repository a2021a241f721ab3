/**
 * `fedleak attack --capture FILE`: re-run an attack offline on an update the server saved
 * (federation.capture), with other settings. Writes the reconstruction PNG and attack.json.
 */
import type { Command } from 'commander';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describeDefinition, readCapture, readTruth, type Capture, type CaptureTruth } from '../../server/capture/capture';
import { attackInput, attackSeed } from '../../server/observer/attack-input';
import { attackSchema, type AttackConfig } from '../../server/scenario/schema';
import { applyOverride, parseOverride } from '../../server/scenario/load';
import { initBackend } from '../../shared/tensor/backend';
import { attackNames, getAttack, getAttackDefinition, registerAttackPlugin } from '../../server/observer/attacks';
import { attackSettingsOf, isPluginAttack, parsePluginSettings } from '../../server/scenario/attack-schema';
import { describeIssue } from '../../shared/scenario/errors';
import type { AttackOutput } from '../../server/observer/attacks/types';
import { pairScores, scoreReconstruction, type ReconstructionScore } from '../../server/metrics';
import { writeComparisonPng, writeImageGrid } from '../../server/report/png';
import { UserError } from './errors';
import { collect, parseSeed } from './options';

export const ATTACK_RESULT_FORMAT = 'fedleak-attack/1';

interface AttackOptions {
  capture: string;
  attack?: string;
  iterations?: string;
  set: string[];
  out?: string;
  seed?: string;
  truth?: string;
  quiet?: boolean;
  plugin: string[];
}

/**
 * Registers the plug-ins given with --plugin (and the one the capture's scenario named, if any);
 * returns plug-in attack name → module file.
 */
export function registerOfflinePlugins(base: AttackConfig, files: readonly string[]): Map<string, string> {
  const byName = new Map<string, string>();
  const all = [...(isPluginAttack(base) && fs.existsSync(base.plugin) ? [base.plugin] : []), ...files.map((f) => path.resolve(f))];
  for (const file of all) {
    try {
      for (const name of registerAttackPlugin(file)) byName.set(name, file);
    } catch (err) {
      throw new UserError(`--plugin ${file}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return byName;
}

/** The capture's attack config with the command-line changes (and --plugin attacks), validated. */
export function offlineAttackConfig(
  base: AttackConfig,
  opts: Pick<AttackOptions, 'attack' | 'iterations' | 'set'>,
  plugins: ReadonlyMap<string, string> = new Map(),
): AttackConfig {
  const raw: Record<string, unknown> = { attack: JSON.parse(JSON.stringify(base)) as Record<string, unknown> };
  const attack = raw.attack as Record<string, unknown>;
  // Choosing another attack starts from the capture's common fields, not the old attack's plug-in settings.
  const chosen = opts.attack ?? (plugins.size === 1 && !plugins.has(String(attack.name)) ? [...plugins.keys()][0] : undefined);
  if (chosen !== undefined && chosen !== attack.name) {
    attack.name = chosen;
    delete attack.plugin;
    delete attack.settings;
  }
  const pluginFile = plugins.get(String(attack.name));
  if (pluginFile) attack.plugin = pluginFile;
  for (const text of opts.set) {
    const { path: p, value } = parseOverride(text);
    if (!p.startsWith('attack.'))
      throw new UserError(`--set ${text}: only attack.* fields can change offline; the capture fixes the model, data and training config`);
    applyOverride(raw, p, value);
  }
  if (opts.iterations !== undefined) {
    const n = Number(opts.iterations);
    if (!Number.isInteger(n) || n < 1) throw new UserError(`--iterations ${opts.iterations}: expected a positive integer`);
    attack.iterations = n;
  }
  const parsed = attackSchema.safeParse(attack);
  if (!parsed.success) throw new UserError(`attack settings: ${parsed.error.issues.map((i) => describeIssue(i, ['attack'])).join('; ')}`);
  const config = parsed.data;
  if (config.name === 'none' || !attackNames().includes(config.name)) {
    throw new UserError(
      `choose an attack with --attack NAME (or --plugin FILE); the capture's attack is "${config.name}". Available: ${attackNames().join(', ')}`,
    );
  }
  if (!isPluginAttack(config)) return config;
  const { settings, problems } = parsePluginSettings(getAttackDefinition(config.name), config.settings);
  if (problems.length) throw new UserError(`attack settings: ${problems.join('; ')}`);
  return { ...config, settings: settings as Record<string, unknown> };
}

function timestamp(): string {
  return new Date().toISOString().replace(/[:.]/g, '-').replace('T', '_').slice(0, 19);
}

function figures(capture: Capture, attack: AttackConfig, out: AttackOutput, score: ReconstructionScore | null): string {
  const o = capture.observed;
  const model = `${capture.payload.model.name}: ${describeDefinition(capture.payload.model)}`;
  const lines = [
    `capture: round ${o.round}, client ${o.sender}, ${o.kind}${o.view === 'plain' ? '' : ` (${o.view} view)`}, ${o.numExamples} examples, model ${model}${o.serverClippedTo !== undefined ? `, clipped by the server to ${o.serverClippedTo}` : ''}`,
    `attack: ${attack.name}, ${out.iterations} iterations, ${out.evaluations} evaluations, ${out.seconds.toFixed(2)} s`,
    `final objective: ${out.finalObjective.toExponential(4)}`,
    `reconstructed: ${out.count} image${out.count === 1 ? '' : 's'}, labels [${out.labels.join(', ')}]`,
  ];
  if (score) {
    lines.push(
      `score vs truth: MSE ${score.mse.toExponential(3)}, PSNR ${score.psnr.toFixed(2)} dB, SSIM ${score.ssim.toFixed(3)}, label accuracy ${(100 * score.labelAccuracy).toFixed(0)}%`,
    );
  }
  return `${lines.join('\n')}\n`;
}

async function runOfflineAttack(opts: AttackOptions): Promise<void> {
  const capture = readCapture(opts.capture);
  const plugins = registerOfflinePlugins(capture.attack, opts.plugin);
  const attack = offlineAttackConfig(capture.attack, opts, plugins);
  const { observed, payload } = capture;
  // By default the live attack's own seed, so that the offline attack repeats it exactly.
  const seed = opts.seed === undefined ? attackSeed(capture.seed, observed.round, observed.sender, observed.view) : parseSeed(opts.seed);
  const shape = payload.model.inputShape;
  const truth: CaptureTruth | null = opts.truth ? readTruth(opts.truth, shape) : null;
  await initBackend({ quiet: opts.quiet });

  const outDir = path.resolve(
    opts.out ?? path.join('runs', `attack-${path.basename(opts.capture).replace(/\.msgpack$/, '')}-${timestamp()}`),
  );
  fs.mkdirSync(outDir, { recursive: true });
  const total = attack.iterations * attack.restarts;
  let lastShown = -1;
  const output = await getAttack(attack.name)(attackInput(observed, payload, { settings: attackSettingsOf(attack), seed }), (p) => {
    const of = p.total ?? total;
    const decile = Math.floor((10 * p.iteration) / Math.max(1, of));
    if (!opts.quiet && decile !== lastShown) {
      lastShown = decile;
      process.stderr.write(`fedleak: ${attack.name}: iteration ${p.iteration}/${of}, objective ${p.objective.toExponential(4)}\n`);
    }
  });

  const score = truth
    ? scoreReconstruction(
        { images: output.images, labels: output.labels, count: output.count },
        { images: truth.images, labels: truth.labels, count: truth.count },
        shape,
      )
    : null;
  const image = 'reconstruction.png';
  if (truth && score)
    writeComparisonPng(path.join(outDir, image), truth.images, truth.count, output.images, output.count, shape, score.assignment);
  else writeImageGrid(path.join(outDir, image), [{ images: output.images, count: output.count }], shape);
  const record = {
    format: ATTACK_RESULT_FORMAT,
    capture: path.resolve(opts.capture),
    round: observed.round,
    clientId: observed.sender,
    updateKind: observed.kind,
    view: observed.view,
    ...(observed.serverClippedTo !== undefined ? { serverClippedTo: observed.serverClippedTo } : {}),
    attack,
    seed,
    count: output.count,
    labels: output.labels,
    iterations: output.iterations,
    evaluations: output.evaluations,
    finalObjective: output.finalObjective,
    seconds: output.seconds,
    image,
    score: score
      ? {
          mse: score.mse,
          psnr: score.psnr,
          ssim: score.ssim,
          labelAccuracy: score.labelAccuracy,
          trueLabels: truth?.labels,
          perImage: pairScores(score),
        }
      : undefined,
  };
  fs.writeFileSync(path.join(outDir, 'attack.json'), `${JSON.stringify(record, null, 2)}\n`);
  process.stdout.write(figures(capture, attack, output, score));
  process.stdout.write(`image: ${path.join(outDir, image)}\nresult: ${path.join(outDir, 'attack.json')}\n`);
}

export function registerAttackCommand(program: Command): void {
  program
    .command('attack')
    .description('re-run an attack offline on a captured update (federation.capture); writes <out>/reconstruction.png and attack.json')
    .requiredOption('-c, --capture <file>', 'a capture file, <run>/captures/round-<r>-client-<id>.msgpack')
    .option('-a, --attack <name>', "attack to run (default: the capture scenario's attack.name)")
    .option('-n, --iterations <n>', 'optimizer steps (dlg: L-BFGS steps)')
    .option('--set <path=value>', 'override an attack field, e.g. --set attack.tvWeight=0.01 (repeatable; value is JSON)', collect, [])
    .option('-o, --out <dir>', 'output folder (default runs/attack-<capture>-<timestamp>)')
    .option('--seed <n>', "seed for the attack's dummy initialisation (default: the seed the live attack used)")
    .option('--truth <file>', 'a fedleak-truth/1 file with the true batch, to score the reconstruction (MSE/PSNR/SSIM, labels)')
    .option(
      '--plugin <file>',
      'load a plug-in attack module (exports `attack` or `attacks`); its attack becomes the default (repeatable)',
      collect,
      [],
    )
    .option('-q, --quiet', 'no progress lines')
    .action(async (opts: AttackOptions) => {
      await runOfflineAttack(opts);
    });
}
