import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as jpeg from 'jpeg-js';
import { PNG, type ColorType } from 'pngjs';
import { DataError } from '../shared/data/errors';
import { loadImageFolder, toChannels } from '../shared/data/image-folder';
import { decodeImage } from '../shared/data/image-decode';
import { resizeBilinear } from '../shared/data/resize';
import { writeImageFolder } from '../shared/data/image-folder-write';
import { loadMnist } from '../shared/data/mnist';
import { loadCsv } from '../shared/data/csv';
import { parseCsv } from '../shared/data/csv-parse';
import { encodeIdx, loadIdxDataset } from '../shared/data/idx';
import { CIFAR100_RECORD, encodeCifar100, loadCifar100 } from '../shared/data/cifar100';
import { denormalizePixels, denormalizeTensor, normalizePixels, normalizeTensor } from '../shared/data/normalize';
import { subset, type Dataset } from '../shared/data/types';
import { tf } from '../shared/tensor/tf';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fedleak-loaders-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function write(rel: string, bytes: Buffer | string): string {
  const file = path.join(tmp, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, bytes);
  return file;
}

/** A PNG of the given colour type from per-pixel channel bytes (grey 1, grey+alpha 2, RGB 3, RGBA 4 per pixel). */
function png(width: number, height: number, channels: 1 | 2 | 3 | 4, values: number[]): Buffer {
  const colorType = ({ 1: 0, 2: 4, 3: 2, 4: 6 } as const)[channels] as ColorType;
  const image = new PNG({ width, height });
  for (let p = 0; p < width * height; p++) {
    const v = values.slice(p * channels, (p + 1) * channels);
    const rgba = channels === 1 ? [v[0], v[0], v[0], 255] : channels === 2 ? [v[0], v[0], v[0], v[1]] : channels === 3 ? [...v, 255] : v;
    image.data.set(rgba, p * 4);
  }
  return PNG.sync.write(image, { colorType, inputColorType: 6, inputHasAlpha: true });
}

function jpegBytes(width: number, height: number, seed: number): Buffer {
  const data = Buffer.alloc(width * height * 4);
  for (let i = 0; i < data.length; i++) data[i] = (i * 37 + seed * 11) % 256;
  return jpeg.encode({ width, height, data }, 90).data;
}

const f32 = (x: number): number => Math.fround(x);
const luma = (r: number, g: number, b: number): number => f32((0.299 * r + 0.587 * g + 0.114 * b) / 255);

function example(d: Dataset, i: number): number[] {
  const size = d.shape[0] * d.shape[1] * d.shape[2];
  return Array.from(d.images.subarray(i * size, (i + 1) * size));
}

describe('data loaders: image folder', () => {
  const root = path.join(tmp, 'images');
  // Class folders sort by code point: "Bird" < "cat" < "dog"; files by name within a class.
  const grey = [0, 51, 102, 153, 204, 255];
  const rgb = Array.from({ length: 18 }, (_, i) => (i * 13) % 256);
  const rgba = Array.from({ length: 24 }, (_, i) => (i * 29 + 7) % 256);
  const jpg = jpegBytes(3, 2, 1);
  before(() => {
    write('images/Bird/b.png', png(3, 2, 3, rgb));
    write('images/Bird/a.png', png(3, 2, 1, grey));
    write('images/cat/x.png', png(3, 2, 4, rgba));
    write('images/dog/z.jpg', jpg);
    write('images/dog/.DS_Store', 'ignored');
  });

  it("labels sorted folders, orders files by name, takes the first image's size and channels, converts the rest", () => {
    const d = loadImageFolder({ path: root });
    expect(d.classNames).to.deep.equal(['Bird', 'cat', 'dog']);
    expect(d.shape).to.deep.equal([2, 3, 1]);
    expect(d.numClasses).to.equal(3);
    expect(Array.from(d.labels)).to.deep.equal([0, 0, 1, 2]);
    expect(example(d, 0)).to.deep.equal(grey.map((v) => f32(v / 255)));
    expect(example(d, 1)).to.deep.equal([0, 1, 2, 3, 4, 5].map((p) => luma(rgb[3 * p], rgb[3 * p + 1], rgb[3 * p + 2])));
    expect(example(d, 2)).to.deep.equal([0, 1, 2, 3, 4, 5].map((p) => luma(rgba[4 * p], rgba[4 * p + 1], rgba[4 * p + 2])));
    const decoded = jpeg.decode(jpg, { useTArray: true });
    expect(example(d, 3)).to.deep.equal(
      [0, 1, 2, 3, 4, 5].map((p) => luma(decoded.data[4 * p], decoded.data[4 * p + 1], decoded.data[4 * p + 2])),
    );
  });

  it('converts to the channels of data.imageShape: grey replicated, alpha kept or dropped', () => {
    const d3 = loadImageFolder({ path: root, imageShape: [2, 3, 3] });
    expect(example(d3, 0)).to.deep.equal(grey.flatMap((v) => [v, v, v].map((x) => f32(x / 255))));
    expect(example(d3, 1)).to.deep.equal(rgb.map((v) => f32(v / 255)));
    expect(example(d3, 2)).to.deep.equal(rgba.filter((_, i) => i % 4 !== 3).map((v) => f32(v / 255)));
    const d4 = loadImageFolder({ path: root, imageShape: [2, 3, 4] });
    expect(example(d4, 2)).to.deep.equal(rgba.map((v) => f32(v / 255)));
    expect(example(d4, 0)).to.deep.equal(grey.flatMap((v) => [v, v, v, 255].map((x) => f32(x / 255))));
  });

  it("keeps the file's own channel count: grey+alpha PNG → 2, RGB JPEG → 3, RGBA PNG → 4", () => {
    expect(decodeImage('ga.png', png(1, 1, 2, [10, 20])).channels).to.equal(2);
    expect(decodeImage('c.jpg', jpg).channels).to.equal(3);
    expect(decodeImage('x.png', png(1, 1, 4, [1, 2, 3, 4])).channels).to.equal(4);
    expect(decodeImage('g.png', png(1, 1, 1, [9])).channels).to.equal(1);
  });

  it('decodes files written by another encoder (sharp/libvips): grey JPEG, 16-bit PNG, palette PNG', async () => {
    const sharp = (await import('sharp')).default;
    const greyRaw = Buffer.from([0, 60, 120, 180, 240, 255]);
    const greyJpeg = await sharp(greyRaw, { raw: { width: 3, height: 2, channels: 1 } })
      .toColourspace('b-w')
      .jpeg({ quality: 100 })
      .toBuffer();
    const grey = decodeImage('g.jpg', greyJpeg);
    expect([grey.channels, grey.width, grey.height]).to.deep.equal([1, 3, 2]);
    expect(Array.from(grey.rgba.filter((_, i) => i % 4 === 0))).to.deep.equal(
      Array.from(jpeg.decode(greyJpeg, { useTArray: true }).data.filter((_, i) => i % 4 === 0)),
    );
    const rgbRaw = Buffer.from(Array.from({ length: 18 }, (_, i) => i * 14));
    const deep = await sharp(rgbRaw, { raw: { width: 3, height: 2, channels: 3 } })
      .toColourspace('rgb16')
      .png()
      .toBuffer();
    const deepImage = decodeImage('deep.png', deep);
    // libvips widens an 8-bit v to v·256; all 16 bits are kept, so pixel = v·256 / 65535.
    expect(deepImage.maxValue).to.equal(65535);
    expect(Array.from(toChannels(deepImage, 3))).to.deep.equal(Array.from(rgbRaw, (v) => f32((v * 256) / 65535)));
    const palette = await sharp(rgbRaw, { raw: { width: 3, height: 2, channels: 3 } })
      .png({ palette: true, colours: 8, dither: 0 })
      .toBuffer();
    const decoded = decodeImage('palette.png', palette);
    expect(decoded.channels).to.equal(3);
    const libvips = await sharp(palette).removeAlpha().raw().toBuffer();
    expect(Array.from(decoded.rgba.filter((_, i) => i % 4 !== 3))).to.deep.equal(Array.from(libvips));
  });

  it('resizes every image to data.imageShape with bilinear interpolation (same result as resizing the pixels)', () => {
    const d = loadImageFolder({ path: root, imageShape: [4, 6, 1] });
    expect(d.shape).to.deep.equal([4, 6, 1]);
    expect(example(d, 0)).to.deep.equal(
      Array.from(
        resizeBilinear(
          Float32Array.from(grey, (v) => v / 255),
          [2, 3, 1],
          4,
          6,
        ),
      ),
    );
  });

  it('bilinear resize: enlarging interpolates between centres, shrinking averages with a widened triangle', () => {
    expect(Array.from(resizeBilinear(Float32Array.from([0, 1]), [1, 2, 1], 1, 4))).to.deep.equal([0, 0.25, 0.75, 1]);
    expect(Array.from(resizeBilinear(Float32Array.from([0, 1, 2, 3]), [1, 4, 1], 1, 2))).to.deep.equal([f32(1.25 / 1.75), f32(4 / 1.75)]);
    // Separable: a 2×2 image enlarged to 4×4, two channels.
    const big = resizeBilinear(Float32Array.from([0, 10, 1, 10, 2, 10, 3, 10]), [2, 2, 2], 4, 4);
    expect(big[0]).to.equal(0);
    // Output (1, 1): row weights 0.75/0.25, column weights 0.75/0.25 over [[0, 1], [2, 3]].
    expect(big[(1 * 4 + 1) * 2]).to.equal(0.75 * 0.25 * 1 + 0.25 * 0.75 * 2 + 0.25 * 0.25 * 3);
    expect(Array.from(big.filter((_, i) => i % 2 === 1))).to.deep.equal(new Array(16).fill(10));
  });

  it('refuses missing folders, empty classes, stray files, corrupt and truncated images, and mixed sizes without a shape', () => {
    const missing = path.join(tmp, 'no-such-folder');
    expect(() => loadImageFolder({ path: missing })).to.throw(DataError, `${missing}: image folder not found`);
    fs.mkdirSync(path.join(tmp, 'flat'));
    write('flat/readme.txt', 'x');
    expect(() => loadImageFolder({ path: path.join(tmp, 'flat') })).to.throw(DataError, 'no class sub-folders');
    fs.mkdirSync(path.join(tmp, 'empty/a'), { recursive: true });
    write('empty/b/1.png', png(1, 1, 1, [0]));
    expect(() => loadImageFolder({ path: path.join(tmp, 'empty') })).to.throw(
      DataError,
      `${path.join(tmp, 'empty/a')}: empty class folder`,
    );
    const corrupt = png(3, 2, 3, rgb);
    corrupt.fill(7, 40);
    const corruptFile = write('corrupt/a/1.png', corrupt);
    expect(() => loadImageFolder({ path: path.join(tmp, 'corrupt') })).to.throw(DataError, `${corruptFile}: corrupt PNG`);
    const cut = write('cut/a/1.jpg', jpg.subarray(0, Math.floor(jpg.length * 0.6)));
    expect(() => loadImageFolder({ path: path.join(tmp, 'cut') })).to.throw(DataError, `${cut}: truncated JPEG (no end-of-image marker)`);
    const text = write('text/a/1.png', 'hello');
    expect(() => loadImageFolder({ path: path.join(tmp, 'text') })).to.throw(DataError, `${text}: not a PNG or JPEG image`);
    const notes = write('notes/a/notes.txt', 'hello');
    write('notes/a/1.png', png(1, 1, 1, [0]));
    expect(() => loadImageFolder({ path: path.join(tmp, 'notes') })).to.throw(DataError, `${notes}: not an image file name`);
    const stray = write('stray/loose.png', png(1, 1, 1, [0]));
    write('stray/a/1.png', png(1, 1, 1, [0]));
    expect(() => loadImageFolder({ path: path.join(tmp, 'stray') })).to.throw(DataError, `${stray}: images must sit in a sub-folder`);
    write('mixed/a/1.png', png(3, 2, 1, grey));
    const other = write('mixed/b/1.png', png(2, 2, 1, [0, 0, 0, 0]));
    const mixed = path.join(tmp, 'mixed');
    expect(() => loadImageFolder({ path: mixed })).to.throw(
      DataError,
      `${other}: image is 2×2 pixels (width×height) but ${path.join(mixed, 'a/1.png')} is 3×2`,
    );
    expect(loadImageFolder({ path: mixed, imageShape: [2, 2, 1] }).labels.length).to.equal(2);
  });

  it('round-trips MNIST digits written as 32×32 RGB PNGs (the CIFAR-shaped image folder of issue 16)', () => {
    const digits = subset(
      loadMnist(),
      Array.from({ length: 20 }, (_, i) => i),
    );
    const dir = writeImageFolder(digits, path.join(tmp, 'mnist-rgb'), { shape: [32, 32, 3] });
    const d = loadImageFolder({ path: dir });
    expect(d.shape).to.deep.equal([32, 32, 3]);
    expect(d.classNames).to.deep.equal(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    // Loaded class by class; within a class in the written order.
    const order = Array.from({ length: 20 }, (_, i) => i).sort((a, b) => digits.labels[a] - digits.labels[b] || a - b);
    expect(Array.from(d.labels)).to.deep.equal(order.map((i) => digits.labels[i]));
    order.forEach((i, j) => {
      const big = resizeBilinear(digits.images.subarray(i * 784, (i + 1) * 784), [28, 28, 1], 32, 32);
      const expected = Array.from(big).flatMap((v) => {
        const q = f32(Math.round(Math.min(1, Math.max(0, v)) * 255) / 255);
        return [q, q, q];
      });
      expect(example(d, j)).to.deep.equal(expected);
    });
  });

  it('subset keeps the class names', () => {
    const d = loadImageFolder({ path: root });
    expect(subset(d, [3, 0]).classNames).to.deep.equal(['Bird', 'cat', 'dog']);
  });
});

describe('data loaders: CSV', () => {
  const text =
    '\ufeffage,colour,height,species\r\n' +
    '30,red,1.5,setosa\r\n' +
    '40,"blue",2.5,versicolor\r\n' +
    '\r\n' +
    '50,red,3.5,"set""osa, x"\r\n';

  it('parses quotes, escaped quotes, commas and line breaks inside quotes, CRLF, BOM, and keeps line numbers', () => {
    const records = parseCsv('t.csv', 'a,"b, c"\r\n"multi\nline","say ""hi"""\n\nx,\n');
    expect(records).to.deep.equal([
      { line: 1, fields: ['a', 'b, c'] },
      { line: 2, fields: ['multi\nline', 'say "hi"'] },
      { line: 5, fields: ['x', ''] },
    ]);
    expect(() => parseCsv('q.csv', 'a,b\n1,"open\n2,3\n')).to.throw(DataError, 'q.csv: line 2: a quoted field is never closed');
    expect(() => parseCsv('q.csv', 'a,b\n"1"x,2\n')).to.throw(DataError, 'q.csv: line 2: unexpected text after a closing quote');
  });

  it('one-hot encodes categoricals in sorted order, standardises numeric columns and records it, names the classes', () => {
    const file = write('table.csv', text);
    const d = loadCsv({ path: file, label: 'species', categorical: ['colour'] });
    expect(d.shape).to.deep.equal([1, 4, 1]);
    expect(d.classNames).to.deep.equal(['set"osa, x', 'setosa', 'versicolor']);
    expect(Array.from(d.labels)).to.deep.equal([1, 2, 0]);
    const ageStd = Math.sqrt(200 / 3);
    const heightStd = Math.sqrt(2 / 3);
    expect(d.preprocessing).to.deep.equal({
      features: ['age', 'colour=blue', 'colour=red', 'height'],
      standardized: [
        { feature: 'age', mean: 40, std: ageStd },
        { feature: 'height', mean: 2.5, std: heightStd },
      ],
    });
    expect(Array.from(d.images)).to.deep.equal(
      [
        [-10 / ageStd, 0, 1, -1 / heightStd],
        [0, 1, 0, 0],
        [10 / ageStd, 0, 1, 1 / heightStd],
      ]
        .flat()
        .map(f32),
    );
  });

  it('takes features in the given order, keeps raw values without standardisation, sorts numeric labels as numbers', () => {
    const file = write('numeric.csv', 'y,a,b\n10,1,2\n2,3,4\n1,5,6\n');
    const d = loadCsv({ path: file, label: 'y', features: ['b', 'a'], standardize: false });
    expect(Array.from(d.images)).to.deep.equal([2, 1, 4, 3, 6, 5]);
    expect(d.classNames).to.deep.equal(['1', '2', '10']);
    expect(Array.from(d.labels)).to.deep.equal([2, 1, 0]);
    expect(d.preprocessing).to.deep.equal({ features: ['b', 'a'], standardized: [] });
  });

  it('reads other delimiters (tab-separated, semicolons) with the same quoting rules', () => {
    const tsv = write('t.tsv', 'y\tname\tv\n1\t"a\tb"\t2.5\n0\tc\t3.5\n');
    const d = loadCsv({ path: tsv, label: 'y', categorical: ['name'], delimiter: '\t', standardize: false });
    expect(d.preprocessing?.features).to.deep.equal(['name=a\tb', 'name=c', 'v']);
    expect(Array.from(d.images)).to.deep.equal([1, 0, 2.5, 0, 1, 3.5]);
    expect(parseCsv('s.csv', 'a;"b;c"\n', ';')).to.deep.equal([{ line: 1, fields: ['a', 'b;c'] }]);
  });

  it('refuses ragged rows, non-numbers, unknown columns, a missing file and a header without rows, naming line and column', () => {
    const file = path.join(tmp, 'table.csv');
    const ragged = write('ragged.csv', 'a,b,y\n1,"two\nlines",0\n3,4\n');
    expect(() => loadCsv({ path: ragged, label: 'y' })).to.throw(DataError, `${ragged}: line 4: 2 fields, but the header has 3 columns`);
    expect(() => loadCsv({ path: file, label: 'species' })).to.throw(
      DataError,
      `${file}: line 2, column "colour" (2): "red" is not a number`,
    );
    const blank = write('blank.csv', 'a,y\n1,0\n ,1\n');
    expect(() => loadCsv({ path: blank, label: 'y' })).to.throw(
      DataError,
      `${blank}: line 3, column "a" (1): an empty value is not a number`,
    );
    expect(() => loadCsv({ path: file, label: 'kind' })).to.throw(
      DataError,
      `${file}: unknown label column "kind"; the header has: age, colour, height, species`,
    );
    expect(() => loadCsv({ path: file, label: 'species', features: ['age', 'weight'] })).to.throw(
      DataError,
      'unknown feature column "weight"',
    );
    expect(() => loadCsv({ path: file, label: 'species', features: ['age'], categorical: ['colour'] })).to.throw(
      DataError,
      'categorical column "colour" is not among',
    );
    const ids = write('ids.csv', 'id,y\n' + Array.from({ length: 1001 }, (_, i) => `u${i},0`).join('\n'));
    expect(() => loadCsv({ path: ids, label: 'y', categorical: ['id'] })).to.throw(
      DataError,
      `${ids}: categorical column "id" has 1001 distinct values; at most 1000`,
    );
    const missing = path.join(tmp, 'nope.csv');
    expect(() => loadCsv({ path: missing, label: 'y' })).to.throw(DataError, `${missing}: file not found`);
    const headerOnly = write('header.csv', 'a,y\r\n');
    expect(() => loadCsv({ path: headerOnly, label: 'y' })).to.throw(DataError, `${headerOnly}: has a header but no data rows`);
  });
});

describe('data loaders: IDX with channels and many classes', () => {
  function dataset(shape: [number, number, number], labels: number[]): Dataset {
    const size = shape[0] * shape[1] * shape[2];
    const images = Float32Array.from({ length: labels.length * size }, (_, i) => ((i * 7) % 256) / 255);
    return { name: 'src', shape, numClasses: 0, images, labels: Int32Array.from(labels) };
  }

  it('reads 4-dimensional (channels-last) images and the configured class count', () => {
    const src = dataset([2, 3, 3], [0, 11, 5]);
    const { images, labels } = encodeIdx(src);
    expect(images.readUInt32BE(0)).to.equal(0x804);
    const d = loadIdxDataset({ images: write('rgb-images.idx', images), labels: write('rgb-labels.idx', labels), classes: 12 });
    expect(d.shape).to.deep.equal([2, 3, 3]);
    expect(d.numClasses).to.equal(12);
    expect(Array.from(d.labels)).to.deep.equal([0, 11, 5]);
    expect(Array.from(d.images)).to.deep.equal(Array.from(src.images));
  });

  it('reads int32 labels for more than 256 classes', () => {
    const src = dataset([1, 2, 1], [299, 3]);
    const { images, labels } = encodeIdx(src);
    expect(labels.readUInt32BE(0)).to.equal(0xc01);
    const d = loadIdxDataset({ images: write('wide-images.idx', images), labels: write('wide-labels.idx', labels), classes: 300 });
    expect(Array.from(d.labels)).to.deep.equal([299, 3]);
  });

  it('names the file and the fault: class count, value type, magic and size mismatches', () => {
    const { images, labels } = encodeIdx(dataset([2, 2, 3], [0, 11]));
    const img = write('e-images.idx', images);
    const lab = write('e-labels.idx', labels);
    expect(() => loadIdxDataset({ images: img, labels: lab })).to.throw(
      DataError,
      `${lab}: label 11 of example 1 is out of range 0–9 (set data.classes`,
    );
    const floats = Buffer.from(images);
    floats.writeUInt32BE(0x0d04, 0);
    const fl = write('float-images.idx', floats);
    expect(() => loadIdxDataset({ images: fl, labels: lab, classes: 12 })).to.throw(
      DataError,
      `${fl}: IDX images of type float32 (magic 0x00000d04) are not supported`,
    );
    expect(() => loadIdxDataset({ images: lab, labels: lab, classes: 12 })).to.throw(
      DataError,
      `${lab}: wrong magic number 0x00000801 for an IDX images file`,
    );
    const short = write('short-images.idx', images.subarray(0, images.length - 1));
    expect(() => loadIdxDataset({ images: short, labels: lab, classes: 12 })).to.throw(
      DataError,
      `${short}: truncated IDX images file: expected ${images.length} bytes, got ${images.length - 1}`,
    );
  });
});

describe('data loaders: CIFAR-100 binary', () => {
  const shape: [number, number, number] = [32, 32, 3];
  const images = Float32Array.from({ length: 3 * 3072 }, (_, i) => ((i * 31) % 256) / 255);
  const bytes = encodeCifar100({ shape, images }, [19, 0, 7], [99, 4, 35]);

  it('reads fine or coarse labels, pixels to NHWC, and class names from the names file beside the data', () => {
    const file = write('cifar100/train.bin', bytes);
    const fine = loadCifar100({ files: [file] });
    expect(fine.numClasses).to.equal(100);
    expect(Array.from(fine.labels)).to.deep.equal([99, 4, 35]);
    expect(Array.from(fine.images)).to.deep.equal(Array.from(images));
    expect(fine.classNames).to.equal(undefined);
    write('cifar100/coarse_label_names.txt', Array.from({ length: 20 }, (_, i) => `super${i}`).join('\n') + '\n\n');
    const coarse = loadCifar100({ files: [file, file], label: 'coarse' });
    expect(coarse.numClasses).to.equal(20);
    expect(Array.from(coarse.labels)).to.deep.equal([19, 0, 7, 19, 0, 7]);
    expect(coarse.classNames?.[19]).to.equal('super19');
  });

  it('refuses a file whose length is not a multiple of the record, and a names file of the wrong length', () => {
    const cut = write('cifar100-cut/train.bin', bytes.subarray(0, bytes.length - 5));
    expect(() => loadCifar100({ files: [cut] })).to.throw(
      DataError,
      `${cut}: not a CIFAR-100 binary file: its length ${bytes.length - 5} is not a positive multiple of the ${CIFAR100_RECORD}-byte record (2 whole records and ${CIFAR100_RECORD - 5} bytes left over)`,
    );
    const file = write('cifar100-names/train.bin', bytes);
    const names = write('cifar100-names/fine_label_names.txt', 'apple\nbee\n');
    expect(() => loadCifar100({ files: [file] })).to.throw(DataError, `${names}: has 2 class names; CIFAR-100 has 100 fine classes`);
    const bad = Buffer.from(bytes);
    bad[CIFAR100_RECORD + 1] = 100;
    const badFile = write('cifar100-bad/train.bin', bad);
    expect(() => loadCifar100({ files: [badFile] })).to.throw(DataError, `${badFile}: fine label 100 of record 1 is out of range 0–99`);
  });
});

describe('data: per-channel normalisation', () => {
  const norm = { mean: [0.5, 0.25, 0.125], std: [0.5, 0.2, 0.3] };
  const pixels = Float32Array.from([0, 0.5, 1, 0.1, 0.2, 0.3]);

  it('normalises per channel and denormalises back to pixel space', () => {
    const z = normalizePixels(pixels, 3, norm);
    expect(Array.from(z)).to.deep.equal([
      -1,
      f32(f32(0.5 - 0.25) / f32(0.2)),
      f32(f32(1 - 0.125) / f32(0.3)),
      f32(f32(f32(0.1) - 0.5) / 0.5),
      f32(f32(f32(0.2) - 0.25) / f32(0.2)),
      f32(f32(f32(0.3) - 0.125) / f32(0.3)),
    ]);
    const back = denormalizePixels(z, 3, norm);
    for (let i = 0; i < pixels.length; i++) expect(back[i]).to.be.closeTo(pixels[i], 1e-7);
    expect(Array.from(normalizePixels(pixels, 3, { mean: [0.5], std: [0.5] }))).to.deep.equal(
      Array.from(pixels, (v) => f32(f32(v - 0.5) / 0.5)),
    );
  });

  it('the tensor versions agree bit for bit and pass gradients (d/dx = 1/std)', () => {
    const x = tf.tensor4d(pixels, [1, 1, 2, 3]);
    expect(Array.from(normalizeTensor(x, norm).dataSync())).to.deep.equal(Array.from(normalizePixels(pixels, 3, norm)));
    const z = tf.tensor4d(normalizePixels(pixels, 3, norm), [1, 1, 2, 3]);
    expect(Array.from(denormalizeTensor(z, norm).dataSync())).to.deep.equal(
      Array.from(denormalizePixels(z.dataSync() as Float32Array, 3, norm)),
    );
    const grad = tf.grad((t: tf.Tensor) => normalizeTensor(t as tf.Tensor4D, norm).sum())(x);
    expect(Array.from(grad.dataSync())).to.deep.equal([2, 5, 1 / 0.3, 2, 5, 1 / 0.3].map(f32));
    tf.dispose([x, z, grad]);
  });

  it('refuses a mean or std of the wrong length', () => {
    expect(() => normalizePixels(pixels, 3, { mean: [0.5, 0.5], std: [1] })).to.throw(
      DataError,
      'data.normalize.mean has 2 values; the images have 3 channel(s)',
    );
  });
});
