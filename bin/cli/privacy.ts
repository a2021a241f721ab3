/**
 * `fedleak privacy`: the RDP accountant on the command line. Given z it prints ε; given a target
 * ε instead it solves for the smallest z that meets it.
 */
import type { Command } from 'commander';
import { computeEpsilon, noiseMultiplierForEpsilon } from '../../server/dp/rdp-accountant';
import { UserError } from './errors';

interface PrivacyOptions {
  noiseMultiplier?: string;
  epsilon?: string;
  sampleRate?: string;
  steps?: string;
  delta?: string;
  json?: boolean;
}

function parseNumber(flag: string, text: string | undefined, check: (n: number) => boolean, expected: string): number {
  if (text === undefined) throw new UserError(`${flag} is required (${expected})`);
  const n = text.trim() === '' ? NaN : Number(text);
  if (!Number.isFinite(n) || !check(n)) throw new UserError(`${flag} ${text}: expected ${expected}`);
  return n;
}

export interface PrivacyAnswer {
  epsilon: number;
  delta: number;
  noiseMultiplier: number;
  sampleRate: number;
  steps: number;
  /** RDP order that gave the bound. */
  order: number;
  /** True when z was solved for from a target epsilon. */
  solved: boolean;
  targetEpsilon?: number;
}

export function answerPrivacy(opts: PrivacyOptions): PrivacyAnswer {
  if (opts.noiseMultiplier !== undefined && opts.epsilon !== undefined) {
    throw new UserError('give either --noise-multiplier (to compute epsilon) or --epsilon (to solve for the noise multiplier), not both');
  }
  if (opts.noiseMultiplier === undefined && opts.epsilon === undefined) {
    throw new UserError('give --noise-multiplier Z to compute epsilon, or --epsilon E to solve for the noise multiplier');
  }
  const sampleRate = parseNumber(
    '--sample-rate',
    opts.sampleRate,
    (n) => n > 0 && n <= 1,
    'a sampling rate q in (0, 1], e.g. clients per round / clients',
  );
  const steps = parseNumber('--steps', opts.steps, (n) => Number.isInteger(n) && n > 0, 'a positive integer number of steps (rounds)');
  const delta = parseNumber('--delta', opts.delta, (n) => n > 0 && n < 1, 'a delta in (0, 1), e.g. 1e-5');
  if (opts.epsilon !== undefined) {
    const target = parseNumber('--epsilon', opts.epsilon, (n) => n > 0, 'a target epsilon > 0');
    const z = noiseMultiplierForEpsilon(target, sampleRate, steps, delta);
    const { epsilon, order } = computeEpsilon(z, sampleRate, steps, delta);
    return { epsilon, delta, noiseMultiplier: z, sampleRate, steps, order, solved: true, targetEpsilon: target };
  }
  const z = parseNumber('--noise-multiplier', opts.noiseMultiplier, (n) => n > 0, 'a noise multiplier z > 0 (noise std / clipping norm)');
  const { epsilon, order } = computeEpsilon(z, sampleRate, steps, delta);
  return { epsilon, delta, noiseMultiplier: z, sampleRate, steps, order, solved: false };
}

export function registerPrivacyCommand(program: Command): void {
  program
    .command('privacy')
    .description(
      '(epsilon, delta) of the Poisson-subsampled Gaussian mechanism by the Renyi-DP accountant, or the noise multiplier for a target epsilon',
    )
    .option('--noise-multiplier <z>', 'noise std divided by the clipping norm')
    .option('--epsilon <e>', 'target epsilon: solve for the noise multiplier instead')
    .option('--sample-rate <q>', 'probability that a client takes part in a step (clients per round / clients)')
    .option('--steps <t>', 'number of steps (rounds)')
    .option('--delta <d>', 'delta of the (epsilon, delta) guarantee')
    .option('--json', 'print one JSON object')
    .action((opts: PrivacyOptions) => {
      const a = answerPrivacy(opts);
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(a)}\n`);
        return;
      }
      const setting = `q = ${a.sampleRate}, ${a.steps} steps, delta = ${a.delta}`;
      if (a.solved) {
        process.stdout.write(
          `noise multiplier z = ${a.noiseMultiplier.toPrecision(6)} gives epsilon = ${a.epsilon.toFixed(4)} <= ${a.targetEpsilon} (${setting}; best RDP order ${a.order})\n`,
        );
      } else {
        process.stdout.write(`epsilon = ${a.epsilon.toFixed(4)} (z = ${a.noiseMultiplier}, ${setting}; best RDP order ${a.order})\n`);
      }
    });
}
