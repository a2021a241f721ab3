/**
 * IDX files, the format of MNIST and Fashion-MNIST (yann.lecun.com/exdb/mnist): a big-endian
 * header then unsigned bytes. Images: magic 0x00000803, count, rows, cols, then count·rows·cols
 * pixels (0–255, row-major). Labels: magic 0x00000801, count, then count label bytes.
 */
import { DataError } from './errors';
import { readDataFile } from './files';
import type { Dataset } from './types';

export const IDX_IMAGES_MAGIC = 0x00000803;
export const IDX_LABELS_MAGIC = 0x00000801;

function hex(n: number): string {
  return '0x' + n.toString(16).padStart(8, '0');
}

function checkHeader(file: string, bytes: Buffer, headerBytes: number, magic: number, what: string): void {
  if (bytes.length < headerBytes) {
    throw new DataError(`${file}: truncated IDX ${what} header: expected ${headerBytes} bytes, got ${bytes.length}`);
  }
  const found = bytes.readUInt32BE(0);
  if (found !== magic) {
    throw new DataError(`${file}: wrong magic number ${hex(found)} for an IDX ${what} file (expected ${hex(magic)})`);
  }
}

function checkLength(file: string, bytes: Buffer, expected: number, what: string): void {
  if (bytes.length < expected) {
    throw new DataError(`${file}: truncated IDX ${what} file: expected ${expected} bytes, got ${bytes.length}`);
  }
  if (bytes.length > expected) {
    throw new DataError(`${file}: IDX ${what} file is longer than its header says: expected ${expected} bytes, got ${bytes.length}`);
  }
}

/** Reads an images file and a labels file into a Dataset ([rows, cols, 1], pixels / 255). */
export function loadIdx(imagesFile: string, labelsFile: string, numClasses = 10): Dataset {
  const img = readDataFile(imagesFile);
  checkHeader(imagesFile, img, 16, IDX_IMAGES_MAGIC, 'images');
  const count = img.readUInt32BE(4);
  const rows = img.readUInt32BE(8);
  const cols = img.readUInt32BE(12);
  if (rows === 0 || cols === 0) throw new DataError(`${imagesFile}: IDX images of size ${rows}×${cols}; expected positive rows and cols`);
  checkLength(imagesFile, img, 16 + count * rows * cols, 'images');

  const lab = readDataFile(labelsFile);
  checkHeader(labelsFile, lab, 8, IDX_LABELS_MAGIC, 'labels');
  const labelCount = lab.readUInt32BE(4);
  checkLength(labelsFile, lab, 8 + labelCount, 'labels');
  if (labelCount !== count) {
    throw new DataError(`${labelsFile}: has ${labelCount} labels but ${imagesFile} has ${count} images`);
  }

  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const y = lab[8 + i];
    if (y >= numClasses) {
      throw new DataError(`${labelsFile}: label ${y} of example ${i} is out of range 0–${numClasses - 1}`);
    }
    labels[i] = y;
  }
  const images = new Float32Array(count * rows * cols);
  for (let i = 0; i < images.length; i++) images[i] = img[16 + i] / 255;
  return { name: 'idx', shape: [rows, cols, 1], numClasses, images, labels };
}

/** Encodes a Dataset with one channel as IDX files' bytes (pixels rounded to 0–255); for tests and tools. */
export function encodeIdx(d: Dataset): { images: Buffer; labels: Buffer } {
  const [rows, cols, channels] = d.shape;
  if (channels !== 1) throw new DataError(`IDX holds one channel; dataset ${d.name} has ${channels}`);
  const count = d.labels.length;
  const images = Buffer.alloc(16 + count * rows * cols);
  images.writeUInt32BE(IDX_IMAGES_MAGIC, 0);
  images.writeUInt32BE(count, 4);
  images.writeUInt32BE(rows, 8);
  images.writeUInt32BE(cols, 12);
  for (let i = 0; i < count * rows * cols; i++) images[16 + i] = Math.round(Math.min(1, Math.max(0, d.images[i])) * 255);
  const labels = Buffer.alloc(8 + count);
  labels.writeUInt32BE(IDX_LABELS_MAGIC, 0);
  labels.writeUInt32BE(count, 4);
  for (let i = 0; i < count; i++) labels[8 + i] = d.labels[i];
  return { images, labels };
}
