/**
 * `"dataset": "image-folder"`: a folder with one sub-folder per class, each holding PNG or JPEG
 * images (the layout of torchvision's ImageFolder). Classes are the sub-folder names sorted by
 * code point, label i is the i-th name; examples come class by class, files sorted by name, so
 * the order never depends on the file system or the locale.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import type { ImageShape } from '../models/types';
import { DataError } from './errors';
import { decodeImage, type DecodedImage } from './image-decode';
import { resizeBilinear } from './resize';
import type { Dataset } from './types';

const positiveInt = z.number().int().positive();

export const imageFolderSchema = z.strictObject({
  /** The folder holding one sub-folder per class. */
  path: z.string().min(1),
  /** [h, w, c]: every image is resized to h×w and converted to c channels (1–4). Default: the first image's. */
  imageShape: z.tuple([positiveInt, positiveInt, z.number().int().min(1).max(4)]).optional(),
});
export type ImageFolderConfig = z.input<typeof imageFolderSchema>;

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg']);

function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function readDirectory(dir: string, what: string): string[] {
  try {
    return fs
      .readdirSync(dir)
      .filter((name) => !name.startsWith('.'))
      .sort(byCodePoint);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new DataError(`${dir}: ${what} not found (looked at ${path.resolve(dir)})`);
    if (code === 'ENOTDIR') throw new DataError(`${dir}: is a file; expected a ${what}`);
    throw new DataError(`${dir}: cannot read the ${what}: ${(err as Error).message}`);
  }
}

/** Class names (sorted sub-folder names) and, per class, its image files in name order. */
export function listImageFolder(root: string): { classNames: string[]; files: string[][] } {
  const entries = readDirectory(root, 'image folder');
  const classNames = entries.filter((name) => isDirectory(path.join(root, name)));
  const strayImage = entries.find((name) => !classNames.includes(name) && IMAGE_EXTENSIONS.has(path.extname(name).toLowerCase()));
  if (strayImage) {
    throw new DataError(`${path.join(root, strayImage)}: images must sit in a sub-folder named after their class, not in the top folder`);
  }
  if (classNames.length === 0) throw new DataError(`${root}: no class sub-folders; expected one sub-folder of images per class`);
  const files = classNames.map((name) => {
    const dir = path.join(root, name);
    const images = readDirectory(dir, 'class folder').map((file) => path.join(dir, file));
    if (images.length === 0) throw new DataError(`${dir}: empty class folder (class "${name}" has no images)`);
    for (const file of images) {
      if (isDirectory(file)) throw new DataError(`${file}: a folder inside a class folder; nested folders are not supported`);
      if (!IMAGE_EXTENSIONS.has(path.extname(file).toLowerCase())) {
        throw new DataError(`${file}: not an image file name; class folders may hold only .png, .jpg and .jpeg files`);
      }
    }
    return images;
  });
  return { classNames, files };
}

/** The image's pixels as `channels` float channels in [0, 1] (grey from RGB by ITU-R BT.601 luma). */
export function toChannels(image: DecodedImage, channels: number): Float32Array {
  const { rgba, width, height, maxValue } = image;
  const pixels = width * height;
  const out = new Float32Array(pixels * channels);
  const isGrey = image.channels <= 2;
  for (let p = 0; p < pixels; p++) {
    const r = rgba[4 * p];
    const g = rgba[4 * p + 1];
    const b = rgba[4 * p + 2];
    const a = rgba[4 * p + 3];
    const o = p * channels;
    if (channels <= 2) {
      out[o] = (isGrey ? r : 0.299 * r + 0.587 * g + 0.114 * b) / maxValue;
      if (channels === 2) out[o + 1] = a / maxValue;
    } else {
      out[o] = r / maxValue;
      out[o + 1] = g / maxValue;
      out[o + 2] = b / maxValue;
      if (channels === 4) out[o + 3] = a / maxValue;
    }
  }
  return out;
}

function readImage(file: string): DecodedImage {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    throw new DataError(`${file}: cannot read: ${(err as Error).message}`);
  }
  return decodeImage(file, bytes);
}

/** Loads the folder into a Dataset with `classNames`; see the file comment for the order. */
export function loadImageFolder(input: ImageFolderConfig): Dataset {
  const config = imageFolderSchema.parse(input);
  const { classNames, files } = listImageFolder(config.path);
  const all = files.flatMap((list, label) => list.map((file) => ({ file, label })));
  const first = readImage(all[0].file);
  const shape: ImageShape = config.imageShape ? [...config.imageShape] : [first.height, first.width, first.channels];
  const [h, w, c] = shape;
  const size = h * w * c;
  const images = new Float32Array(all.length * size);
  const labels = new Int32Array(all.length);
  all.forEach(({ file, label }, i) => {
    const image = i === 0 ? first : readImage(file);
    if (!config.imageShape && (image.height !== h || image.width !== w)) {
      throw new DataError(
        `${file}: image is ${image.width}×${image.height} pixels (width×height) but ${all[0].file} is ${w}×${h}; ` +
          'set data.imageShape to resize every image to one size',
      );
    }
    const pixels = toChannels(image, c);
    images.set(resizeBilinear(pixels, [image.height, image.width, c], h, w), i * size);
    labels[i] = label;
  });
  return { name: 'image-folder', shape, numClasses: classNames.length, images, labels, classNames };
}
