/**
 * Durable runs: results.json rewritten atomically after every round and every finished attack
 * with the run's `status`, and a per-round checkpoint (checkpoint.json) from which `fedleak run
 * --resume DIR` continues. Every random stream the server draws from is forked from the scenario
 * seed by a label that names its round (client selection, DP noise, clients' batches), and the
 * accountant's ε is a function of the round, so θ and the round number are the whole state.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Scenario } from '../scenario/schema';
import type { AttackRecord, PrivacyRecord, RoundRecord, RunResults, RunStatus } from '../report/results';
import { assembleResults, writeFileAtomic, writeResults } from '../report/results-writer';

export const CHECKPOINT_FILE = 'checkpoint.json';
export const FINAL_PARAMS_FILE = 'final-params.bin';
const CHECKPOINT_FORMAT = 'fedleak-checkpoint/1';

export interface Checkpoint {
  format: typeof CHECKPOINT_FORMAT;
  /** The last round completed; the resumed run starts at round + 1. */
  round: number;
  scenario: Scenario;
  scenarioFile: string;
  startedAt: string;
  /** θ after `round`. */
  params: Float32Array;
  /** The accountant after `round` (DP-FedAvg); recomputed from the round on resume, kept to check. */
  privacy?: PrivacyRecord;
  rounds: RoundRecord[];
  attacks: AttackRecord[];
  /** How the server's random streams are derived (nothing else to store). */
  rng: { seed: number; streams: string };
}

type Header = Pick<RunResults, 'scenario' | 'scenarioFile' | 'backend' | 'startedAt'>;

/** The run's results so far, written after each round / attack; the last write says how it ended. */
export class RunJournal {
  readonly rounds: RoundRecord[];
  readonly attacks: AttackRecord[];
  private readonly log: (line: string) => void;
  /** θ after the last completed round (re-checkpointed when an attack finishes later). */
  private last: { round: number; params: Float32Array } | null;

  constructor(
    private readonly outDir: string,
    private readonly header: Header,
    options: { prior?: Pick<Checkpoint, 'rounds' | 'attacks' | 'round' | 'params'>; log?: (line: string) => void } = {},
  ) {
    this.rounds = [...(options.prior?.rounds ?? [])];
    this.attacks = [...(options.prior?.attacks ?? [])];
    this.last = options.prior ? { round: options.prior.round, params: options.prior.params } : null;
    this.log = options.log ?? (() => undefined);
  }

  results(status: RunStatus, extra: Partial<RunResults> = {}): RunResults {
    return assembleResults({ ...this.header, rounds: this.rounds, attacks: this.attacks, status, ...this.privacy(), ...extra });
  }

  write(status: RunStatus, extra: Partial<RunResults> = {}): RunResults {
    const results = this.results(status, extra);
    writeResults(this.outDir, results);
    return results;
  }

  /** Like write, but a failure (disk full, folder gone) is logged instead of ending the run. */
  writeSafely(status: RunStatus, extra: Partial<RunResults> = {}): void {
    try {
      this.write(status, extra);
    } catch (err) {
      this.log(`server: could not write ${path.join(this.outDir, 'results.json')}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** A round is done: record it, checkpoint θ, rewrite results.json ("running"). A failed write is logged; the run goes on. */
  roundDone(record: RoundRecord, params: Float32Array): void {
    this.rounds.push(record);
    this.last = { round: record.round, params };
    this.checkpointSafely();
    this.writeSafely('running');
  }

  /** An attack finished: into results.json and the checkpoint (a resumed run does not repeat it). */
  attackDone(record: AttackRecord): void {
    this.attacks.push(record);
    this.checkpointSafely();
    this.writeSafely('running');
  }

  /** The accountant after the last round that has a record. */
  private privacy(): { privacy?: PrivacyRecord } {
    const last = [...this.rounds].reverse().find((r) => r.privacy)?.privacy;
    return last ? { privacy: last } : {};
  }

  private checkpointSafely(): void {
    if (!this.last) return;
    try {
      writeCheckpoint(this.outDir, {
        format: CHECKPOINT_FORMAT,
        round: this.last.round,
        scenario: this.header.scenario,
        scenarioFile: this.header.scenarioFile,
        startedAt: this.header.startedAt,
        params: this.last.params,
        ...this.privacy(),
        rounds: this.rounds,
        attacks: this.attacks,
        rng: { seed: this.header.scenario.seed, streams: 'forked per round by label from the seed (shared/random.ts)' },
      });
    } catch (err) {
      this.log(`server: round ${this.last.round}: could not write the checkpoint: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

export function writeCheckpoint(outDir: string, c: Checkpoint): void {
  const { params, ...rest } = c;
  const bytes = Buffer.from(params.buffer, params.byteOffset, params.byteLength);
  writeFileAtomic(
    path.join(outDir, CHECKPOINT_FILE),
    JSON.stringify({ ...rest, params: bytes.toString('base64'), paramCount: params.length }),
  );
}

/** Reads DIR/checkpoint.json; the error names the file and what is wrong. */
export function readCheckpoint(dir: string): Checkpoint {
  const file = path.join(dir, CHECKPOINT_FILE);
  if (!fs.existsSync(file)) throw new Error(`${file}: no checkpoint (was the run started with this fedleak, and did it finish a round?)`);
  const raw = JSON.parse(fs.readFileSync(file, 'utf8')) as Omit<Checkpoint, 'params'> & { params: string; paramCount: number };
  if (raw.format !== CHECKPOINT_FORMAT) throw new Error(`${file}: format ${JSON.stringify(raw.format)}, expected "${CHECKPOINT_FORMAT}"`);
  const bytes = Buffer.from(raw.params, 'base64');
  if (bytes.length !== 4 * raw.paramCount) throw new Error(`${file}: params hold ${bytes.length} bytes, expected ${4 * raw.paramCount}`);
  const params = new Float32Array(raw.paramCount);
  Buffer.from(params.buffer).set(bytes);
  return { ...raw, params };
}

/** θ at the end of the run, raw little-endian float32 (compare runs byte for byte). */
export function writeFinalParams(outDir: string, params: Float32Array): void {
  writeFileAtomic(path.join(outDir, FINAL_PARAMS_FILE), Buffer.from(params.buffer, params.byteOffset, params.byteLength));
}
