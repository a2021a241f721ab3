/**
 * The honest-but-curious observer inside the server: attacks the updates the scenario names, in a
 * worker-thread pool, then scores each reconstruction against ground truth fetched over the
 * simulator's evaluation channel, writes its comparison PNG and builds its AttackRecord.
 *
 * Usage (coordinator):
 *   const observer = createObserver({ scenario, outDir, evaluation, events });
 *   observer.observe(update);                 // for each accepted update; returns at once
 *   const attacks = await observer.drain();   // after the last round
 *   await observer.close();                   // always (finally): terminates the workers
 *
 * Which updates: `attack.name` ≠ 'none' and the round is in `attack.rounds`. With
 * `attack.maxTargets` > 0, the round's updates are held until the round is complete (the first
 * update of a later round, or drain()), then a seeded choice of maxTargets of them is attacked, so
 * the choice does not depend on arrival order. The "aggregate" view is not a client update and is
 * always attacked; its ground truth is whatever the evaluation channel answers for "aggregate".
 *
 * The attack sees only what the server has: the update as received and the round's payload (model
 * definition, global parameters, public training config), its settings and a seed derived from the
 * scenario seed (attack-input.ts builds it).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Rng } from '../../shared/random';
import type { AttackSecrets } from '../../shared/contract';
import type { Scenario } from '../scenario/schema';
import { attackSettingsOf, isPluginAttack } from '../scenario/attack-schema';
import { behaviourRequires } from '../scenario/malicious-schema';
import type { AttackRecord, AttackThreatModel } from '../report/results';
import { getAttackDefinition, requiredCapabilities } from './attacks';
import { resolveThreatModel } from './threat-model';
import { relativeDataLeakage } from './verdict';
import type { ImageShape } from '../../shared/models/types';
import { pairScores, scoreReconstruction } from '../metrics';
import { writeComparisonPng, writeImageGrid } from '../report/png';
import type { AttackOutput, AttackProgress } from './attacks/types';
import { attackInput, attackSeed } from './attack-input';
import type { EvaluationChannel, GroundTruth, ObservedUpdate, ServerPayload, UpdateObserver } from './hook';
import { AttackWorkerPool } from './worker-pool';
import type { RunEvents } from '../report/events';

export interface ObserverOptions {
  scenario: Scenario;
  /** Run folder; images go to <outDir>/images/. */
  outDir: string;
  evaluation: EvaluationChannel;
  /** Progress and results are emitted here (progress printer, dashboard). */
  events?: RunEvents;
  /** Sweep row label, copied into each record and the image names. */
  variant?: string;
  /** Plug-in attack modules the workers load (see worker-pool.ts). */
  plugins?: readonly string[];
  /** Run this attack instead of scenario.attack.name (e.g. one registered by a plug-in). */
  attackName?: string;
  /** Where log lines go besides the 'log' event; default stderr. */
  log?: (line: string) => void;
  /** What a malicious server planted (scenario server.behaviour); every attack input carries it. */
  secrets?: AttackSecrets;
}

/** The observer also keeps each attack's objective trace for the curves. */
export interface Observer extends UpdateObserver {
  /** Objective per iteration of each finished attack, keyed like its image name. */
  traces(): Map<string, Array<[iteration: number, objective: number]>>;
  /** Iterations where each finished attack's restarts 2, 3, … began (as it reported them), keyed like traces(). */
  restartStarts(): Map<string, number[]>;
}

function safeName(text: string): string {
  return text.replace(/[^A-Za-z0-9_.-]+/g, '_');
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Keeps at most `max` points of a trace, evenly spread, always with the last one. */
function thin(trace: Array<[number, number]>, max: number): Array<[number, number]> {
  if (trace.length <= max) return trace;
  const out: Array<[number, number]> = [];
  const step = (trace.length - 1) / (max - 1);
  for (let i = 0; i < max; i++) out.push(trace[Math.round(i * step)]);
  return out;
}

/** Attacks of a malicious server: their records count the examples recovered at ≥ RECOVERED_PSNR_DB. */
const PLANTED_ATTACKS = new Set(['imprint', 'trap-weights']);
export const RECOVERED_PSNR_DB = 30;

function recoveredCount(
  pairs: ReadonlyArray<{ original: number; psnr: number }>,
  of: number,
): { psnrDb: number; count: number; of: number } {
  const hit = new Set(pairs.filter((p) => p.original >= 0 && p.psnr >= RECOVERED_PSNR_DB).map((p) => p.original));
  return { psnrDb: RECOVERED_PSNR_DB, count: hit.size, of };
}

/** The optional part of an attack-progress event: restart numbering and a preview of the current images. */
function progressExtra(p: AttackProgress, inputShape: ImageShape) {
  return {
    ...(p.restart !== undefined ? { restart: p.restart, restarts: p.restarts } : {}),
    ...(p.preview
      ? {
          preview: {
            images: p.preview,
            count: p.preview.length / (inputShape[0] * inputShape[1] * inputShape[2]),
            shape: inputShape,
          },
        }
      : {}),
  };
}

/** An update with the payload of its round, as handed to observe(). */
interface Observation {
  update: ObservedUpdate;
  payload: ServerPayload;
}

class HonestButCuriousObserver implements Observer {
  private readonly pool: AttackWorkerPool;
  private readonly attackName: string;
  private readonly rounds: ReadonlySet<number>;
  private readonly records: AttackRecord[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly traceMap = new Map<string, Array<[number, number]>>();
  private readonly restartMap = new Map<string, number[]>();
  /** maxTargets > 0: the updates of the round being collected. */
  private held: Observation[] = [];
  private heldRound = 0;
  private readonly log: (line: string) => void;
  private readonly threatModel: AttackThreatModel;

  constructor(private readonly opts: ObserverOptions) {
    const a = opts.scenario.attack;
    this.attackName = opts.attackName ?? a.name;
    this.rounds = new Set(a.rounds);
    // A plug-in named in the scenario (attack.plugin, already resolved to an absolute path) joins the pool's.
    const plugins = [...(opts.plugins ?? []), ...(isPluginAttack(a) ? [a.plugin] : [])];
    this.pool = new AttackWorkerPool({ size: a.workers, plugins });
    this.threatModel = attackThreatModel(opts.scenario, this.attackName);
    const sink = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
    this.log = (line) => {
      sink(line);
      opts.events?.emit('log', line);
    };
  }

  observe(update: ObservedUpdate, payload: ServerPayload): void {
    if (this.attackName === 'none' || !this.rounds.has(update.round)) return;
    const maxTargets = this.opts.scenario.attack.maxTargets;
    // maxTargets limits client updates; the round's aggregate (secure aggregation) is always attacked.
    if (maxTargets === 0 || update.view === 'aggregate') {
      this.start({ update, payload });
      return;
    }
    if (update.round !== this.heldRound) this.flushHeld();
    this.heldRound = update.round;
    this.held.push({ update, payload });
  }

  async drain(): Promise<AttackRecord[]> {
    this.flushHeld();
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
    return [...this.records].sort(
      (x, y) => x.round - y.round || x.view.localeCompare(y.view) || x.target.localeCompare(y.target, 'en', { numeric: true }),
    );
  }

  close(): Promise<void> {
    return this.pool.close();
  }

  traces(): Map<string, Array<[number, number]>> {
    return new Map(this.traceMap);
  }

  restartStarts(): Map<string, number[]> {
    return new Map(this.restartMap);
  }

  /** Attacks a seeded choice of maxTargets of the held round's updates. */
  private flushHeld(): void {
    if (this.held.length === 0) return;
    const held = this.held.sort((x, y) => x.update.sender.localeCompare(y.update.sender, 'en', { numeric: true }));
    this.held = [];
    const rng = new Rng(this.opts.scenario.seed).fork(`attack-targets/${this.heldRound}`);
    const picked = rng.sample(held.length, Math.min(this.opts.scenario.attack.maxTargets, held.length)).sort((a, b) => a - b);
    for (const i of picked) this.start(held[i]);
  }

  private start(o: Observation): void {
    const job = this.attackOne(o).finally(() => this.inFlight.delete(job));
    this.inFlight.add(job);
  }

  private async attackOne(o: Observation): Promise<void> {
    const { update } = o;
    const key = `round-${update.round}-${safeName(update.sender)}-${update.view}${this.opts.variant ? `-${safeName(this.opts.variant)}` : ''}`;
    const output = await this.runAttack(o, key);
    if (!output) return;
    const truth = await this.fetchTruth(update);
    if ('missing' in truth) this.recordUnscored(update, o.payload.model.inputShape, key, output, truth.missing);
    else this.recordResult(update, o.payload.model.inputShape, key, output, truth);
  }

  /** Runs the attack in the pool, emitting its progress and keeping its trace; null (recorded by fail()) when it failed. */
  private async runAttack({ update, payload }: Observation, key: string): Promise<AttackOutput | null> {
    const { scenario, events } = this.opts;
    const inputShape = payload.model.inputShape;
    const id = { round: update.round, target: update.sender, view: update.view, attack: this.attackName };
    const seed = attackSeed(scenario.seed, update.round, update.sender, update.view);
    const input = attackInput(update, payload, {
      settings: attackSettingsOf(scenario.attack),
      seed,
      ...(this.opts.secrets ? { secrets: this.opts.secrets } : {}),
    });
    const trace: Array<[number, number]> = [];
    events?.emit('attack-start', { ...id, iterations: scenario.attack.iterations });

    let output: AttackOutput;
    try {
      output = await this.pool.run(this.attackName, input, (p) => {
        trace.push([p.iteration, p.objective]);
        events?.emit('attack-progress', {
          ...id,
          iteration: p.iteration,
          objective: p.objective,
          total: p.total,
          ...progressExtra(p, inputShape),
        });
      });
    } catch (err) {
      this.fail(update, `attack ${this.attackName} failed: ${errorText(err)}`);
      return null;
    }
    this.traceMap.set(key, thin(trace, 1000));
    if (output.restartStarts && output.restartStarts.length > 0) this.restartMap.set(key, output.restartStarts);
    return output;
  }

  /** Ground truth only now, after the attack finished, and only on the main thread; why not, when unavailable. */
  private async fetchTruth(update: ObservedUpdate): Promise<GroundTruth | { missing: string }> {
    try {
      return await this.opts.evaluation.fetchTruth(update.round, update.sender);
    } catch (err) {
      return { missing: errorText(err) };
    }
  }

  /**
   * No ground truth (client-held data without --share-truth, a client gone): the reconstruction is
   * kept and shown, but nothing is measured; the record says why in `unscored`.
   */
  private recordUnscored(update: ObservedUpdate, inputShape: ImageShape, key: string, output: AttackOutput, why: string): void {
    const unscored = `not scored: no ground truth (${why})`;
    this.log(`fedleak: observer: round ${update.round}, ${update.sender} (${update.view}): ${unscored}`);
    try {
      const imageRel = path.posix.join('images', `${key}.png`);
      const imageFile = path.join(this.opts.outDir, 'images', `${key}.png`);
      fs.mkdirSync(path.dirname(imageFile), { recursive: true });
      if (output.count > 0) writeImageGrid(imageFile, [{ images: output.images, count: output.count }], inputShape);
      const record: AttackRecord = {
        ...this.unmeasuredRecord(update, output, output.truncated?.batchSize ?? update.numExamples),
        attackedSlots: output.count,
        ...(output.count > 0 ? { image: imageRel } : {}),
        recoveredLabels: output.labels,
        unscored,
      };
      this.records.push(record);
      this.opts.events?.emit('attack-done', { record, ...(output.count > 0 ? { imageFile } : {}) });
    } catch (err) {
      this.fail(update, `${unscored}; and its picture failed: ${errorText(err)}`, output);
    }
  }

  /** The fields of a record whose metrics were not measured (a failure or an unscored reconstruction). */
  private unmeasuredRecord(update: ObservedUpdate, output: AttackOutput | undefined, batchSize: number): AttackRecord {
    return {
      round: update.round,
      target: update.sender,
      attack: this.attackName,
      view: update.view,
      batchSize,
      mse: NaN,
      psnr: NaN,
      ssim: NaN,
      labelAccuracy: NaN,
      iterations: output?.iterations ?? 0,
      evaluations: output?.evaluations ?? 0,
      finalObjective: output?.finalObjective ?? NaN,
      seconds: output?.seconds ?? 0,
      threatModel: this.threatModel,
      ...(this.opts.variant ? { variant: this.opts.variant } : {}),
      ...(update.serverClippedTo !== undefined ? { serverClippedTo: update.serverClippedTo } : {}),
    };
  }

  /** Scores the reconstruction, writes its comparison PNG and records it (a failure here is recorded by fail()). */
  private recordResult(update: ObservedUpdate, inputShape: ImageShape, key: string, output: AttackOutput, truth: GroundTruth): void {
    try {
      const score = scoreReconstruction(
        { images: output.images, labels: output.labels, count: output.count },
        { images: truth.images, labels: truth.labels, count: truth.count },
        inputShape,
      );
      const imageRel = path.posix.join('images', `${key}.png`);
      const imageFile = path.join(this.opts.outDir, 'images', `${key}.png`);
      fs.mkdirSync(path.dirname(imageFile), { recursive: true });
      writeComparisonPng(imageFile, truth.images, truth.count, output.images, output.count, inputShape, score.assignment);
      const record = this.successRecord(update, inputShape, output, truth, score, imageRel);
      this.records.push(record);
      this.opts.events?.emit('attack-done', { record, imageFile });
    } catch (err) {
      this.fail(update, `scoring failed: ${errorText(err)}`, output, truth);
    }
  }

  /** The AttackRecord of a scored reconstruction. */
  private successRecord(
    update: ObservedUpdate,
    inputShape: ImageShape,
    output: AttackOutput,
    truth: GroundTruth,
    score: ReturnType<typeof scoreReconstruction>,
    imageRel: string,
  ): AttackRecord {
    return {
      round: update.round,
      target: update.sender,
      attack: this.attackName,
      view: update.view,
      batchSize: output.truncated?.batchSize ?? truth.count,
      attackedSlots: output.count,
      ...(output.truncated ? { truncated: true } : {}),
      mse: score.mse,
      psnr: score.psnr,
      ssim: score.ssim,
      labelAccuracy: score.labelAccuracy,
      iterations: output.iterations,
      evaluations: output.evaluations,
      finalObjective: output.finalObjective,
      seconds: output.seconds,
      image: imageRel,
      recoveredLabels: output.labels,
      trueLabels: truth.labels,
      perImage: pairScores(score),
      rdlv: medianRdlv(output.images, truth.images, inputShape),
      threatModel: this.threatModel,
      ...(this.opts.variant ? { variant: this.opts.variant } : {}),
      ...(update.serverClippedTo !== undefined ? { serverClippedTo: update.serverClippedTo } : {}),
      ...(PLANTED_ATTACKS.has(this.attackName) ? { recovered: recoveredCount(pairScores(score), truth.count) } : {}),
    };
  }

  /** A failed attack becomes a log line and a record with `error`, never a crash. */
  private fail(update: ObservedUpdate, message: string, output?: AttackOutput, truth?: GroundTruth): void {
    this.log(`fedleak: observer: round ${update.round}, ${update.sender} (${update.view}): ${message}`);
    const record: AttackRecord = { ...this.unmeasuredRecord(update, output, truth?.count ?? update.numExamples), error: message };
    this.records.push(record);
    this.opts.events?.emit('attack-done', { record });
  }
}

/**
 * Median over the true examples of NVFlare's relative data leakage value, against a uniform grey
 * image: the expected value of the attacks' clipped N(0, 1) start, so one prior serves every attack.
 */
function medianRdlv(reconstructions: Float32Array, originals: Float32Array, shape: ImageShape): number {
  if (reconstructions.length === 0 || originals.length === 0) return NaN;
  const values = relativeDataLeakage(reconstructions, originals, new Float32Array(shape[0] * shape[1] * shape[2]).fill(0.5), shape)
    .filter(Number.isFinite)
    .sort((a, b) => a - b);
  if (values.length === 0) return NaN;
  const mid = values.length >> 1;
  return values.length % 2 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

/** The threat model granted and what the attack declared it needs (a plug-in unknown on this thread: nothing declared). */
function attackThreatModel(scenario: Scenario, attackName: string): AttackThreatModel {
  const granted = resolveThreatModel(scenario.threatModel);
  let required: string[] = [];
  try {
    if (attackName !== 'none') required = [...requiredCapabilities(getAttackDefinition(attackName), attackSettingsOf(scenario.attack))];
  } catch {
    required = [];
  }
  // What the server's behaviour needed too (a planted model: modify-model), after the attack's own.
  required = [...new Set([...required, ...behaviourRequires(scenario.server)])];
  return { name: granted.name, granted: [...granted.capabilities], required };
}

export function createObserver(options: ObserverOptions): Observer {
  return new HonestButCuriousObserver(options);
}
export { attackSeed } from './attack-input';
