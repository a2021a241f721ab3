/**
 * Runs one scenario end to end: the coordinator, the client processes (or clients that connect
 * from elsewhere, for `fedleak server`), the rounds, the observer; writes <outDir>/results.json.
 */
import * as path from 'node:path';
import type { ObservedUpdate, ServerPayload } from '../../shared/contract';
import type { LoadedScenario } from '../scenario/load';
import type { Scenario } from '../scenario/schema';
import type { RunResults, RoundRecord, AttackRecord } from '../report/results';
import { initBackend } from '../../shared/tensor/backend';
import { captureFileName, captureOf, writeCapture } from '../capture/capture';
import { runRounds, startCoordinator, tokenList, WireEvaluationChannel, writeTokensFile, type Coordinator } from '../coordinator';
import { createObserver, type Observer } from '../observer/observer';
import { createRunEvents, type RunEvents } from '../report/events';
import { attachProgressPrinter } from '../report/progress';
import { assembleResults, writeReport } from '../report/results-writer';
import { spawnClientProcesses, type ClientProcesses } from './spawn';
import { AggregateTruth, checkSecureAggregationScenario, secureAggregationStage } from '../secagg';
import { strategyFor } from '../strategy';
import { releaseStep, type ReleaseStepResult } from './release-step';

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

/** What a run holds open, closed in runScenario's finally. */
interface RunState {
  coordinator: Coordinator | null;
  clients: ClientProcesses | null;
  observer: Observer | null;
  truth: WireEvaluationChannel | null;
  release?: ReleaseStepResult | null;
}

/** Ctrl-C or a kill: take the client processes down with us. Returns the detach function. */
function killClientsOnSignal(state: RunState): () => void {
  const onSignal = (signal: NodeJS.Signals) => {
    state.clients?.killAll();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  const onExit = () => state.clients?.killAll();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.once('exit', onExit);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('exit', onExit);
  };
}

/** Publishes tokens, spawns the client processes (unless clients connect from elsewhere), waits until every client is ready. */
async function admitClients(state: RunState, coordinator: Coordinator, scenario: Scenario, options: RunOptions, log: (line: string) => void): Promise<void> {
  const f = scenario.federation;
  const host = options.host ?? '127.0.0.1';
  const spawn = options.spawnClients ?? true;
  const { hub } = coordinator;
  const tokens = tokenList(coordinator.tokens);
  if (options.tokensFile) writeTokensFile(options.tokensFile, coordinator.tokens);
  options.onListening?.({ port: coordinator.port, host, tokens });
  const url = `ws://${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host}:${coordinator.port}`;
  // Round 1 starts when every client has built its data and model (its `ready`), not at hello.
  let ready = hub.waitForReady(f.clients, options.registrationTimeoutMs ?? (spawn ? 120000 : 0));
  if (spawn) {
    state.clients = spawnClientProcesses(url, tokens, f.clientsPerProcess);
    ready = Promise.race([ready, state.clients.failed]);
    if (options.progress) log(`server: ${url}, ${f.clients} clients in ${state.clients.children.length} processes`);
  }
  await ready;
  if (options.progress) {
    // Evidence that each client runs where we think: fedleak clients name their process in hello.agent.
    const agents = new Set(hub.agents().values());
    log(`server: ${hub.connected().length} clients ready, from ${agents.size} client process${agents.size === 1 ? '' : 'es'}`);
  }
}

/** The rounds, with the observer and the capture writer fed the same views of each update. */
async function federate(state: RunState, coordinator: Coordinator, scenario: Scenario, options: RunOptions, events: RunEvents, log: (line: string) => void): Promise<{ rounds: RoundRecord[]; attacks: AttackRecord[]; finalParams: Float32Array }> {
  const f = scenario.federation;
  const truth = new WireEvaluationChannel(coordinator.hub);
  state.truth = truth;
  // Secure aggregation: its own collect workflow, and ground truth for the "aggregate" target.
  const secagg = scenario.defenses.secureAggregation;
  const aggregateTruth = secagg ? new AggregateTruth(truth) : null;
  const evaluation = aggregateTruth ?? truth;
  if (scenario.attack.name !== 'none') state.observer = createObserver({ scenario, outDir: options.outDir, evaluation, events, log });
  const observer = state.observer;
  const observe = (observed: ObservedUpdate, payload: ServerPayload) => {
    if (f.capture) writeCapture(path.join(options.outDir, 'captures', captureFileName(observed.round, observed.sender)), captureOf(observed, payload, scenario));
    observer?.observe(observed, payload);
  };
  const { rounds, finalParams } = await runRounds({
    scenario,
    hub: coordinator.hub,
    model: coordinator.model,
    paramCount: coordinator.paramCount,
    test: coordinator.test,
    initialParams: coordinator.initialParams,
    strategy: strategyFor({ scenario, model: coordinator.definition }),
    observe,
    ...(secagg && aggregateTruth ? { collect: secureAggregationStage({ config: secagg, seed: scenario.seed, onAggregate: (r, ids) => aggregateTruth.record(r, ids) }) } : {}),
    onRound: (r: RoundRecord) => events.emit('round', r, f.rounds),
    log,
  });
  // A client process crashing mid-run is a drop, not a failure of the run: only registration races it.
  const attacks = observer ? await observer.drain() : [];
  return { rounds, attacks, finalParams };
}

export async function runScenario(loaded: LoadedScenario, options: RunOptions): Promise<RunResults> {
  const { scenario } = loaded;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const startedAt = new Date().toISOString();
  const backend = await initBackend();
  checkSecureAggregationScenario(scenario);

  const state: RunState = { coordinator: null, clients: null, observer: null, truth: null };
  const events = options.events ?? createRunEvents();
  const detachPrinter = options.progress ? attachProgressPrinter(events) : () => undefined;
  const detachSignals = killClientsOnSignal(state);
  try {
    const coordinator = await startCoordinator(scenario, { port: options.port ?? 0, host: options.host ?? '127.0.0.1', log });
    state.coordinator = coordinator;
    await admitClients(state, coordinator, scenario, options, log);
    const { rounds, attacks, finalParams } = await federate(state, coordinator, scenario, options, events, log);
    state.release = await releaseStep(scenario, options.outDir, finalParams, rounds, log);
    const results = assembleResults({ scenario, scenarioFile: loaded.file, backend, startedAt, rounds, attacks, ...(state.release ? { release: state.release.results } : {}) });
    // The privacy spent by the whole run: the last round's accountant record.
    const lastPrivacy = [...rounds].reverse().find((r) => r.privacy)?.privacy;
    if (lastPrivacy && !results.privacy) results.privacy = lastPrivacy;
    await writeReport(options.outDir, results, state.observer?.traces());
    events.emit('end');
    return results;
  } finally {
    detachPrinter();
    state.truth?.close();
    await state.observer?.close();
    await state.coordinator?.hub.close('run finished');
    await state.clients?.stop();
    await state.release?.api?.close();
    detachSignals();
  }
}
