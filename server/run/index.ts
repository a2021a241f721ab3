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
import { CaptureWriter } from '../capture/capture-writer';
import { runRounds, startCoordinator, tokenList, WireEvaluationChannel, writeTokensFile, type Coordinator } from '../coordinator';
import { createObserver, type Observer } from '../observer/observer';
import { createRunEvents, type AttackDoneEvent, type RunEvents } from '../report/events';
import { attachProgressPrinter } from '../report/progress';
import { assembleResults, writeReport } from '../report/results-writer';
import { effectiveConfiguration } from '../report/effective-config';
import { guardArgs, spawnClientProcesses, type ClientProcesses } from './spawn';
import { AggregateTruth, checkSecureAggregationScenario, secureAggregationStage } from '../secagg';
import { DataError } from '../../shared/data/errors';
import { strategyFor } from '../strategy';
import { RunJournal, writeFinalParams, type Checkpoint } from './durable';
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
  onListening?: (info: { port: number; host: string; tokens: string[]; modelHash: string }) => void;
  /** How long to wait for all clients to connect; 0 = forever. Default 120 s with spawned clients, forever otherwise. */
  registrationTimeoutMs?: number;
  /** Where log lines go; default stderr. */
  log?: (line: string) => void;
  /** The run's event bus, when the caller listens too (e.g. the live dashboard); default a new one. */
  events?: RunEvents;
  /** Continue a killed run from its checkpoint (`fedleak run --resume DIR`; server/run/durable.ts). */
  resume?: Checkpoint;
}

/** What a run holds open, closed in runScenario's finally. */
interface RunState {
  coordinator: Coordinator | null;
  clients: ClientProcesses | null;
  observer: Observer | null;
  truth: WireEvaluationChannel | null;
  /** results.json so far, rewritten after each round and attack. */
  journal: RunJournal | null;
  release?: ReleaseStepResult | null;
}

/** Ctrl-C or a kill: take the client processes down with us, keep what ran ("interrupted"). Returns the detach function. */
function killClientsOnSignal(state: RunState): () => void {
  const onSignal = (signal: NodeJS.Signals) => {
    state.clients?.killAll();
    state.journal?.writeSafely('interrupted', { stopReason: `${signal} after round ${state.journal.rounds.length}` });
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
async function admitClients(
  state: RunState,
  coordinator: Coordinator,
  scenario: Scenario,
  options: RunOptions,
  log: (line: string) => void,
): Promise<void> {
  const f = scenario.federation;
  const host = options.host ?? '127.0.0.1';
  const spawn = options.spawnClients ?? true;
  const { hub } = coordinator;
  const tokens = tokenList(coordinator.tokens);
  if (options.tokensFile) writeTokensFile(options.tokensFile, coordinator.tokens);
  options.onListening?.({ port: coordinator.port, host, tokens, modelHash: coordinator.honestModelHash });
  const url = `ws://${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host}:${coordinator.port}`;
  // Round 1 starts when every client has built its data and model (its `ready`), not at hello.
  // Slots reserved for browsers (federation.browserClients) are not spawned; a person has to join them.
  const spawned = tokens.slice(0, tokens.length - f.browserClients);
  let ready = hub.waitForReady(f.clients, options.registrationTimeoutMs ?? (spawn && f.browserClients === 0 ? 120000 : 0));
  if (spawn && spawned.length > 0) {
    state.clients = spawnClientProcesses(url, spawned, f.clientsPerProcess, process.env, guardArgs(scenario, coordinator.honestModelHash));
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
async function federate(
  state: RunState,
  coordinator: Coordinator,
  scenario: Scenario,
  options: RunOptions,
  events: RunEvents,
  log: (line: string) => void,
): Promise<Federated> {
  const f = scenario.federation;
  const truth = new WireEvaluationChannel(coordinator.hub);
  state.truth = truth;
  // Secure aggregation: its own collect workflow, and ground truth for the "aggregate" target.
  const secagg = scenario.defenses.secureAggregation;
  const aggregateTruth = secagg ? new AggregateTruth(truth) : null;
  const evaluation = aggregateTruth ?? truth;
  if (scenario.attack.name !== 'none')
    state.observer = createObserver({
      scenario,
      outDir: options.outDir,
      evaluation,
      events,
      log,
      ...(coordinator.planted.secrets ? { secrets: coordinator.planted.secrets } : {}),
    });
  const observer = state.observer;
  const captures = f.capture ? new CaptureWriter(path.join(options.outDir, 'captures'), scenario, evaluation, log) : null;
  const observe = (observed: ObservedUpdate, payload: ServerPayload) => {
    captures?.write(observed, payload);
    observer?.observe(observed, payload);
  };
  const journal = state.journal as RunJournal;
  const resume = options.resume;
  const ran = await runRounds({
    scenario,
    hub: coordinator.hub,
    model: coordinator.model,
    paramCount: coordinator.paramCount,
    test: coordinator.test,
    initialParams: resume?.params ?? coordinator.initialParams,
    firstRound: resume ? resume.round + 1 : 1,
    strategy: strategyFor({ scenario, model: coordinator.definition, planted: coordinator.planted }),
    observe,
    exampleCap: coordinator.exampleCap,
    ...(secagg && aggregateTruth
      ? { collect: secureAggregationStage({ config: secagg, seed: scenario.seed, onAggregate: (r, ids) => aggregateTruth.record(r, ids) }) }
      : {}),
    onRound: (r: RoundRecord, params: Float32Array) => {
      journal.roundDone(r, params);
      events.emit('round', r, f.rounds);
    },
    log,
  });
  // A client process crashing mid-run is a drop, not a failure of the run: only registration races it.
  const attacks = observer ? await observer.drain() : [];
  await captures?.flush();
  return { ...ran, rounds: journal.rounds, attacks: [...(resume?.attacks ?? []), ...attacks] };
}

interface Federated {
  rounds: RoundRecord[];
  attacks: AttackRecord[];
  finalParams: Float32Array;
  status: 'finished' | 'aborted';
  abortReason?: string;
}

export async function runScenario(loaded: LoadedScenario, options: RunOptions): Promise<RunResults> {
  const { scenario } = loaded;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const startedAt = options.resume?.startedAt ?? new Date().toISOString();
  const backend = await initBackend();
  checkSecureAggregationScenario(scenario);
  if (scenario.data.location === 'clients' && (options.spawnClients ?? true)) {
    throw new DataError(
      'data.location is "clients": each client trains on its own files, so `fedleak run` cannot start the clients; ' +
        'run `fedleak server` and start each client with `fedleak client --data PATH`',
    );
  }

  const journal = new RunJournal(
    options.outDir,
    { scenario, scenarioFile: loaded.file, backend, startedAt },
    { prior: options.resume, log },
  );
  const state: RunState = { coordinator: null, clients: null, observer: null, truth: null, journal };
  const events = options.events ?? createRunEvents();
  const onAttackDone = (e: AttackDoneEvent) => journal.attackDone(e.record);
  events.on('attack-done', onAttackDone);
  const detachPrinter = options.progress ? attachProgressPrinter(events) : () => undefined;
  const detachSignals = killClientsOnSignal(state);
  try {
    const coordinator = await startCoordinator(scenario, { port: options.port ?? 0, host: options.host ?? '127.0.0.1', log });
    state.coordinator = coordinator;
    await admitClients(state, coordinator, scenario, options, log);
    const ran = await federate(state, coordinator, scenario, options, events, log);
    writeFinalParams(options.outDir, ran.finalParams);
    // The released model is the finished federation's: an aborted run releases nothing.
    state.release = ran.status === 'finished' ? await releaseStep(scenario, options.outDir, ran.finalParams, ran.rounds, log) : null;
    const effective = effectiveConfiguration(scenario, coordinator.definition, coordinator.paramCount);
    const results = assembleResults({
      ...journal.results(ran.status),
      effective,
      attacks: ran.attacks,
      ...(ran.abortReason ? { stopReason: ran.abortReason } : {}),
      ...(state.release ? { release: state.release.results } : {}),
    });
    await writeReport(options.outDir, results, state.observer?.traces(), { restarts: state.observer?.restartStarts() });
    events.emit('end');
    return results;
  } catch (err) {
    // Whatever ran is kept; the error still ends the command.
    journal.writeSafely('aborted', { stopReason: err instanceof Error ? err.message : String(err) });
    throw err;
  } finally {
    events.off('attack-done', onAttackDone);
    detachPrinter();
    state.truth?.close();
    await state.observer?.close();
    await state.coordinator?.hub.close('run finished');
    await state.clients?.stop();
    await state.release?.api?.close();
    detachSignals();
  }
}
