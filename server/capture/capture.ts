/**
 * Captures: one received update with everything an attack needs to re-run offline
 * (`fedleak attack --capture FILE`), format "fedleak-capture/1".
 *
 * A capture is one msgpack map. Tensors (`update`, `globalParams`) are `bin` values holding raw
 * little-endian float32 in the model's flatten order (docs/models.md), as on the wire; everything
 * else is plain msgpack. It holds only what the server legitimately had (no ground truth).
 * The server writes one file per received update under <out>/captures/ when federation.capture is
 * true (`captureFileName`).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pack, unpack } from 'msgpackr';
import { z } from 'zod';
import { attackSchema, federationSchema, modelSchema, type AttackConfig, type Scenario } from '../scenario/schema';
import { buildModel } from '../../shared/models';
import { paramCount, type ImageShape } from '../../shared/models/types';
import type { AttackView } from '../report/results';
import type { AttackInput, UpdateKind } from '../observer/attacks/types';

export const CAPTURE_FORMAT = 'fedleak-capture/1';

export class CaptureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CaptureError';
  }
}

export interface Capture {
  format: typeof CAPTURE_FORMAT;
  /** 1-based round. */
  round: number;
  /** Client id, or "aggregate". */
  clientId: string;
  /** What the server saw: one client's update in the clear, masked, or the aggregate. */
  view?: AttackView;
  updateKind: UpdateKind;
  /** Examples the client declared for weighting (fedsgd: its batch size). */
  numExamples: number;
  /** The public training config. */
  training: AttackInput['training'];
  model: AttackInput['model'];
  /** The scenario's attack config at capture time (the offline attack may override it). */
  attack: AttackConfig;
  /** Scenario seed. */
  seed: number;
  /** ISO time the server received the update. */
  capturedAt?: string;
  globalParams: Float32Array;
  update: Float32Array;
}

/** `round-<r>-client-<id>.msgpack`; client ids are sanitised to file-name characters. */
export function captureFileName(round: number, clientId: string): string {
  return `round-${round}-client-${clientId.replace(/[^A-Za-z0-9_-]/g, '_')}.msgpack`;
}

/** What the coordinator knows about one update (ObservedUpdate has these fields). */
export interface CapturedUpdate {
  round: number;
  clientId: string;
  update: Float32Array;
  updateKind: UpdateKind;
  numExamples: number;
  globalParams: Float32Array;
  view: AttackView;
}

/** Builds a capture from an observed update and its scenario. */
export function captureFromUpdate(u: CapturedUpdate, scenario: Scenario, inputShape: ImageShape, numClasses: number): Capture {
  const f = scenario.federation;
  return {
    format: CAPTURE_FORMAT,
    round: u.round,
    clientId: u.clientId,
    view: u.view,
    updateKind: u.updateKind,
    numExamples: u.numExamples,
    training: { algorithm: f.algorithm, batchSize: f.batchSize, localSteps: f.localSteps, learningRate: f.learningRate, localEpochs: f.localEpochs },
    model: { config: scenario.model, inputShape: [...inputShape] as ImageShape, numClasses },
    attack: scenario.attack,
    seed: scenario.seed,
    capturedAt: new Date().toISOString(),
    globalParams: u.globalParams,
    update: u.update,
  };
}

function floatBytes(values: Float32Array): Buffer {
  // Typed arrays use the machine's byte order; captures are little-endian like the wire.
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new CaptureError('captures are little-endian float32; this machine is big-endian');
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
}

/** Writes `capture` to `file` (creating its folder), via a temporary file so readers never see half a capture. */
export function writeCapture(file: string, capture: Capture): void {
  checkCapture(capture, file);
  const body = pack({ ...capture, format: CAPTURE_FORMAT, globalParams: floatBytes(capture.globalParams), update: floatBytes(capture.update) });
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, body);
  fs.renameSync(tmp, file);
}

const trainingSchema = federationSchema.pick({ algorithm: true, batchSize: true, localSteps: true, learningRate: true, localEpochs: true });
const positiveInt = z.number().int().positive();
const headerSchema = z.object({
  round: positiveInt,
  clientId: z.string().min(1),
  view: z.enum(['plain', 'masked', 'aggregate']).optional(),
  updateKind: z.enum(['gradient', 'weight-delta']),
  numExamples: z.number().int().nonnegative(),
  training: trainingSchema,
  model: z.object({
    config: modelSchema,
    inputShape: z.tuple([positiveInt, positiveInt, positiveInt]),
    numClasses: positiveInt,
  }),
  attack: attackSchema,
  seed: z.number().int().nonnegative(),
  capturedAt: z.string().optional(),
});

function describe(issues: readonly z.core.$ZodIssue[]): string {
  return issues.map((i) => `${i.path.map(String).join('.') || '(top level)'}: ${i.message}`).join('; ');
}

function toFloats(value: unknown, field: string, where: string): Float32Array {
  if (!(value instanceof Uint8Array)) throw new CaptureError(`capture ${where}: ${field} must be raw float32 bytes (msgpack bin), got ${typeof value}`);
  if (value.byteLength % 4 !== 0) throw new CaptureError(`capture ${where}: ${field} has ${value.byteLength} bytes, not a whole number of float32 values`);
  const out = new Float32Array(value.byteLength / 4);
  new Uint8Array(out.buffer).set(value); // copy: msgpackr's bytes are a view at an arbitrary offset
  return out;
}

/** Checks lengths against the model: both vectors must have exactly the model's parameter count. */
function checkCapture(c: Capture, where: string): void {
  let expected: number;
  try {
    expected = paramCount(buildModel(c.model.config, c.model.inputShape, c.model.numClasses).specs);
  } catch (err) {
    throw new CaptureError(`capture ${where}: the model cannot be built (${err instanceof Error ? err.message : String(err)})`);
  }
  for (const field of ['globalParams', 'update'] as const) {
    const n = c[field].length;
    if (n !== expected) {
      throw new CaptureError(
        `capture ${where}: ${field} has ${n} values, but model ${c.model.config.name} on ${c.model.inputShape.join('×')} with ${c.model.numClasses} classes has ${expected} parameters`,
      );
    }
  }
}

export function readCapture(file: string): Capture {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CaptureError(code === 'ENOENT' ? `no capture file ${file}` : `cannot read capture ${file}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = unpack(bytes);
  } catch (err) {
    throw new CaptureError(`${file} is not a readable fedleak capture (truncated or not msgpack: ${err instanceof Error ? err.message : String(err)})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || raw instanceof Uint8Array) {
    throw new CaptureError(`${file} is not a fedleak capture: it holds a msgpack ${Array.isArray(raw) ? 'array' : typeof raw}, not a map`);
  }
  const obj = raw as Record<string, unknown>;
  if (obj.format !== CAPTURE_FORMAT) {
    throw new CaptureError(
      obj.format === undefined
        ? `${file} is not a fedleak capture (no "format" field)`
        : `${file} has format ${JSON.stringify(obj.format)}; this fedleak reads ${CAPTURE_FORMAT}`,
    );
  }
  const header = headerSchema.safeParse(obj);
  if (!header.success) throw new CaptureError(`capture ${file} has invalid fields: ${describe(header.error.issues)}`);
  const capture: Capture = {
    ...header.data,
    format: CAPTURE_FORMAT,
    globalParams: toFloats(obj.globalParams, 'globalParams', file),
    update: toFloats(obj.update, 'update', file),
  };
  checkCapture(capture, file);
  return capture;
}

/** The AttackInput an offline attack sees: the capture, with the attack config replaced if given. */
export function captureToAttackInput(c: Capture, attack: AttackConfig = c.attack, seed: number = c.seed): AttackInput {
  return {
    model: c.model,
    globalParams: c.globalParams,
    update: c.update,
    updateKind: c.updateKind,
    training: c.training,
    numExamples: c.numExamples,
    attack,
    seed,
  };
}

/**
 * Ground truth for scoring an offline attack, format "fedleak-truth/1" — a separate file, because a
 * capture holds only what the server saw. Simulations and tests may write one beside a capture.
 */
export const TRUTH_FORMAT = 'fedleak-truth/1';

export interface CaptureTruth {
  /** NHWC flat, [count, h, w, c], values in [0, 1], in the client's order. */
  images: Float32Array;
  labels: number[];
  count: number;
}

export function writeTruth(file: string, truth: CaptureTruth): void {
  if (truth.labels.length !== truth.count) throw new CaptureError(`truth ${file}: ${truth.labels.length} labels for ${truth.count} images`);
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  fs.writeFileSync(file, pack({ format: TRUTH_FORMAT, count: truth.count, labels: truth.labels, images: floatBytes(truth.images) }));
}

/** Reads a truth file and checks it against the capture's image shape. */
export function readTruth(file: string, inputShape: ImageShape): CaptureTruth {
  let raw: unknown;
  try {
    raw = unpack(fs.readFileSync(file));
  } catch (err) {
    throw new CaptureError(`cannot read truth file ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const obj = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  if (obj.format !== TRUTH_FORMAT) throw new CaptureError(`${file} is not a fedleak truth file (format ${JSON.stringify(obj.format)}, expected ${TRUTH_FORMAT})`);
  const parsed = z.object({ count: positiveInt, labels: z.array(z.number().int().nonnegative()) }).safeParse(obj);
  if (!parsed.success) throw new CaptureError(`truth ${file} has invalid fields: ${describe(parsed.error.issues)}`);
  const images = toFloats(obj.images, 'images', file);
  const size = inputShape[0] * inputShape[1] * inputShape[2];
  if (images.length !== parsed.data.count * size || parsed.data.labels.length !== parsed.data.count) {
    throw new CaptureError(
      `truth ${file}: ${parsed.data.count} examples of ${inputShape.join('×')} need ${parsed.data.count * size} values and ${parsed.data.count} labels; it has ${images.length} values and ${parsed.data.labels.length} labels`,
    );
  }
  return { images, labels: parsed.data.labels, count: parsed.data.count };
}
