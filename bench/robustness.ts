/**
 * `fedleak bench --only robustness`: final test accuracy of fedavg-mnist (reduced: see
 * ROBUSTNESS_DEFAULTS) with one Byzantine client, per aggregation rule × attack, next to the clean
 * run; and the server's memory under many unauthenticated connections (bench/robustness-preauth.ts).
 */
import { loadScenario } from '../server/scenario/load';
import type { Scenario } from '../server/scenario/schema';
import { BYZANTINE_ATTACKS, runWithByzantine, type ByzantineAttack } from './robustness-federation';

export interface RobustnessOptions {
  clients: number;
  rounds: number;
  /** MNIST examples loaded (train + test). */
  dataLimit: number;
  evalLimit: number;
  /** The aggregation settings to compare, by label. */
  aggregations: Record<string, unknown>;
}

export const ROBUSTNESS_DEFAULTS: RobustnessOptions = {
  clients: 5,
  rounds: 3,
  dataLimit: 3000,
  evalLimit: 600,
  aggregations: {
    mean: 'mean',
    'norm-bounded(M=5)': { name: 'norm-bounded', normBound: 5 },
    median: 'median',
    'trimmed-mean(β=0.2)': { name: 'trimmed-mean', beta: 0.2 },
    'krum(f=1)': { name: 'krum', f: 1 },
    'multi-krum(f=1, m=3)': { name: 'krum', f: 1, m: 3 },
  },
};

/** fedavg-mnist with the bench's size and the aggregation rule. */
export function robustnessScenario(options: RobustnessOptions, aggregation: unknown): Scenario {
  const overrides = [
    `federation.clients=${options.clients}`,
    `federation.clientsPerRound=${options.clients}`,
    `federation.clientsPerProcess=${options.clients}`,
    `federation.rounds=${options.rounds}`,
    `federation.evalLimit=${options.evalLimit}`,
    `data.limit=${options.dataLimit}`,
    `federation.aggregation=${JSON.stringify(aggregation)}`,
  ];
  return loadScenario('fedavg-mnist', overrides).scenario;
}

export interface RobustnessCell {
  aggregation: string;
  attack: ByzantineAttack | 'none';
  finalAccuracy: number;
  status: string;
  /** Rounds whose aggregate was refused, and the updates capped / clipped / rejected. */
  rejectedAggregates: number;
  adjustments: number;
}

export async function benchRobustness(
  options: RobustnessOptions = ROBUSTNESS_DEFAULTS,
  log: (line: string) => void = () => undefined,
): Promise<RobustnessCell[]> {
  const cells: RobustnessCell[] = [];
  const env = { ...process.env, FEDLEAK_QUIET_BACKEND: '1' };
  for (const [label, aggregation] of Object.entries(options.aggregations)) {
    for (const attack of [null, ...(Object.keys(BYZANTINE_ATTACKS) as ByzantineAttack[])]) {
      const run = await runWithByzantine(robustnessScenario(options, aggregation), attack, env);
      const last = run.rounds[run.rounds.length - 1];
      const cell: RobustnessCell = {
        aggregation: label,
        attack: attack ?? 'none',
        finalAccuracy: last ? last.testAccuracy : NaN,
        status: run.status,
        rejectedAggregates: run.rounds.filter((r) => r.aggregation?.rejectedAggregate).length,
        adjustments: run.rounds.reduce((n, r) => n + (r.aggregation?.adjustments.length ?? 0), 0),
      };
      log(
        `robustness: ${label} × ${cell.attack}: ${(100 * cell.finalAccuracy).toFixed(1)} % (${cell.adjustments} adjustments, ${cell.rejectedAggregates} rejected aggregates)`,
      );
      cells.push(cell);
    }
  }
  return cells;
}

/** The table: one row per aggregation, one column per attack. */
export function formatRobustness(cells: readonly RobustnessCell[]): string {
  const attacks = ['none', ...Object.keys(BYZANTINE_ATTACKS)];
  const rows = [...new Set(cells.map((c) => c.aggregation))];
  const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(1)} %` : 'n/a');
  const lines = [`| aggregation | ${attacks.join(' | ')} |`, `|---|${attacks.map(() => '---').join('|')}|`];
  for (const row of rows)
    lines.push(
      `| ${row} | ${attacks.map((a) => pct(cells.find((c) => c.aggregation === row && c.attack === a)?.finalAccuracy ?? NaN)).join(' | ')} |`,
    );
  return lines.join('\n');
}
