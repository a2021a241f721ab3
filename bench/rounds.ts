/**
 * Federated round figures for `fedleak bench`: round latency and bytes on the wire per update, with
 * real client processes on loopback (lenet-zhu on MNIST, fedsgd, batch 1: 13,426 parameters).
 * At most 10 client processes; larger cohorts run several virtual clients per process (one
 * websocket each), as `federation.clientsPerProcess` does.
 */
import { validateScenario } from '../server/scenario/load';
import { encodeMessage } from '../shared/wire';
import { runRounds, startCoordinator, tokenList } from '../server/coordinator';
import { spawnClientProcesses } from '../server/run/spawn';
import { median } from '../server/metrics/median';

export interface RoundsBenchOptions {
  clients: number[];
  quick?: boolean;
  /** Rounds per cohort (the first one, with client warm-up, is reported but not in the median). */
  rounds?: number;
  log?: (line: string) => void;
}

const MAX_PROCESSES = 10;

/** Bytes of a masked client → server websocket frame header for a payload of n bytes. */
function wsHeaderBytes(n: number): number {
  return 2 + (n < 126 ? 0 : n < 65536 ? 2 : 8) + 4;
}

const r3 = (x: number) => Number(x.toFixed(3));

/** The bench scenario for a cohort of n clients, perProcess virtual clients per process. */
function roundsScenario(n: number, rounds: number, perProcess: number) {
  return validateScenario(
    {
      name: `bench-rounds-${n}`,
      seed: 5,
      data: { dataset: 'mnist', limit: Math.max(2000, 4 * n) },
      model: { name: 'lenet-zhu' },
      federation: {
        clients: n,
        clientsPerRound: n,
        rounds,
        algorithm: 'fedsgd',
        batchSize: 1,
        learningRate: 0.1,
        clientsPerProcess: perProcess,
        evalLimit: 100,
      },
      attack: { name: 'none' },
    },
    'bench',
  );
}

type Coordinator = Awaited<ReturnType<typeof startCoordinator>>;
type RoundRecord = Awaited<ReturnType<typeof runRounds>>['rounds'][number];

/** Bytes of the round.start broadcast frame carrying the initial parameters. */
function broadcastFrameBytes(params: Coordinator['initialParams']): number {
  return encodeMessage({
    type: 'round.start',
    round: 1,
    algorithm: 'fedsgd',
    learningRate: 0.1,
    batchSize: 1,
    localSteps: 1,
    localEpochs: 0,
    timeoutMs: 60000,
    params,
  }).byteLength;
}

/** Latency and bytes-per-update figures of one cohort's rounds. */
function cohortFigures(n: number, processes: number, c: Coordinator, records: RoundRecord[]): Record<string, unknown> {
  const bytes = records.flatMap((r) => Object.values(r.updateBytes ?? {}));
  const payload = 4 * c.paramCount;
  const mean = bytes.reduce((a, b) => a + b, 0) / Math.max(1, bytes.length);
  const ratio = mean / payload;
  const roundMs = records.map((r) => r.seconds * 1000);
  return {
    clients: n,
    processes,
    paramCount: c.paramCount,
    roundMs: roundMs.map((x) => Number(x.toFixed(1))),
    medianRoundMs: Number(median(roundMs.length > 1 ? roundMs.slice(1) : roundMs).toFixed(1)),
    updates: bytes.length,
    dropped: records.reduce((a, r) => a + r.dropped.length, 0),
    updateFrameBytes: { min: Math.min(...bytes), max: Math.max(...bytes), mean: r3(mean) },
    wireBytesPerUpdate: r3(mean + wsHeaderBytes(Math.round(mean))),
    fourTimesParams: payload,
    bytesRatio: r3(ratio),
    withinTwoPercent: Math.abs(ratio - 1) <= 0.02,
    broadcastFrameBytes: broadcastFrameBytes(c.initialParams),
  };
}

/** Runs one cohort of n clients (coordinator plus client processes) and returns its figures. */
async function benchCohort(n: number, rounds: number, log?: (line: string) => void): Promise<Record<string, unknown>> {
  const perProcess = Math.ceil(n / MAX_PROCESSES);
  const scenario = roundsScenario(n, rounds, perProcess);
  log?.(`bench: ${n} clients in ${Math.ceil(n / perProcess)} processes, ${rounds} rounds…`);
  const logs: string[] = [];
  const c = await startCoordinator(scenario, { port: 0, host: '127.0.0.1', log: (l) => logs.push(l) });
  const procs = spawnClientProcesses(`ws://127.0.0.1:${c.port}`, tokenList(c.tokens), perProcess, {
    ...process.env,
    FEDLEAK_QUIET_BACKEND: '1',
  });
  try {
    await Promise.race([c.hub.waitForReady(n, 180000), procs.failed]);
    const { rounds: records } = await runRounds({
      scenario,
      hub: c.hub,
      model: c.model,
      paramCount: c.paramCount,
      test: c.test,
      initialParams: c.initialParams,
      observe: () => undefined,
      log: (l) => logs.push(l),
    });
    return cohortFigures(n, procs.children.length, c, records);
  } finally {
    await c.hub.close('bench over', 3000);
    await procs.stop(3000);
  }
}

export async function benchRounds(opts: RoundsBenchOptions): Promise<Record<string, unknown>> {
  const rounds = opts.rounds ?? (opts.quick ? 3 : 4);
  const out: Record<string, unknown> = {};
  for (const n of opts.clients) out[String(n)] = await benchCohort(n, rounds, opts.log);
  return out;
}
