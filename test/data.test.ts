import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { Rng } from '../shared/random';
import { scenarioSchema, type DataConfig } from '../server/scenario/schema';
import {
  clientShard,
  DataError,
  encodeCifar10,
  encodeIdx,
  loadCifar10,
  loadDataset,
  loadIdx,
  loadMnist,
  makeSynthetic,
  partition,
  prepareFederatedData,
  splitIndices,
  subset,
  type Dataset,
  type PartitionOptions,
} from '../shared/data';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fedleak-data-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function dataConfig(overrides: Partial<DataConfig> = {}): DataConfig {
  return { ...scenarioSchema.parse({ name: 't' }).data, ...overrides };
}

function write(name: string, bytes: Buffer): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, bytes);
  return file;
}

/** Every example's pixels quantised to bytes, as IDX/CIFAR would store them. */
function quantised(d: Dataset): Dataset {
  return { ...d, images: d.images.map((v) => Math.round(v * 255) / 255) };
}

function classCounts(labels: ArrayLike<number>, indices: number[], numClasses: number): number[] {
  const counts = new Array<number>(numClasses).fill(0);
  for (const i of indices) counts[labels[i]]++;
  return counts;
}

function expectDisjointCover(shards: number[][], n: number): void {
  const all = shards.flat().sort((a, b) => a - b);
  expect(all).to.deep.equal(Array.from({ length: n }, (_, i) => i));
}

describe('data: mnist', () => {
  it('has the 10,000 digits, 28×28×1 in [0, 1], every label 0–9', () => {
    const d = loadMnist();
    expect(d.labels.length).to.equal(10000);
    expect(d.shape).to.deep.equal([28, 28, 1]);
    expect(d.images.length).to.equal(10000 * 784);
    let min = Infinity;
    let max = -Infinity;
    for (const v of d.images) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    expect(min).to.equal(0);
    expect(max).to.equal(1);
    expect(
      classCounts(
        d.labels,
        Array.from({ length: 10000 }, (_, i) => i),
        10,
      ).every((c) => c > 800),
    ).to.equal(true);
    // Real digits: strokes cover roughly a fifth of the pixels, not noise and not blank.
    const ink = d.images.subarray(0, 784).filter((v) => v > 0.5).length;
    expect(ink).to.be.within(40, 300);
  });

  it('is deterministic: the same order as a fresh parse of the package files', () => {
    const d = loadMnist();
    // The first digit of each class in the package's file must appear at positions 0–9 (round-robin order).
    for (let digit = 0; digit < 10; digit++) {
      const raw = JSON.parse(fs.readFileSync(require.resolve(`mnist/src/digits/${digit}.json`), 'utf8')) as { data: number[] };
      expect(d.labels[digit]).to.equal(digit);
      expect(Array.from(d.images.subarray(digit * 784, digit * 784 + 784))).to.deep.equal(
        Array.from(Float32Array.from(raw.data.slice(0, 784))),
      );
    }
  });
});

describe('data: synthetic', () => {
  it('is a function of its seed, and differs under another seed', () => {
    const a = makeSynthetic({ shape: [8, 6, 3], classes: 4, size: 50, seed: 7 });
    const b = makeSynthetic({ shape: [8, 6, 3], classes: 4, size: 50, seed: 7 });
    const c = makeSynthetic({ shape: [8, 6, 3], classes: 4, size: 50, seed: 8 });
    expect(a.images).to.deep.equal(b.images);
    expect(a.images).to.not.deep.equal(c.images);
    expect(a.shape).to.deep.equal([8, 6, 3]);
    expect(a.numClasses).to.equal(4);
    expect(a.images.length).to.equal(50 * 8 * 6 * 3);
    expect(a.images.every((v) => v >= 0 && v <= 1)).to.equal(true);
    expect(new Set(a.labels).size).to.equal(4);
  });

  it('has class-dependent patterns: nearest class mean classifies held-out examples', () => {
    const d = makeSynthetic({ shape: [10, 10, 1], classes: 5, size: 200, seed: 3 });
    const size = 100;
    const means = Array.from({ length: 5 }, () => new Float32Array(size));
    for (let i = 0; i < 100; i++) for (let p = 0; p < size; p++) means[d.labels[i]][p] += d.images[i * size + p] / 20;
    let correct = 0;
    for (let i = 100; i < 200; i++) {
      const dist = means.map((m) => m.reduce((s, v, p) => s + (v - d.images[i * size + p]) ** 2, 0));
      if (dist.indexOf(Math.min(...dist)) === d.labels[i]) correct++;
    }
    expect(correct).to.be.greaterThan(90);
  });
});

describe('data: IDX files', () => {
  const source = makeSynthetic({ shape: [5, 4, 1], classes: 10, size: 23, seed: 1 });
  const { images, labels } = encodeIdx(source);

  it('round-trips images and labels, plain and gzipped', () => {
    const expected = quantised(source);
    for (const [imgName, labName, img, lab] of [
      ['a-images.idx', 'a-labels.idx', images, labels],
      ['b-images.idx.gz', 'b-labels.idx.gz', zlib.gzipSync(images), zlib.gzipSync(labels)],
    ] as const) {
      const d = loadIdx(write(imgName, img), write(labName, lab));
      expect(d.shape).to.deep.equal([5, 4, 1]);
      expect(d.labels).to.deep.equal(source.labels);
      expect(d.images).to.deep.equal(expected.images);
    }
  });

  it('loads through loadDataset with paths relative to the current directory', () => {
    const img = write('c-images.idx', images);
    const lab = write('c-labels.idx', labels);
    const d = loadDataset(
      dataConfig({ dataset: 'idx', images: path.relative(process.cwd(), img), labels: path.relative(process.cwd(), lab) }),
      0,
    );
    expect(d.labels).to.deep.equal(source.labels);
  });

  it('names the file and the problem for bad files', () => {
    const lab = write('ok-labels.idx', labels);
    const img = write('ok-images.idx', images);
    const wrongMagic = Buffer.from(images);
    wrongMagic.writeUInt32BE(0x00000801, 0);
    const wm = write('wm-images.idx', wrongMagic);
    expect(() => loadIdx(wm, lab)).to.throw(DataError, `${wm}: wrong magic number 0x00000801 for an IDX images file (expected 0x00000803)`);
    const tr = write('tr-images.idx', images.subarray(0, images.length - 7));
    expect(() => loadIdx(tr, lab)).to.throw(
      DataError,
      `${tr}: truncated IDX images file: expected ${images.length} bytes, got ${images.length - 7}`,
    );
    const trl = write('tr-labels.idx', labels.subarray(0, 5));
    expect(() => loadIdx(img, trl)).to.throw(DataError, `${trl}: truncated IDX labels header: expected 8 bytes, got 5`);
    const badLabel = Buffer.from(labels);
    badLabel[8 + 4] = 12;
    const bl = write('bl-labels.idx', badLabel);
    expect(() => loadIdx(img, bl)).to.throw(DataError, `${bl}: label 12 of example 4 is out of range 0–9`);
    const fewer = encodeIdx(subset(source, [0, 1, 2])).labels;
    const fl = write('few-labels.idx', fewer);
    expect(() => loadIdx(img, fl)).to.throw(DataError, `${fl}: has 3 labels but ${img} has 23 images`);
    const missing = path.join(tmp, 'nope.idx');
    expect(() => loadIdx(missing, lab)).to.throw(DataError, `${missing}: file not found`);
    const notGz = write('not-gzip.idx.gz', images);
    expect(() => loadIdx(notGz, lab)).to.throw(DataError, `${notGz}: cannot gunzip`);
  });

  it('reports a missing idx path in the config', () => {
    expect(() => loadDataset(dataConfig({ dataset: 'idx' }), 0)).to.throw(DataError, /data\.images and data\.labels/);
  });
});

describe('data: CIFAR-10 binary batches', () => {
  const a = makeSynthetic({ shape: [32, 32, 3], classes: 10, size: 4, seed: 1 });
  const b = makeSynthetic({ shape: [32, 32, 3], classes: 10, size: 3, seed: 2 });

  it('round-trips and concatenates files in order, channel planes → NHWC', () => {
    const fa = write('data_batch_1.bin', encodeCifar10(a));
    const fb = write('data_batch_2.bin', encodeCifar10(b));
    const d = loadCifar10([fa, fb]);
    expect(d.shape).to.deep.equal([32, 32, 3]);
    expect(Array.from(d.labels)).to.deep.equal([...a.labels, ...b.labels]);
    expect(d.images.subarray(0, a.images.length)).to.deep.equal(quantised(a).images);
    expect(d.images.subarray(a.images.length)).to.deep.equal(quantised(b).images);
  });

  it('reads the documented byte layout: label, then the R, G, B planes', () => {
    const record = Buffer.alloc(3073);
    record[0] = 7;
    record[1 + 5] = 255; // red of pixel 5 (row 0, col 5)
    record[1 + 1024 + 32] = 51; // green of pixel 32 (row 1, col 0)
    record[1 + 2048 + 1023] = 102; // blue of the last pixel
    const d = loadCifar10([write('one.bin', record)]);
    expect(d.labels[0]).to.equal(7);
    expect(d.images[5 * 3]).to.equal(1);
    expect(d.images[32 * 3 + 1]).to.be.closeTo(0.2, 1e-6);
    expect(d.images[1023 * 3 + 2]).to.be.closeTo(0.4, 1e-6);
    expect(d.images.filter((v) => v !== 0).length).to.equal(3);
  });

  it('names the file for truncated batches and bad labels', () => {
    const bytes = encodeCifar10(a);
    const tr = write('truncated.bin', bytes.subarray(0, bytes.length - 100));
    expect(() => loadCifar10([tr])).to.throw(
      DataError,
      `${tr}: truncated CIFAR-10 batch: records are 3073 bytes, expected ${bytes.length} bytes, got ${bytes.length - 100}`,
    );
    const bad = Buffer.from(bytes);
    bad[3073] = 10;
    const bl = write('badlabel.bin', bad);
    expect(() => loadCifar10([bl])).to.throw(DataError, `${bl}: label 10 of record 1 is out of range 0–9`);
    expect(() => loadDataset(dataConfig({ dataset: 'cifar10' }), 0)).to.throw(DataError, /data\.files/);
  });
});

describe('data: partitioners', () => {
  const labels = loadMnist().labels.subarray(0, 2000);
  const opts = (o: Partial<PartitionOptions>): PartitionOptions => ({ kind: 'iid', clients: 10, numClasses: 10, ...o });

  for (const kind of ['iid', 'dirichlet', 'by-class'] as const) {
    it(`${kind}: disjoint, covering, non-empty, seeded`, () => {
      const shards = partition(labels, opts({ kind, alpha: 0.3, classesPerClient: 2 }), new Rng(1));
      expect(shards).to.have.length(10);
      expectDisjointCover(shards, 2000);
      expect(shards.every((s) => s.length > 0)).to.equal(true);
      expect(partition(labels, opts({ kind, alpha: 0.3, classesPerClient: 2 }), new Rng(1))).to.deep.equal(shards);
      expect(partition(labels, opts({ kind, alpha: 0.3, classesPerClient: 2 }), new Rng(2))).to.not.deep.equal(shards);
    });
  }

  it('iid: sizes differ by at most one', () => {
    const sizes = partition(labels.subarray(0, 1003), opts({ clients: 7 }), new Rng(0)).map((s) => s.length);
    expect(Math.max(...sizes) - Math.min(...sizes)).to.be.at.most(1);
    expect(sizes.reduce((s, n) => s + n, 0)).to.equal(1003);
  });

  it('dirichlet: small α concentrates each client on few classes, large α does not', () => {
    // Mean share of a client's dominant class.
    const dominance = (alpha: number): number => {
      const shards = partition(labels, opts({ kind: 'dirichlet', alpha }), new Rng(5));
      const shares = shards.map((s) => Math.max(...classCounts(labels, s, 10)) / s.length);
      return shares.reduce((a, b) => a + b, 0) / shares.length;
    };
    const skewed = dominance(0.1);
    const even = dominance(100);
    expect(skewed).to.be.greaterThan(0.5);
    expect(even).to.be.lessThan(0.2);
  });

  it('dirichlet: no empty client even with tiny α and many clients', () => {
    const shards = partition(labels.subarray(0, 60), opts({ kind: 'dirichlet', alpha: 0.01, clients: 50 }), new Rng(9));
    expectDisjointCover(shards, 60);
    expect(shards.every((s) => s.length > 0)).to.equal(true);
  });

  it('by-class: exactly k classes per client', () => {
    for (const k of [1, 2, 3, 10]) {
      const shards = partition(labels, opts({ kind: 'by-class', classesPerClient: k, clients: 7 }), new Rng(k));
      const used = shards.flat();
      expect(new Set(used).size).to.equal(used.length);
      // With clients·k ≥ classes every class is held by someone, so every example is used.
      if (k * 7 >= 10) expect(used).to.have.length(2000);
      else expect(new Set(used.map((i) => labels[i])).size).to.equal(k * 7);
      for (const s of shards) expect(classCounts(labels, s, 10).filter((c) => c > 0)).to.have.length(k);
    }
  });

  it('rejects impossible requests with a DataError', () => {
    expect(() => partition(labels.subarray(0, 5), opts({ clients: 6 }), new Rng(0))).to.throw(
      DataError,
      /5 training examples cannot give each of 6 clients/,
    );
    expect(() => partition(labels, opts({ kind: 'by-class', classesPerClient: 11 }), new Rng(0))).to.throw(
      DataError,
      /classesPerClient must be an integer from 1 to 10/,
    );
    expect(() => partition(labels.subarray(0, 20), opts({ kind: 'by-class', classesPerClient: 5, clients: 10 }), new Rng(0))).to.throw(
      DataError,
      /has 2 training examples but 5 clients/,
    );
  });
});

describe('data: split and federated preparation', () => {
  it('splits disjointly with the requested sizes, seeded', () => {
    const s = splitIndices(1000, 0.2, 0, new Rng(1));
    expect(s.test).to.have.length(200);
    expect(s.train).to.have.length(800);
    expectDisjointCover([s.train, s.test], 1000);
    expect(splitIndices(1000, 0.2, 0, new Rng(1))).to.deep.equal(s);
    expect(splitIndices(1000, 0.2, 0, new Rng(2))).to.not.deep.equal(s);
    const limited = splitIndices(1000, 0.25, 40, new Rng(1));
    expect(limited.train).to.have.length(30);
    expect(limited.test).to.have.length(10);
    expect(new Set([...limited.train, ...limited.test]).size).to.equal(40);
    // The limit keeps a prefix of the same shuffle, so a larger limit extends a smaller one.
    const larger = splitIndices(1000, 0.25, 80, new Rng(1));
    const largerSet = new Set([...larger.train, ...larger.test]);
    expect([...limited.train, ...limited.test].every((i) => largerSet.has(i))).to.equal(true);
    expect(() => splitIndices(1000, 1, 0, new Rng(1))).to.throw(DataError, /testFraction/);
    expect(() => splitIndices(1, 0.5, 0, new Rng(1))).to.throw(DataError, /at least 2/);
  });

  it('prepares MNIST: train/test sizes, shards cover train, clientShard rebuilds a shard', () => {
    const config = dataConfig({ limit: 1000, testFraction: 0.1, partition: 'by-class', classesPerClient: 2 });
    const fed = prepareFederatedData(config, 5, 42);
    expect(fed.train.labels.length).to.equal(900);
    expect(fed.test.labels.length).to.equal(100);
    expectDisjointCover(fed.shards, 900);
    const shard = clientShard(config, 5, 3, 42);
    expect(shard.labels).to.deep.equal(subset(fed.train, fed.shards[3]).labels);
    expect(shard.images).to.deep.equal(subset(fed.train, fed.shards[3]).images);
    expect(new Set(shard.labels).size).to.equal(2);
    expect(prepareFederatedData(config, 5, 43).shards).to.not.deep.equal(fed.shards);
    expect(() => clientShard(config, 5, 5, 42)).to.throw(DataError, /client index 5 is out of range 0–4/);
  });

  it('builds synthetic data from the config and seed', () => {
    const config = dataConfig({ dataset: 'synthetic', shape: [6, 6, 2], classes: 3, size: 60 });
    const fed = prepareFederatedData(config, 4, 1);
    expect(fed.train.shape).to.deep.equal([6, 6, 2]);
    expect(fed.train.labels.length + fed.test.labels.length).to.equal(60);
    expect(loadDataset(config, 1).images).to.deep.equal(loadDataset(config, 1).images);
    expect(loadDataset(config, 1).images).to.not.deep.equal(loadDataset(config, 2).images);
  });
});
