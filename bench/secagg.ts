/**
 * Secure aggregation's round latency for `fedleak bench`: one collect stage over loopback websockets
 * (hub, msgpack frames, real cryptography) with and without secure aggregation, for 10 and 50
 * clients carrying a lenet-zhu/MNIST-sized update (13,426 float32). Clients run in this process and
 * send a fixed vector (no training), so the figures are the protocol's and the transport's cost; on
 * a real deployment the clients' share of it runs in parallel on their own machines.
 */
import { collectPlainUpdates } from '../server/coordinator/collect';
import type { StageContext } from '../server/coordinator/stage';
import { federationSchema, defensesSchema, type SecureAggregationConfig } from '../server/scenario/schema';
import { Rng } from '../shared/random';
import { startLoopbackCohort, testPlan } from './loopback-cohort';
import { secureAggregationStage } from '../server/secagg/stage';

export interface SecAggBenchOptions {
  clients?: number[];
  quick?: boolean;
  paramCount?: number;
  log?: (line: string) => void;
}

export interface SecAggBenchRow {
  clients: number;
  /** Median wall time of one collect stage, milliseconds. */
  plainMs: number;
  secaggMs: number;
  /** SecAgg+ with k = 2⌈log2 n⌉ neighbours (when k < n − 1). */
  secaggPlusMs?: number;
  neighbours?: number;
  /** Largest |unmasked sum − plain sum| seen. */
  maxAbsError: number;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function timeStage(
  clients: number,
  paramCount: number,
  config: SecureAggregationConfig | undefined,
  runs: number,
): Promise<{ ms: number; maxAbsError: number }> {
  const rng = new Rng(clients);
  const inputs = new Map<string, Float32Array>();
  const inputOf = (id: string): Float32Array => {
    if (!inputs.has(id))
      inputs.set(
        id,
        Float32Array.from({ length: paramCount }, () => rng.normal(0, 0.01)),
      );
    return inputs.get(id)!;
  };
  const cohort = await startLoopbackCohort({ clients, paramCount, inputOf, ...(config ? { secureAggregation: config } : {}) });
  const times: number[] = [];
  let maxAbsError = 0;
  try {
    const stage = config ? secureAggregationStage({ config, seed: 1 }) : collectPlainUpdates;
    for (let r = 1; r <= runs + 1; r++) {
      const ctx: StageContext = {
        hub: cohort.hub,
        round: r,
        selected: cohort.ids,
        plan: testPlan(r, cohort.ids, new Float32Array(paramCount)),
        paramCount,
        federation: federationSchema.parse({ clients, clientsPerRound: clients, roundTimeoutMs: 120000 }),
        log: () => undefined,
      };
      const started = process.hrtime.bigint();
      const result = await stage(ctx);
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (config && result.secureAggregation?.aborted)
        throw new Error(`secure aggregation bench round aborted: ${result.secureAggregation.aborted}`);
      if (r > 1) times.push(ms); // the first round warms up the JIT and the sockets
      maxAbsError = Math.max(maxAbsError, result.secureAggregation?.maxAbsError ?? 0);
    }
  } finally {
    await cohort.close();
  }
  return { ms: median(times), maxAbsError };
}

export async function benchSecagg(
  options: SecAggBenchOptions = {},
): Promise<{ paramCount: number; runs: number; rows: SecAggBenchRow[]; note: string }> {
  const paramCount = options.paramCount ?? 13426;
  const runs = options.quick ? 1 : 3;
  const rows: SecAggBenchRow[] = [];
  for (const n of options.clients ?? [10, 50]) {
    options.log?.(`bench: secure aggregation, ${n} clients…`);
    const base = defensesSchema.parse({ secureAggregation: { threshold: 0.67 } }).secureAggregation!;
    const plain = await timeStage(n, paramCount, undefined, runs);
    const full = await timeStage(n, paramCount, base, runs);
    const row: SecAggBenchRow = { clients: n, plainMs: round1(plain.ms), secaggMs: round1(full.ms), maxAbsError: full.maxAbsError };
    const k = 2 * Math.ceil(Math.log2(n));
    if (k < n - 1) {
      const plus = await timeStage(n, paramCount, { ...base, neighbours: k }, runs);
      row.secaggPlusMs = round1(plus.ms);
      row.neighbours = k;
      row.maxAbsError = Math.max(row.maxAbsError, plus.maxAbsError);
    }
    rows.push(row);
  }
  return {
    paramCount,
    runs,
    rows,
    note: 'one collect stage over loopback websockets, clients in the same process sending a fixed vector (no training); secagg includes the evaluation-channel check of the unmasked sum',
  };
}

const round1 = (x: number): number => Number(x.toFixed(1));
