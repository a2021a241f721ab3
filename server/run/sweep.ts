/**
 * Sweeps: a scenario with `sweep: [{label, set}]` runs once per entry, with that entry's
 * dotted-path overrides, into <out>/<label>/; then <out>/results.json gets one `sweep` row per
 * variant (test accuracy and its cost next to the attack's PSNR/SSIM/label accuracy, privacy if
 * any) and <out>/reconstructions.png one row of pictures per variant. Every variant keeps the
 * scenario's seed, so the same clients attack the same private examples in every row.
 */
import * as path from 'node:path';
import { applyOverride, ScenarioError, validateScenario, type LoadedScenario } from '../scenario/load';
import { isScored, type AttackRecord, type RunResults, type SweepRow } from '../report/results';
import type { ReleaseResults } from '../release/schema';
import { assembleResults, writeReport } from '../report/results-writer';
import { runScenario, type RunOptions } from './index';
import { writeSweepGrid } from '../report/sweep-grid';

export const SWEEP_GRID_FILE = 'reconstructions.png';

export interface SweepVariant {
  label: string;
  overrides: Record<string, unknown>;
  loaded: LoadedScenario;
}

const LABEL = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Every variant as a validated scenario, before anything runs: a bad row fails the sweep at once. */
export function sweepVariants(loaded: LoadedScenario): SweepVariant[] {
  const entries = loaded.scenario.sweep ?? [];
  if (entries.length === 0) throw new ScenarioError(`${loaded.file}: sweep is empty; give at least one {label, set} entry`);
  const seen = new Set<string>();
  return entries.map((entry, i) => {
    if (!LABEL.test(entry.label)) {
      throw new ScenarioError(`${loaded.file}: sweep[${i}].label "${entry.label}" must be a folder name: letters, digits, ".", "_" or "-"`);
    }
    if (seen.has(entry.label)) throw new ScenarioError(`${loaded.file}: sweep[${i}].label "${entry.label}" is used twice`);
    seen.add(entry.label);
    const raw = JSON.parse(JSON.stringify(loaded.raw)) as Record<string, unknown>;
    delete raw.sweep;
    for (const [dotted, value] of Object.entries(entry.set)) {
      if (dotted === 'sweep' || dotted.startsWith('sweep.'))
        throw new ScenarioError(`${loaded.file}: sweep[${i}].set cannot set "${dotted}"`);
      applyOverride(raw, dotted, value);
    }
    const scenario = validateScenario(raw, `${loaded.file} (sweep variant "${entry.label}")`, { baseDir: path.dirname(loaded.file) });
    return { label: entry.label, overrides: entry.set, loaded: { scenario, file: loaded.file, raw } };
  });
}

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** One table row from a variant's results. Attack metrics are means over its scored attacks. */
export function sweepRow(variant: SweepVariant, results: RunResults): SweepRow {
  const last = results.rounds[results.rounds.length - 1];
  const scored = results.attacks.filter(isScored);
  const privacy = results.privacy ?? [...results.rounds].reverse().find((r) => r.privacy)?.privacy;
  return {
    variant: variant.label,
    overrides: variant.overrides,
    finalTestAccuracy: last ? last.testAccuracy : NaN,
    attack:
      scored.length === 0
        ? null
        : {
            mse: mean(scored.map((a) => a.mse)),
            psnr: mean(scored.map((a) => a.psnr)),
            ssim: mean(scored.map((a) => a.ssim)),
            labelAccuracy: mean(scored.map((a) => a.labelAccuracy)),
            count: scored.length,
          },
    ...(privacy ? { privacy } : {}),
    ...(results.release
      ? {
          release: results.release.attacks.map((a) =>
            a.attack === 'mi-face'
              ? { attack: a.attack, access: a.access, masking: a.masking, classAccuracy: a.classAccuracy, queries: a.queries }
              : {
                  attack: a.attack,
                  access: a.access,
                  masking: a.masking,
                  attributeAccuracy: a.attributeAccuracy,
                  baselineAccuracy: a.baselineAccuracy,
                  queries: a.queries,
                },
          ),
        }
      : {}),
  };
}

/** The variants' release sections in one: every attack labelled with its variant, the first variant's model and evaluator. */
function mergeRelease(parts: { label: string; release: ReleaseResults }[]): ReleaseResults | undefined {
  if (parts.length === 0) return undefined;
  const attacks = parts.flatMap(({ label, release }) =>
    release.attacks.map((a) => ({
      ...a,
      variant: label,
      ...(a.attack === 'mi-face' && a.image ? { image: path.join(label, a.image) } : {}),
    })),
  );
  const monitors = parts.map((p) => p.release.monitor).filter((m) => m !== undefined);
  const monitor = monitors.length
    ? { benignQueries: monitors.reduce((s, m) => s + m.benignQueries, 0), benignFlagged: monitors.reduce((s, m) => s + m.benignFlagged, 0) }
    : undefined;
  return { model: parts[0].release.model, evaluator: parts[0].release.evaluator, attacks, ...(monitor ? { monitor } : {}) };
}

/** Accuracy cost of each row: the first row's final test accuracy minus its own. */
export function withAccuracyCost(rows: SweepRow[]): SweepRow[] {
  const baseline = rows[0]?.finalTestAccuracy;
  return rows.map((r) => ({ ...r, accuracyCost: baseline - r.finalTestAccuracy }));
}

export type ScenarioRunner = (loaded: LoadedScenario, options: RunOptions) => Promise<RunResults>;

export async function runSweep(loaded: LoadedScenario, options: RunOptions, runOne: ScenarioRunner = runScenario): Promise<RunResults> {
  const variants = sweepVariants(loaded);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const startedAt = new Date().toISOString();
  const rows: SweepRow[] = [];
  const attacks: AttackRecord[] = [];
  const grid: { label: string; images: string[] }[] = [];
  const releases: { label: string; release: ReleaseResults }[] = [];
  let backend: RunResults['backend'] | null = null;
  for (const [k, v] of variants.entries()) {
    if (options.progress) log(`sweep: variant ${k + 1}/${variants.length} "${v.label}" ${JSON.stringify(v.overrides)}`);
    const dir = path.join(options.outDir, v.label);
    const results = await runOne(v.loaded, { ...options, outDir: dir });
    backend = backend ?? results.backend;
    rows.push(sweepRow(v, results));
    // Pictures and records keep their place in the variant's folder, named from the sweep's.
    for (const a of results.attacks) attacks.push({ ...a, variant: v.label, ...(a.image ? { image: path.join(v.label, a.image) } : {}) });
    if (results.release) releases.push({ label: v.label, release: results.release });
    grid.push({ label: v.label, images: results.attacks.filter((a) => a.image).map((a) => path.join(dir, a.image as string)) });
  }
  await writeSweepGrid(path.join(options.outDir, SWEEP_GRID_FILE), grid);
  const combined = assembleResults({
    scenario: loaded.scenario,
    scenarioFile: loaded.file,
    backend: backend as RunResults['backend'],
    startedAt,
    rounds: [],
    attacks,
    sweep: withAccuracyCost(rows),
    images: [SWEEP_GRID_FILE],
    // Each variant's own results.json says how it ended.
    status: 'finished',
  });
  const release = mergeRelease(releases);
  if (release) combined.release = release;
  await writeReport(options.outDir, combined);
  return combined;
}
