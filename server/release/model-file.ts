/**
 * The released-model file: `<run>/release/model.json` (the model definition and facts about it)
 * beside `<run>/release/model.params.f32` (the flat parameter vector, float32 little-endian, in
 * the definition's `params` order). The SHA-256 of the parameter file is recorded so a swapped or
 * truncated file is refused instead of served.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { definitionFor, modelFromDefinition, MODEL_DEFINITION_FORMAT, type ModelDefinition } from '../../shared/models/definition';
import type { ModelConfig } from '../../shared/models/schema';
import type { Normalization } from '../../shared/data/normalize';
import { paramCount, type ImageShape, type Model } from '../../shared/models/types';

export const RELEASED_MODEL_FORMAT = 'fedleak-released-model/1';
export const RELEASE_DIR = 'release';
const MODEL_FILE = 'model.json';
const PARAMS_FILE = 'model.params.f32';

export interface ReleasedModelFile {
  format: typeof RELEASED_MODEL_FORMAT;
  definition: ModelDefinition;
  paramsFile: string;
  paramCount: number;
  paramsSha256: string;
  createdAt: string;
  /** Accuracy on the run's held-out test set when known. */
  testAccuracy?: number;
}

export interface ReleasedModel {
  model: Model;
  params: Float32Array;
  meta: ReleasedModelFile;
}

export class ReleaseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError'; // printed as one paragraph by the CLI
  }
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function toLittleEndian(params: Float32Array): Buffer {
  const buf = Buffer.alloc(params.length * 4);
  for (let i = 0; i < params.length; i++) buf.writeFloatLE(params[i], i * 4);
  return buf;
}

/** Writes the model into `<runDir>/release/`; returns the model.json path. */
export function saveReleasedModel(
  runDir: string,
  config: ModelConfig,
  inputShape: ImageShape,
  numClasses: number,
  params: Float32Array,
  options: { testAccuracy?: number; normalize?: Normalization } = {},
): string {
  const { normalize, ...extra } = options;
  const definition = definitionFor(config, inputShape, numClasses, normalize);
  const expected = paramCount(definition.params);
  if (params.length !== expected) throw new ReleaseError(`release: the model needs ${expected} parameters, got ${params.length}`);
  const dir = path.join(runDir, RELEASE_DIR);
  fs.mkdirSync(dir, { recursive: true });
  const bytes = toLittleEndian(params);
  fs.writeFileSync(path.join(dir, PARAMS_FILE), bytes);
  const meta: ReleasedModelFile = {
    format: RELEASED_MODEL_FORMAT,
    definition,
    paramsFile: PARAMS_FILE,
    paramCount: params.length,
    paramsSha256: sha256(bytes),
    createdAt: new Date().toISOString(),
    ...extra,
  };
  const file = path.join(dir, MODEL_FILE);
  fs.writeFileSync(file, `${JSON.stringify(meta, null, 2)}\n`);
  return file;
}

function readMeta(file: string): ReleasedModelFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ReleaseError(`${file}: cannot read the released model (${(err as Error).message}); was the run made with release.api set?`);
  }
  const meta = parsed as Partial<ReleasedModelFile>;
  if (meta.format !== RELEASED_MODEL_FORMAT)
    throw new ReleaseError(`${file}: format is ${JSON.stringify(meta.format)}, expected "${RELEASED_MODEL_FORMAT}"`);
  if (!meta.definition || meta.definition.format !== MODEL_DEFINITION_FORMAT) {
    throw new ReleaseError(`${file}: "definition" is missing or not a ${MODEL_DEFINITION_FORMAT} model definition`);
  }
  if (typeof meta.paramsFile !== 'string' || path.basename(meta.paramsFile) !== meta.paramsFile) {
    throw new ReleaseError(`${file}: "paramsFile" must be a file name in the same folder`);
  }
  return meta as ReleasedModelFile;
}

/** Loads `<runDir>/release/model.json` and its parameters, checking size and checksum. */
export function loadReleasedModel(runDir: string): ReleasedModel {
  const file = path.join(runDir, RELEASE_DIR, MODEL_FILE);
  const meta = readMeta(file);
  const paramsPath = path.join(path.dirname(file), meta.paramsFile);
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(paramsPath);
  } catch (err) {
    throw new ReleaseError(`${paramsPath}: cannot read the parameters (${(err as Error).message})`);
  }
  if (sha256(bytes) !== meta.paramsSha256)
    throw new ReleaseError(`${paramsPath}: SHA-256 differs from model.json's paramsSha256 (file changed or truncated)`);
  const model = modelFromDefinition(meta.definition);
  const expected = paramCount(model.specs);
  if (bytes.length !== expected * 4)
    throw new ReleaseError(`${paramsPath}: ${bytes.length} bytes, the model needs ${expected} float32 values`);
  const params = new Float32Array(expected);
  for (let i = 0; i < expected; i++) params[i] = bytes.readFloatLE(i * 4);
  return { model, params, meta };
}
