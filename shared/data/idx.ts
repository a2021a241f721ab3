/**
 * IDX files, the format of MNIST and Fashion-MNIST (yann.lecun.com/exdb/mnist): a big-endian
 * header then the values. The magic number is 0x0000 TT DD: TT the value type, DD the number of
 * dimensions, then DD 32-bit sizes. Images: unsigned bytes (TT 0x08) with 3 dimensions
 * (count, rows, cols; magic 0x00000803) or 4 (count, rows, cols, channels; 0x00000804, channels
 * interleaved as NHWC). Labels: 1 dimension (count) of unsigned bytes (0x00000801) or of 32-bit
 * signed integers (0x00000C01, for more than 256 classes). Any class count: `classes`.
 */
import { z } from 'zod';
import { DataError } from './errors';
import { readDataFile } from './files';
import type { Dataset } from './types';

export const IDX_IMAGES_MAGIC = 0x00000803;
export const IDX_IMAGES_CHANNELS_MAGIC = 0x00000804;
export const IDX_LABELS_MAGIC = 0x00000801;
export const IDX_LABELS_INT32_MAGIC = 0x00000c01;

export const idxSchema = z.strictObject({
  /** Paths of the images and labels files (a name ending in .gz is gunzipped). */
  images: z.string().min(1),
  labels: z.string().min(1),
  /** Number of classes; labels must lie in 0 … classes − 1. */
  classes: z.number().int().positive().default(10),
});
export type IdxConfig = z.input<typeof idxSchema>;

const TYPE_NAMES: Record<number, string> = {
  0x08: 'unsigned byte',
  0x09: 'signed byte',
  0x0b: 'int16',
  0x0c: 'int32',
  0x0d: 'float32',
  0x0e: 'float64',
};

function hex(n: number): string {
  return '0x' + n.toString(16).padStart(8, '0');
}

function checkLength(file: string, bytes: Buffer, expected: number, what: string): void {
  if (bytes.length < expected) {
    throw new DataError(`${file}: truncated IDX ${what} file: expected ${expected} bytes, got ${bytes.length}`);
  }
  if (bytes.length > expected) {
    throw new DataError(`${file}: IDX ${what} file is longer than its header says: expected ${expected} bytes, got ${bytes.length}`);
  }
}

function readMagic(file: string, bytes: Buffer, what: string, allowed: readonly number[], hint: string): number {
  const minHeader = 4 + 4 * Math.min(...allowed.map((m) => m & 0xff));
  const truncated = (): DataError =>
    new DataError(`${file}: truncated IDX ${what} header: expected ${minHeader} bytes, got ${bytes.length}`);
  if (bytes.length < 4) throw truncated();
  const found = bytes.readUInt32BE(0);
  if (allowed.includes(found)) {
    if (bytes.length < minHeader) throw truncated();
    return found;
  }
  const type = (found >>> 8) & 0xff;
  if (found >>> 16 === 0 && TYPE_NAMES[type] && !allowed.some((m) => ((m >>> 8) & 0xff) === type)) {
    throw new DataError(`${file}: IDX ${what} of type ${TYPE_NAMES[type]} (magic ${hex(found)}) are not supported; ${hint}`);
  }
  throw new DataError(`${file}: wrong magic number ${hex(found)} for an IDX ${what} file (expected ${hex(allowed[0])}); ${hint}`);
}

interface IdxImages {
  count: number;
  shape: [number, number, number];
}

function readImagesHeader(file: string, img: Buffer): IdxImages {
  const hint = 'images are unsigned bytes with 3 dimensions (0x00000803) or 4 with channels last (0x00000804)';
  const magic = readMagic(file, img, 'images', [IDX_IMAGES_MAGIC, IDX_IMAGES_CHANNELS_MAGIC], hint);
  const dims = magic & 0xff;
  const headerBytes = 4 + 4 * dims;
  if (img.length < headerBytes) {
    throw new DataError(`${file}: truncated IDX images header: expected ${headerBytes} bytes, got ${img.length}`);
  }
  const count = img.readUInt32BE(4);
  const rows = img.readUInt32BE(8);
  const cols = img.readUInt32BE(12);
  const channels = dims === 4 ? img.readUInt32BE(16) : 1;
  if (rows === 0 || cols === 0 || channels === 0) {
    throw new DataError(`${file}: IDX images of size ${rows}×${cols}×${channels}; expected positive rows, cols and channels`);
  }
  checkLength(file, img, headerBytes + count * rows * cols * channels, 'images');
  return { count, shape: [rows, cols, channels] };
}

function readLabels(file: string, lab: Buffer, numClasses: number): Int32Array {
  const hint = 'labels are one dimension of unsigned bytes (0x00000801) or int32 (0x00000c01)';
  const magic = readMagic(file, lab, 'labels', [IDX_LABELS_MAGIC, IDX_LABELS_INT32_MAGIC], hint);
  const count = lab.readUInt32BE(4);
  const wide = magic === IDX_LABELS_INT32_MAGIC;
  checkLength(file, lab, 8 + count * (wide ? 4 : 1), 'labels');
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const y = wide ? lab.readInt32BE(8 + 4 * i) : lab[8 + i];
    if (y < 0 || y >= numClasses) {
      throw new DataError(`${file}: label ${y} of example ${i} is out of range 0–${numClasses - 1} (set data.classes for more classes)`);
    }
    labels[i] = y;
  }
  return labels;
}

/** Reads an images file and a labels file into a Dataset ([rows, cols, channels], pixels / 255). */
export function loadIdx(imagesFile: string, labelsFile: string, numClasses = 10): Dataset {
  const img = readDataFile(imagesFile);
  const { count, shape } = readImagesHeader(imagesFile, img);
  const labels = readLabels(labelsFile, readDataFile(labelsFile), numClasses);
  if (labels.length !== count) {
    throw new DataError(`${labelsFile}: has ${labels.length} labels but ${imagesFile} has ${count} images`);
  }
  const offset = shape[2] === 1 ? 16 : 20;
  const images = new Float32Array(count * shape[0] * shape[1] * shape[2]);
  for (let i = 0; i < images.length; i++) images[i] = img[offset + i] / 255;
  return { name: 'idx', shape, numClasses, images, labels };
}

/** The `idx` dataset from its config (see idxSchema). */
export function loadIdxDataset(input: IdxConfig): Dataset {
  const config = idxSchema.parse(input);
  return loadIdx(config.images, config.labels, config.classes);
}

/**
 * Encodes a Dataset as IDX files' bytes (pixels rounded to 0–255; one channel as 0x00000803, more
 * as 0x00000804; labels as bytes, or int32 when a label exceeds 255); for tests and tools.
 */
export function encodeIdx(d: Dataset): { images: Buffer; labels: Buffer } {
  const [rows, cols, channels] = d.shape;
  const count = d.labels.length;
  const header = channels === 1 ? 16 : 20;
  const images = Buffer.alloc(header + count * rows * cols * channels);
  images.writeUInt32BE(channels === 1 ? IDX_IMAGES_MAGIC : IDX_IMAGES_CHANNELS_MAGIC, 0);
  images.writeUInt32BE(count, 4);
  images.writeUInt32BE(rows, 8);
  images.writeUInt32BE(cols, 12);
  if (channels !== 1) images.writeUInt32BE(channels, 16);
  for (let i = 0; i < count * rows * cols * channels; i++) images[header + i] = Math.round(Math.min(1, Math.max(0, d.images[i])) * 255);
  const wide = d.labels.some((y) => y > 255);
  const labels = Buffer.alloc(8 + count * (wide ? 4 : 1));
  labels.writeUInt32BE(wide ? IDX_LABELS_INT32_MAGIC : IDX_LABELS_MAGIC, 0);
  labels.writeUInt32BE(count, 4);
  for (let i = 0; i < count; i++) {
    if (wide) labels.writeInt32BE(d.labels[i], 8 + 4 * i);
    else labels[8 + i] = d.labels[i];
  }
  return { images, labels };
}
