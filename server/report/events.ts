/**
 * The run's event bus: the coordinator and the observer emit, the progress printer and the live
 * dashboard listen. One typed EventEmitter per run.
 *
 * Usage (coordinator side):
 *   const events = createRunEvents();
 *   attachProgressPrinter(events, { totalRounds });      // server/report/progress.ts
 *   events.emit('round', roundRecord, totalRounds);       // after each round's evaluation
 *   const observer = createObserver({ scenario, outDir, evaluation, events });
 */
import { EventEmitter } from 'node:events';
import type { AttackRecord, AttackView, RoundRecord } from './results';

/** Identifies one attack job: which update of which round, seen how. */
export interface AttackJobId {
  round: number;
  target: string;
  view: AttackView;
  attack: string;
}

export interface AttackStartEvent extends AttackJobId {
  /** Iterations the scenario asked for (for "iteration i/N" lines). */
  iterations: number;
}

export interface AttackProgressEvent extends AttackJobId {
  iteration: number;
  objective: number;
  /** Steps planned in all, when the attack reports it (else the start event's `iterations`). */
  total?: number;
  /** The restart this step belongs to (0-based) and how many there are, when the attack restarts. */
  restart?: number;
  restarts?: number;
  /** The attack's current guess, now and then (for live displays): `count` images of `shape`, NHWC in [0, 1]. */
  preview?: { images: Float32Array; count: number; shape: [number, number, number] };
}

export interface AttackDoneEvent {
  record: AttackRecord;
  /** Absolute path of the comparison PNG, when one was written. */
  imageFile?: string;
}

export interface RunEventMap {
  /** A round finished and was evaluated. */
  round: [record: RoundRecord, totalRounds: number];
  'attack-start': [event: AttackStartEvent];
  'attack-progress': [event: AttackProgressEvent];
  /** An attack finished, was scored and its record built (also for failed attacks: record.error). */
  'attack-done': [event: AttackDoneEvent];
  /** A human-readable line (warnings, worker errors). */
  log: [line: string];
  /** The run is over; listeners may release resources. */
  end: [];
}

export type RunEvents = EventEmitter<RunEventMap>;

export function createRunEvents(): RunEvents {
  const events = new EventEmitter<RunEventMap>();
  // Printer, dashboard, tests: a handful of listeners per event is normal.
  events.setMaxListeners(50);
  return events;
}
