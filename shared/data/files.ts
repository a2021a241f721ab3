/** Reading a user's data file: resolves the path, gunzips `.gz`, and turns I/O failures into DataErrors. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { DataError } from './errors';

/**
 * The bytes of a data file. Relative paths are resolved against the current working directory
 * (not the scenario file's directory). A name ending in `.gz` is gunzipped.
 */
export function readDataFile(file: string): Buffer {
  const resolved = path.resolve(file);
  let raw: Buffer;
  try {
    raw = fs.readFileSync(resolved);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new DataError(`${file}: file not found (looked at ${resolved})`);
    if (code === 'EISDIR') throw new DataError(`${file}: is a directory, expected a data file`);
    throw new DataError(`${file}: cannot read: ${(err as Error).message}`);
  }
  if (!file.endsWith('.gz')) return raw;
  try {
    return zlib.gunzipSync(raw);
  } catch (err) {
    throw new DataError(`${file}: cannot gunzip (the name ends in .gz): ${(err as Error).message}`);
  }
}
