/**
 * PNG and JPEG files to pixels, with pngjs and jpeg-js (pure JavaScript, synchronous). Both
 * decoders hand back RGBA (16-bit PNGs keep their 16 bits, low-bit grey PNGs their raw levels;
 * `maxValue` says what full intensity is); we also keep how many channels the file itself has (grey 1,
 * grey+alpha 2, RGB 3, RGBA 4) so a dataset without a configured shape can take its channels
 * from the first image.
 */
import * as jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { DataError } from './errors';

export interface DecodedImage {
  width: number;
  height: number;
  /** Channels stored in the file: 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA. */
  channels: number;
  /** RGBA, row-major, width·height·4 values in 0 … maxValue. */
  rgba: Uint8Array | Uint16Array;
  /** Full intensity: 255, 65535 for 16-bit PNGs, 2^depth − 1 for 1/2/4-bit grey PNGs. */
  maxValue: number;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function startsWith(bytes: Uint8Array, prefix: readonly number[]): boolean {
  return bytes.length >= prefix.length && prefix.every((b, i) => bytes[i] === b);
}

/** The image's format from its first bytes (not its name), or null when it is neither. */
export function sniffImageFormat(bytes: Uint8Array): 'png' | 'jpeg' | null {
  if (startsWith(bytes, PNG_SIGNATURE)) return 'png';
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'jpeg';
  return null;
}

function decodePng(file: string, bytes: Buffer): DecodedImage {
  let png: ReturnType<typeof PNG.sync.read>;
  try {
    // skipRescale keeps 16-bit samples instead of rounding them to 8 bits.
    png = PNG.sync.read(bytes, { skipRescale: true });
  } catch (err) {
    throw new DataError(`${file}: corrupt PNG: ${(err as Error).message}`);
  }
  // colorType bit 2 is "colour", bit 4 "alpha"; palette images (3) may carry alpha in tRNS.
  const channels = (png.color ? 3 : 1) + (png.alpha ? 1 : 0);
  // Palette images are expanded through the 8-bit palette; other types keep their bit depth.
  const maxValue = png.palette ? 255 : 2 ** png.depth - 1;
  return { width: png.width, height: png.height, channels, rgba: png.data, maxValue };
}

/** Component count from the JPEG frame header (SOFn), or 3 when none is found before the scan. */
function jpegComponents(bytes: Uint8Array): number {
  let at = 2;
  while (at + 9 < bytes.length && bytes[at] === 0xff) {
    const marker = bytes[at + 1];
    const length = (bytes[at + 2] << 8) | bytes[at + 3];
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrame) return bytes[at + 9];
    if (marker === 0xda) break;
    at += 2 + length;
  }
  return 3;
}

function hasEndMarker(bytes: Uint8Array): boolean {
  // Some writers append padding after EOI, so look at the last few bytes, not only the final two.
  for (let i = bytes.length - 2; i >= Math.max(0, bytes.length - 64); i--) {
    if (bytes[i] === 0xff && bytes[i + 1] === 0xd9) return true;
  }
  return false;
}

function decodeJpeg(file: string, bytes: Buffer): DecodedImage {
  let decoded: { width: number; height: number; data: Uint8Array };
  try {
    decoded = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, tolerantDecoding: false });
  } catch (err) {
    const fault = hasEndMarker(bytes) ? 'corrupt JPEG' : 'truncated JPEG (no end-of-image marker)';
    throw new DataError(`${file}: ${fault}: ${(err as Error).message}`);
  }
  const components = jpegComponents(bytes);
  return { width: decoded.width, height: decoded.height, channels: components === 1 ? 1 : 3, rgba: decoded.data, maxValue: 255 };
}

/** Decodes a PNG or JPEG by its content; anything else is a DataError naming the file. */
export function decodeImage(file: string, bytes: Buffer): DecodedImage {
  const format = sniffImageFormat(bytes);
  if (format === 'png') return decodePng(file, bytes);
  if (format === 'jpeg') return decodeJpeg(file, bytes);
  throw new DataError(`${file}: not a PNG or JPEG image (its first bytes are neither signature)`);
}
