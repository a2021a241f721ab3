/**
 * Runs one scenario end to end: the coordinator, the client processes (or clients that connect
 * from elsewhere, for `fedleak server`), the rounds, the observer; writes <outDir>/results.json.
 */
import * as path from 'node:path';
import type { LoadedScenario } from '../../shared/scenario/load';
import type { RunResults, RoundRecord } from '../report/results';
import { initBackend } from '../../shared/tensor/backend';
import { captureFileName, captureFromUpdate, writeCapture } from '../capture/capture';
import { runRounds, startCoordinator, tokenList, WireEvaluationChannel, writeTokensFile, type Coordinator } from '../coordinator';
import type { ObservedUpdate } from '../observer/hook';
import { createObserver, type Observer } from '../observer/observer';
import { createRunEvents, type RunEvents } from '../report/events';
import { attachProgressPrinter } from '../report/progress';
import { assembleResults, writeReport } from '../report/results-writer';
import { spawnClientProcesses, type ClientProcesses } from './spawn';
import { clipToNorm } from '../dp/aggregate';
import { AggregateTruth, checkSecureAggregationScenario, secureAggregationStage } from '../secagg';

export interface RunOptions {
  outDir: string;
  /** Print progress lines to stderr. */
  progress: boolean;
  /** Spawn the client processes on loopback (default); false: wait for clients to connect (`fedleak server`). */
  spawnClients?: boolean;
  /** Listen address; default 127.0.0.1 and a free port. */
  host?: string;
  port?: number;
  /** Write "<clientId> <token>" lines here. */
  tokensFile?: string;
  /** Called once the server listens (for `fedleak server` to print the address and tokens). */
  onListening?: (info: { port: number; host: string; tokens: string[] }) => void;
  /** How long to wait for all clients to connect; 0 = forever. Default 120 s with spawned clients, forever otherwise. */
  registrationTimeoutMs?: number;
  /** Where log lines go; default stderr. */
  log?: (line: string) => void;
  /** The run's event bus, when the caller listens too (e.g. the live dashboard); default a new one. */
  events?: RunEvents;
}

export async function runScenario(loaded: LoadedScenario, options: RunOptions): Promise<RunResults> {
  const { scenario } = loaded;
  const f = scenario.federation;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const startedAt = new Date().toISOString();
  const backend = await initBackend();
  const host = options.host ?? '127.0.0.1';
  const spawn = options.spawnClients ?? true;
  checkSecureAggregationScenario(scenario);

  let coordinator: Coordinator | null = null;
  let clients: ClientProcesses | null = null;
  let observer: Observer | null = null;
  let truth: WireEvaluationChannel | null = null;
  const events = options.events ?? createRunEvents();
  const detachPrinter = options.progress ? attachProgressPrinter(events) : () => undefined;
  // Ctrl-C or a kill: take the client processes down with us.
  const onSignal = (signal: NodeJS.Signals) => {
    clients?.killAll();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  const onExit = () => clients?.killAll();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.once('exit', onExit);
  try {
    coordinator = await startCoordinator(scenario, { port: options.port ?? 0, host, log });
    const { hub, model } = coordinator;
    const tokens = tokenList(coordinator.tokens);
    if (options.tokensFile) writeTokensFile(options.tokensFile, coordinator.tokens);
    options.onListening?.({ port: coordinator.port, host, tokens });
    const url = `ws://${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host}:${coordinator.port}`;

    // Round 1 starts when every client has built its data and model (its `ready`), not at hello.
    let ready = hub.waitForReady(f.clients, options.registrationTimeoutMs ?? (spawn ? 120000 : 0));
    if (spawn) {
      clients = spawnClientProcesses(url, tokens, f.clientsPerProcess);
      ready = Promise.race([ready, clients.failed]);
      if (options.progress) log(`server: ${url}, ${f.clients} clients in ${clients.children.length} processes`);
    }
    await ready;
    if (options.progress) {
      // Evidence that each client runs where we think: fedleak clients name their process in hello.agent.
      const agents = new Set(hub.agents().values());
      log(`server: ${hub.connected().length} clients ready, from ${agents.size} client process${agents.size === 1 ? '' : 'es'}`);
    }

    truth = new WireEvaluationChannel(hub);
    // Secure aggregation: its own collect stage, and ground truth for the "aggregate" target.
    const secagg = scenario.defenses.secureAggregation;
    const aggregateTruth = secagg ? new AggregateTruth(truth) : null;
    const evaluation = aggregateTruth ?? truth;
    if (scenario.attack.name !== 'none') {
      observer = createObserver({ scenario, outDir: options.outDir, evaluation, events, task: { inputShape: coordinator.test.shape, numClasses: coordinator.test.numClasses }, log });
    }
    const task = { inputShape: coordinator.test.shape, numClasses: coordinator.test.numClasses };
    const dp = scenario.defenses.dp;
    const observe = (received: ObservedUpdate) => {
      // DP-FedAvg: the server clips each update before aggregating; the curious server attacks that clipped update.
      const u = dp && received.view === 'plain' ? { ...received, update: clipToNorm(received.update, dp.clippingNorm).clipped, serverClippedTo: dp.clippingNorm } : received;
      if (f.capture) writeCapture(path.join(options.outDir, 'captures', captureFileName(received.round, received.clientId)), captureFromUpdate(received, scenario, task.inputShape, task.numClasses));
      observer?.observe(u);
    };
    const run = runRounds({
      scenario,
      hub,
      model,
      paramCount: coordinator.paramCount,
      test: coordinator.test,
      initialParams: coordinator.initialParams,
      observe,
      ...(secagg && aggregateTruth ? { collect: secureAggregationStage({ config: secagg, seed: scenario.seed, onAggregate: (r, ids) => aggregateTruth.record(r, ids) }) } : {}),
      onRound: (r: RoundRecord) => events.emit('round', r, f.rounds),
      log,
    });
    // A client process crashing mid-run is a drop, not a failure of the run: only registration races it.
    const { rounds } = await run;
    const attacks = observer ? await observer.drain() : [];
    const results = assembleResults({ scenario, scenarioFile: loaded.file, backend, startedAt, rounds, attacks });
    // The privacy spent by the whole run: the last round's accountant record.
    const lastPrivacy = [...rounds].reverse().find((r) => r.privacy)?.privacy;
    if (lastPrivacy && !results.privacy) results.privacy = lastPrivacy;
    await writeReport(options.outDir, results, observer?.traces());
    events.emit('end');
    return results;
  } finally {
    detachPrinter();
    truth?.close();
    await observer?.close();
    await coordinator?.hub.close('run finished');
    await clients?.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('exit', onExit);
  }
}
