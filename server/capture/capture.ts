/**
 * Captures: one update as the server received it, with what the server had sent for that round, for
 * re-running attacks offline (`fedleak attack --capture FILE`), format "fedleak-capture/2".
 *
 * A capture is one msgpack map: `observed` (an ObservedUpdate, shared/contract.ts) and `payload`
 * (its round's ServerPayload: model definition, global parameters, public training config), plus the
 * scenario's attack settings and seed at capture time so that `fedleak attack` repeats the live
 * attack by default. Tensors (`observed.update`, `payload.params`) are `bin` values of raw
 * little-endian float32 in the model's flatten order (docs/models.md), as on the wire. It holds only
 * what the server legitimately had (no ground truth). "fedleak-capture/1" files are still read.
 * The server writes one file per observed update under <out>/captures/ when federation.capture is
 * true (`captureFileName`).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pack, unpack } from 'msgpackr';
import { z } from 'zod';
import type { ObservedUpdate, ServerPayload, TrueUserData } from '../../shared/contract';
import { federationSchema } from '../../shared/scenario/public';
import { modelSchema } from '../../shared/models/schema';
import { definitionFor, modelDefinitionSchema, modelFromDefinition, type ModelDefinition } from '../../shared/models/definition';
import { paramCount, type ImageShape } from '../../shared/models/types';
import { attackSchema, type AttackConfig, type Scenario } from '../scenario/schema';

export const CAPTURE_FORMAT = 'fedleak-capture/2';
/** The first format (flat fields, model by scenario config); read, never written. */
export const CAPTURE_FORMAT_1 = 'fedleak-capture/1';

export class CaptureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CaptureError';
  }
}

export interface Capture {
  /** The update exactly as the observer saw it (after server-side clipping, when DP-FedAvg clips). */
  observed: ObservedUpdate;
  /** What the server sent for that round. */
  payload: ServerPayload;
  /** The scenario's attack config at capture time (the offline attack may override it). */
  attack: AttackConfig;
  /** Scenario seed: the offline attack derives the live attack's seed from it. */
  seed: number;
  /** ISO time the server received the update. */
  capturedAt?: string;
}

/** `round-<r>-client-<id>.msgpack`; client ids are sanitised to file-name characters. */
export function captureFileName(round: number, clientId: string): string {
  return `round-${round}-client-${clientId.replace(/[^A-Za-z0-9_-]/g, '_')}.msgpack`;
}

/** The capture of an observed update, with its round's payload and the scenario's attack settings. */
export function captureOf(observed: ObservedUpdate, payload: ServerPayload, scenario: Pick<Scenario, 'attack' | 'seed'>): Capture {
  return { observed, payload, attack: scenario.attack, seed: scenario.seed, capturedAt: new Date().toISOString() };
}

function floatBytes(values: Float32Array): Buffer {
  // Typed arrays use the machine's byte order; captures are little-endian like the wire.
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1)
    throw new CaptureError('captures are little-endian float32; this machine is big-endian');
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
}

/** Writes `capture` to `file` (creating its folder), via a temporary file so readers never see half a capture. */
export function writeCapture(file: string, capture: Capture): void {
  checkCapture(capture, file);
  const { observed, payload } = capture;
  const body = pack({
    format: CAPTURE_FORMAT,
    observed: { ...observed, update: floatBytes(observed.update) },
    payload: { ...payload, params: floatBytes(payload.params) },
    attack: capture.attack,
    seed: capture.seed,
    ...(capture.capturedAt ? { capturedAt: capture.capturedAt } : {}),
  });
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, body);
  fs.renameSync(tmp, file);
}

const trainingSchema = federationSchema.pick({ algorithm: true, batchSize: true, localSteps: true, learningRate: true, localEpochs: true });
const positiveInt = z.number().int().positive();
const shapeSchema = z.tuple([positiveInt, positiveInt, positiveInt]);
const viewSchema = z.enum(['plain', 'masked', 'aggregate']);
const kindSchema = z.enum(['gradient', 'weight-delta']);

/** The payload's model: the same schema clients check `welcome.model` with (graph checks follow in checkCapture). */
const definitionSchema = modelDefinitionSchema;

/** A model definition in a line: its task and size. */
export function describeDefinition(def: ModelDefinition): string {
  const count = paramCount(def.params);
  return `${def.inputShape.join('×')} → ${def.numClasses} classes, ${def.params.length} parameter tensors (${count} values)`;
}

const headerSchema2 = z.object({
  observed: z.object({
    round: positiveInt,
    sender: z.string().min(1),
    kind: kindSchema,
    numExamples: z.number().int().nonnegative(),
    view: viewSchema,
    bytes: z.number().int().nonnegative(),
    contributors: z.array(z.string()).optional(),
    serverClippedTo: z.number().positive().optional(),
  }),
  payload: z.object({ round: positiveInt, model: definitionSchema, training: trainingSchema }),
  attack: attackSchema,
  seed: z.number().int().nonnegative(),
  capturedAt: z.string().optional(),
});

const headerSchema1 = z.object({
  round: positiveInt,
  clientId: z.string().min(1),
  view: viewSchema.optional(),
  updateKind: kindSchema,
  numExamples: z.number().int().nonnegative(),
  training: trainingSchema,
  model: z.object({ config: modelSchema, inputShape: shapeSchema, numClasses: positiveInt }),
  attack: attackSchema,
  seed: z.number().int().nonnegative(),
  capturedAt: z.string().optional(),
});

function describe(issues: readonly z.core.$ZodIssue[]): string {
  return issues.map((i) => `${i.path.map(String).join('.') || '(top level)'}: ${i.message}`).join('; ');
}

function toFloats(value: unknown, field: string, where: string): Float32Array {
  if (!(value instanceof Uint8Array))
    throw new CaptureError(`capture ${where}: ${field} must be raw float32 bytes (msgpack bin), got ${typeof value}`);
  if (value.byteLength % 4 !== 0)
    throw new CaptureError(`capture ${where}: ${field} has ${value.byteLength} bytes, not a whole number of float32 values`);
  const out = new Float32Array(value.byteLength / 4);
  new Uint8Array(out.buffer).set(value); // copy: msgpackr's bytes are a view at an arbitrary offset
  return out;
}

/** Checks lengths against the model: both vectors must have exactly the model's parameter count. */
function checkCapture(c: Capture, where: string): void {
  const def = c.payload.model;
  let expected: number;
  try {
    expected = paramCount(modelFromDefinition(def).specs);
  } catch (err) {
    throw new CaptureError(`capture ${where}: the model cannot be built (${err instanceof Error ? err.message : String(err)})`);
  }
  if (c.observed.round !== c.payload.round)
    throw new CaptureError(`capture ${where}: observed.round ${c.observed.round} differs from payload.round ${c.payload.round}`);
  const vectors = { 'payload.params': c.payload.params, 'observed.update': c.observed.update };
  for (const [field, values] of Object.entries(vectors)) {
    if (values.length !== expected) {
      throw new CaptureError(
        `capture ${where}: ${field} has ${values.length} values, but the model (${def.inputShape.join('×')} → ${def.numClasses} classes) has ${expected} parameters`,
      );
    }
  }
}

function readBytes(file: string): Record<string, unknown> {
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
    throw new CaptureError(
      `${file} is not a readable fedleak capture (truncated or not msgpack: ${err instanceof Error ? err.message : String(err)})`,
    );
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || raw instanceof Uint8Array) {
    throw new CaptureError(`${file} is not a fedleak capture: it holds a msgpack ${Array.isArray(raw) ? 'array' : typeof raw}, not a map`);
  }
  return raw as Record<string, unknown>;
}

function fromFormat2(obj: Record<string, unknown>, file: string): Capture {
  const header = headerSchema2.safeParse(obj);
  if (!header.success) throw new CaptureError(`capture ${file} has invalid fields: ${describe(header.error.issues)}`);
  const h = header.data;
  const observed = obj.observed as Record<string, unknown>;
  const payload = obj.payload as Record<string, unknown>;
  return {
    observed: { ...h.observed, update: toFloats(observed.update, 'observed.update', file) },
    payload: {
      ...h.payload,
      model: h.payload.model as unknown as ModelDefinition,
      params: toFloats(payload.params, 'payload.params', file),
    },
    attack: h.attack,
    seed: h.seed,
    ...(h.capturedAt ? { capturedAt: h.capturedAt } : {}),
  };
}

/** A "fedleak-capture/1" file as the two records: the model config becomes its definition. */
function fromFormat1(obj: Record<string, unknown>, file: string): Capture {
  const header = headerSchema1.safeParse(obj);
  if (!header.success) throw new CaptureError(`capture ${file} has invalid fields: ${describe(header.error.issues)}`);
  const h = header.data;
  const update = toFloats(obj.update, 'update', file);
  let model: ModelDefinition;
  try {
    model = definitionFor(h.model.config, h.model.inputShape as ImageShape, h.model.numClasses);
  } catch (err) {
    throw new CaptureError(`capture ${file}: the model cannot be built (${err instanceof Error ? err.message : String(err)})`);
  }
  return {
    observed: {
      round: h.round,
      sender: h.clientId,
      kind: h.updateKind,
      numExamples: h.numExamples,
      update,
      view: h.view ?? 'plain',
      bytes: 0,
    },
    payload: { round: h.round, model, params: toFloats(obj.globalParams, 'globalParams', file), training: h.training },
    attack: h.attack,
    seed: h.seed,
    ...(h.capturedAt ? { capturedAt: h.capturedAt } : {}),
  };
}

export function readCapture(file: string): Capture {
  const obj = readBytes(file);
  let capture: Capture;
  if (obj.format === CAPTURE_FORMAT) capture = fromFormat2(obj, file);
  else if (obj.format === CAPTURE_FORMAT_1) capture = fromFormat1(obj, file);
  else {
    throw new CaptureError(
      obj.format === undefined
        ? `${file} is not a fedleak capture (no "format" field)`
        : `${file} has format ${JSON.stringify(obj.format)}; this fedleak reads ${CAPTURE_FORMAT} and ${CAPTURE_FORMAT_1}`,
    );
  }
  checkCapture(capture, file);
  return capture;
}

/**
 * Ground truth for scoring an offline attack, format "fedleak-truth/1" — a separate file, because a
 * capture holds only what the server saw. Simulations and tests may write one beside a capture.
 */
export const TRUTH_FORMAT = 'fedleak-truth/1';

/** The true examples behind a captured update (evaluation channel only). */
export type CaptureTruth = TrueUserData;

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
  if (obj.format !== TRUTH_FORMAT)
    throw new CaptureError(`${file} is not a fedleak truth file (format ${JSON.stringify(obj.format)}, expected ${TRUTH_FORMAT})`);
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
