/**
 * The model a model command is about: a built-in registry entry on a task (`--shape`, `--classes`,
 * `--set model.field=value`), or a tfjs LayersModel `model.json` (or the folder holding one).
 * Errors name the flag or file at fault.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MODEL_ENTRIES } from '../../shared/models/registry';
import type { ModelEntry } from '../../shared/models/entry';
import { ModelDefinitionError, type ModelDefinition } from '../../shared/models/graph/validate';
import { importTfjsLayersModel } from '../../shared/models/import/tfjs-layers';
import type { ImageShape } from '../../shared/models/types';
import { describeIssue } from '../../shared/scenario/errors';
import { applyOverride, parseOverride } from '../../server/scenario/load';
import { UserError } from './errors';

export interface ModelOptions {
  shape?: string;
  classes?: string;
  set: string[];
}

export interface ModelSource {
  definition: ModelDefinition;
  /** "built-in" or the model.json path. */
  origin: string;
  /** The file's weights; null for a built-in (drawn from its init). */
  params: Float32Array | null;
  /** The resolved `model` settings of a built-in (defaults filled in). */
  settings?: Record<string, unknown>;
  /** The file's last layer applied softmax, which the import removed. */
  droppedSoftmax?: boolean;
}

/** MNIST's task, the scenarios' default dataset. */
export const DEFAULT_SHAPE: ImageShape = [28, 28, 1];
export const DEFAULT_CLASSES = 10;

/** Entries that stand on their own; one that brings its weights from a file (tfjs-layers) is reached by its path. */
export function builtinModelEntries(): ModelEntry[] {
  return (MODEL_ENTRIES as readonly ModelEntry[]).filter((e) => e.initialParams === undefined);
}

export function parseShape(text: string): ImageShape {
  const parts = text.split(',').map((p) => p.trim());
  const dims = parts.map(Number);
  if (parts.length !== 3 || parts.some((p) => p === '') || !dims.every((d) => Number.isInteger(d) && d > 0 && d <= 4096))
    throw new UserError(`--shape ${text}: expected height,width,channels as three positive integers, e.g. --shape 32,32,3`);
  return dims as ImageShape;
}

export function parseClasses(text: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isInteger(n) || n < 2 || n > 100000)
    throw new UserError(`--classes ${text}: expected an integer from 2 to 100000`);
  return n;
}

function builtinSettings(entry: ModelEntry, overrides: readonly string[]): Record<string, unknown> {
  const raw: Record<string, unknown> = { model: { name: entry.name } };
  for (const text of overrides) {
    const { path: p, value } = parseOverride(text);
    if (!p.startsWith('model.') || p === 'model.name')
      throw new UserError(`--set ${text}: only model.* fields (not model.name) can be set here, e.g. --set model.hidden=[64]`);
    applyOverride(raw, p, value);
  }
  const parsed = entry.schema.safeParse(raw.model);
  if (!parsed.success)
    throw new UserError(`model "${entry.name}": ${parsed.error.issues.map((i) => describeIssue(i, ['model'])).join('; ')}`);
  return parsed.data as Record<string, unknown>;
}

/** A built-in model on a task; throws UserError for an unknown name or bad settings. */
export function builtinModel(name: string, opts: ModelOptions): ModelSource {
  const entry = builtinModelEntries().find((e) => e.name === name);
  if (!entry) throw unknownModel(name);
  const settings = builtinSettings(entry, opts.set);
  const shape = opts.shape === undefined ? DEFAULT_SHAPE : parseShape(opts.shape);
  const classes = opts.classes === undefined ? DEFAULT_CLASSES : parseClasses(opts.classes);
  const definition = userFacing(() => entry.definition(settings, shape, classes));
  return { definition, origin: 'built-in', params: null, settings };
}

function unknownModel(name: string): UserError {
  const names = builtinModelEntries().map((e) => e.name);
  return new UserError(
    `no model "${name}": it is neither a file nor a built-in model. Built-in models: ${names.join(', ')}; or give the path of a tfjs model.json (or its folder)`,
  );
}

/** ModelDefinitionError (a bad file, a task a model cannot take) as a UserError, its message whole. */
export function userFacing<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ModelDefinitionError) throw new UserError(err.message);
    throw err;
  }
}

function checkFileTask(file: string, def: ModelDefinition, opts: ModelOptions): void {
  if (opts.set.length > 0) throw new UserError(`--set: ${file} is a model file; model.* settings apply to built-in models only`);
  if (opts.shape !== undefined && parseShape(opts.shape).join(',') !== def.inputShape.join(','))
    throw new UserError(`--shape ${opts.shape}: ${file} takes [${def.inputShape.join(', ')}] images (a model file fixes its input shape)`);
  if (opts.classes !== undefined && parseClasses(opts.classes) !== def.numClasses)
    throw new UserError(`--classes ${opts.classes}: ${file} outputs ${def.numClasses} classes (a model file fixes its class count)`);
}

function modelFile(file: string, opts: ModelOptions): ModelSource {
  const json = fs.statSync(file).isDirectory() ? path.join(file, 'model.json') : file;
  const imported = userFacing(() => importTfjsLayersModel(json));
  checkFileTask(json, imported.definition, opts);
  return { definition: imported.definition, origin: json, params: imported.params, droppedSoftmax: imported.droppedSoftmax };
}

/** `<model.json | folder | built-in name>`: a path that exists is a file; otherwise a built-in's name. */
export function resolveModel(nameOrPath: string, opts: ModelOptions): ModelSource {
  if (fs.existsSync(nameOrPath)) return modelFile(nameOrPath, opts);
  if (builtinModelEntries().some((e) => e.name === nameOrPath)) return builtinModel(nameOrPath, opts);
  if (/[\\/]|\.json$/i.test(nameOrPath)) throw new UserError(`${nameOrPath}: no such file (expected a tfjs model.json or its folder)`);
  throw unknownModel(nameOrPath);
}
