/**
 * A SYNTHETIC "warfarin-like" patient table for attribute inference (Fredrikson et al., USENIX
 * Security 2014, inferred VKORC1 genotype from a warfarin dosing model). No real patient is in it.
 * Each row draws demographics, a CYP2C9 and a VKORC1 genotype from fixed marginals (independently),
 * computes a weekly dose with coefficients in the spirit of the IWPC pharmacogenetic formula
 * (√dose linear in age decade, height, weight, genotypes, race, amiodarone, enzyme inducers, plus
 * Gaussian noise), and labels the row with its dose band. The genotype is thus genuinely predictive
 * of the label. Deterministic in (rows, seed).
 *
 *   node dist/tools/data/warfarin-like.js [out.csv] [--rows N] [--seed S]
 *
 * wrote scenarios/data/warfarin-like.csv with the defaults (1,500 rows, seed 2014).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Rng } from '../../shared/random';

export interface WarfarinLikeOptions {
  rows: number;
  seed: number;
  /** Standard deviation of the noise on √(weekly dose). */
  noise?: number;
}

export const WARFARIN_LIKE_DEFAULTS = { rows: 1500, seed: 2014, noise: 0.4 };

/** Value and probability; the √dose effect relative to the first value. */
type Category = readonly [name: string, probability: number, effect: number];

const VKORC1: Category[] = [
  ['G/G', 0.38, 0],
  ['A/G', 0.42, -0.8677],
  ['A/A', 0.2, -1.6974],
];
const CYP2C9: Category[] = [
  ['*1/*1', 0.7, 0],
  ['*1/*2', 0.15, -0.5211],
  ['*1/*3', 0.1, -0.9357],
  ['*2/*2', 0.02, -1.0616],
  ['*2/*3', 0.02, -1.9206],
  ['*3/*3', 0.01, -2.3312],
];
const RACE: Category[] = [
  ['white', 0.6, 0],
  ['asian', 0.15, -0.1092],
  ['black', 0.15, -0.276],
  ['mixed', 0.1, -0.1032],
];
/** Age in decades 2–9 (20s … 90s). */
const AGE_DECADES = [2, 3, 4, 5, 6, 7, 8, 9];
const AGE_WEIGHTS = [0.03, 0.06, 0.1, 0.14, 0.18, 0.2, 0.17, 0.12];
/** Weekly dose bands (mg/week) that make the label. */
const BANDS: readonly [upTo: number, name: string][] = [
  [21, 'under-21'],
  [35, '21-35'],
  [49, '35-49'],
  [Infinity, '49-plus'],
];

export const WARFARIN_LIKE_HEADER = [
  'age_decade',
  'height_cm',
  'weight_kg',
  'race',
  'amiodarone',
  'enzyme_inducer',
  'cyp2c9',
  'vkorc1',
  'dose',
];

function pick<T>(rng: Rng, items: readonly T[], weights: readonly number[]): T {
  let u = rng.next() * weights.reduce((a, b) => a + b, 0);
  for (let i = 0; i < items.length; i++) {
    u -= weights[i];
    if (u < 0) return items[i];
  }
  return items[items.length - 1];
}

function category(rng: Rng, table: readonly Category[]): Category {
  return pick(
    rng,
    table,
    table.map((c) => c[1]),
  );
}

function row(rng: Rng, noise: number): string[] {
  const age = pick(rng, AGE_DECADES, AGE_WEIGHTS);
  const height = rng.normal(168, 10);
  const weight = Math.min(160, Math.max(40, rng.normal(78, 16)));
  const race = category(rng, RACE);
  const amiodarone = rng.next() < 0.1 ? 1 : 0;
  const inducer = rng.next() < 0.05 ? 1 : 0;
  const cyp = category(rng, CYP2C9);
  const vkorc1 = category(rng, VKORC1);
  const root =
    5.6044 - 0.2614 * age + 0.0087 * height + 0.0128 * weight + race[2] + cyp[2] + vkorc1[2] + 1.1816 * inducer - 0.5503 * amiodarone;
  const dose = Math.max(0, root + rng.normal(0, noise)) ** 2;
  const band = BANDS.find(([upTo]) => dose < upTo) ?? BANDS[BANDS.length - 1];
  return [String(age), height.toFixed(1), weight.toFixed(1), race[0], String(amiodarone), String(inducer), cyp[0], vkorc1[0], band[1]];
}

/** The table as CSV text, header first. */
export function warfarinLikeCsv(o: WarfarinLikeOptions): string {
  const rng = new Rng(o.seed).fork('warfarin-like');
  const noise = o.noise ?? WARFARIN_LIKE_DEFAULTS.noise;
  const lines = [WARFARIN_LIKE_HEADER.join(',')];
  for (let i = 0; i < o.rows; i++) lines.push(row(rng, noise).join(','));
  return `${lines.join('\n')}\n`;
}

function main(argv: string[]): void {
  let out = path.resolve(__dirname, '..', '..', '..', 'scenarios', 'data', 'warfarin-like.csv');
  const o = { ...WARFARIN_LIKE_DEFAULTS };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--rows') o.rows = Number(argv[++i]);
    else if (argv[i] === '--seed') o.seed = Number(argv[++i]);
    else out = path.resolve(argv[i]);
  }
  if (!Number.isInteger(o.rows) || o.rows <= 0) throw new Error(`--rows: expected a positive integer, got ${o.rows}`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, warfarinLikeCsv(o));
  process.stdout.write(`wrote ${o.rows} rows (seed ${o.seed}) to ${out}\n`);
}

if (require.main === module) main(process.argv.slice(2));
