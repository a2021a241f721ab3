/**
 * Validation of a `POST /v1/predict` body. Each input is either nested in the model's input shape
 * ([h][w][c]) or flat (h·w·c numbers, row-major HWC). Every error names the offending field by its
 * JSON path, e.g. `inputs[2][27][0]`.
 */
import type { ImageShape } from '../../shared/models/types';

export class InputError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'InputError';
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 20 ? `${value.slice(0, 20)}…` : value)}`;
  return typeof value;
}

function finite(value: unknown, field: string): number {
  if (typeof value !== 'number') throw new InputError(field, `expected a number, got ${describe(value)}`);
  // JSON cannot spell NaN, but 1e999 parses to Infinity.
  if (!Number.isFinite(value)) throw new InputError(field, `expected a finite number, got ${value}`);
  return value;
}

/** Copies one nested input into `out` at `offset`, checking every level against `shape`. */
function copyNested(value: unknown, shape: readonly number[], field: string, out: Float32Array, offset: number): number {
  if (shape.length === 0) {
    out[offset] = finite(value, field);
    return offset + 1;
  }
  if (!Array.isArray(value) || value.length !== shape[0]) {
    throw new InputError(field, `expected an array of ${shape[0]} (input shape [${shape.join(', ')}] from here), got ${describe(value)}`);
  }
  let at = offset;
  for (let i = 0; i < value.length; i++) at = copyNested(value[i], shape.slice(1), `${field}[${i}]`, out, at);
  return at;
}

function copyInput(value: unknown, shape: ImageShape, field: string, out: Float32Array, offset: number): void {
  const size = shape[0] * shape[1] * shape[2];
  if (Array.isArray(value) && value.length === size && size !== shape[0]) {
    for (let i = 0; i < size; i++) out[offset + i] = finite(value[i], `${field}[${i}]`);
    return;
  }
  if (!Array.isArray(value) || (value.length !== shape[0] && value.length !== size)) {
    throw new InputError(
      field,
      `expected ${size} numbers (flat) or an array of ${shape[0]} rows (nested [${shape.join(', ')}]), got ${describe(value)}`,
    );
  }
  copyNested(value, shape, field, out, offset);
}

/** The batch as one flat NHWC vector, or an InputError naming the first problem. */
export function parsePredictBody(body: unknown, shape: ImageShape, maxBatch: number): { batch: number; values: Float32Array } {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new InputError('body', `expected a JSON object {"inputs": [...]}, got ${describe(body)}`);
  }
  const unknown = Object.keys(body).filter((k) => k !== 'inputs');
  if (unknown.length > 0) throw new InputError(unknown[0], 'unknown field (the body has only "inputs")');
  const inputs = (body as { inputs?: unknown }).inputs;
  if (inputs === undefined) throw new InputError('inputs', 'missing (a batch: an array of inputs)');
  if (!Array.isArray(inputs)) throw new InputError('inputs', `expected an array of inputs, got ${describe(inputs)}`);
  if (inputs.length === 0) throw new InputError('inputs', 'empty batch (send at least one input)');
  if (inputs.length > maxBatch)
    throw new InputError('inputs', `batch of ${inputs.length} inputs exceeds the limit of ${maxBatch} per request`);
  const size = shape[0] * shape[1] * shape[2];
  const values = new Float32Array(inputs.length * size);
  inputs.forEach((input, i) => copyInput(input, shape, `inputs[${i}]`, values, i * size));
  return { batch: inputs.length, values };
}
