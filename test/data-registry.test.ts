import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { encodeCifar100 } from '../shared/data/cifar100';
import { DataError } from '../shared/data/errors';
import { encodeIdx } from '../shared/data/idx';
import { loadDataset, prepareFederatedData } from '../shared/data';
import { writeImageFolder } from '../shared/data/image-folder-write';
import { makeSynthetic } from '../shared/data/synthetic';
import { ScenarioError } from '../shared/scenario/errors';
import { validateScenario } from '../server/scenario/load';
import { dataSchema } from '../server/scenario/schema';
import { runScenario } from '../server/run';
import type { RunResults } from '../server/report/results';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fedleak-registry-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const data = (fields: Record<string, unknown>) => dataSchema.parse(fields);

describe('dataset registry: the new datasets from a scenario data section', () => {
  const folder = writeImageFolder(makeSynthetic({ shape: [6, 6, 3], classes: 3, size: 12, seed: 4 }), path.join(tmp, 'folder'));

  it('image-folder, csv, cifar100 and IDX with classes load through loadDataset', () => {
    const images = loadDataset(data({ dataset: 'image-folder', path: folder, imageShape: [4, 4, 1] }), 0);
    expect(images.shape).to.deep.equal([4, 4, 1]);
    expect(images.classNames).to.deep.equal(['0', '1', '2']);
    const csv = path.join(tmp, 't.csv');
    fs.writeFileSync(csv, 'a;b;y\n1;2;x\n3;4;z\n');
    const table = loadDataset(data({ dataset: 'csv', path: csv, label: 'y', delimiter: ';', standardize: false }), 0);
    expect(Array.from(table.images)).to.deep.equal([1, 2, 3, 4]);
    const cifar = path.join(tmp, 'train.bin');
    fs.writeFileSync(cifar, encodeCifar100({ shape: [32, 32, 3], images: new Float32Array(2 * 3072) }, [3, 4], [50, 60]));
    expect(Array.from(loadDataset(data({ dataset: 'cifar100', files: [cifar], label: 'coarse' }), 0).labels)).to.deep.equal([3, 4]);
    expect(Array.from(loadDataset(data({ dataset: 'cifar100', files: [cifar] }), 0).labels)).to.deep.equal([50, 60]);
    const src = makeSynthetic({ shape: [2, 2, 3], classes: 12, size: 12, seed: 1 });
    const idx = encodeIdx(src);
    fs.writeFileSync(path.join(tmp, 'i.idx'), idx.images);
    fs.writeFileSync(path.join(tmp, 'l.idx'), idx.labels);
    const d = loadDataset(data({ dataset: 'idx', images: path.join(tmp, 'i.idx'), labels: path.join(tmp, 'l.idx'), classes: 12 }), 0);
    expect([d.shape, d.numClasses]).to.deep.equal([[2, 2, 3], 12]);
  });

  it('a scenario names the missing or wrong field of each new dataset', () => {
    const base = { name: 'r', attack: { name: 'none' } };
    expect(() => validateScenario({ ...base, data: { dataset: 'image-folder' } }, 'r.json')).to.throw(
      ScenarioError,
      'data.path: the image folder',
    );
    expect(() => validateScenario({ ...base, data: { dataset: 'csv', path: 'x.csv' } }, 'r.json')).to.throw(
      ScenarioError,
      'data.label: the label column is required',
    );
    expect(() => validateScenario({ ...base, data: { dataset: 'cifar100', files: ['a'], label: 'medium' } }, 'r.json')).to.throw(
      ScenarioError,
      'data.label: "medium" for cifar100; expected "fine" or "coarse"',
    );
    expect(() => validateScenario({ ...base, data: { dataset: 'mnist', location: 'cloud' } }, 'r.json')).to.throw(
      ScenarioError,
      'data.location',
    );
  });

  it('class names survive the split: train and test keep them', () => {
    const { train, test } = prepareFederatedData(data({ dataset: 'image-folder', path: folder }), 2, 1);
    expect(train.classNames).to.deep.equal(['0', '1', '2']);
    expect(test.classNames).to.deep.equal(['0', '1', '2']);
  });

  it('fedleak run trains on an image folder; with data.location "clients" it refuses to start simulated clients', async function () {
    this.timeout(60000);
    const scenario = validateScenario(
      {
        name: 'image-folder-run',
        seed: 3,
        data: { dataset: 'image-folder', path: folder, testFraction: 0.25 },
        model: { name: 'mlp', hidden: [8] },
        federation: { clients: 2, clientsPerRound: 2, rounds: 2, batchSize: 2, clientsPerProcess: 2 },
        attack: { name: 'none' },
      },
      'registry test',
    );
    const outDir = path.join(tmp, 'run');
    const results = await runScenario({ scenario, file: 'registry-test.json', raw: {} }, { outDir, progress: false, log: () => undefined });
    expect(results.rounds.map((r) => r.participants.length)).to.deep.equal([2, 2]);
    const written = JSON.parse(fs.readFileSync(path.join(outDir, 'results.json'), 'utf8')) as RunResults;
    expect(written.rounds).to.have.length(2);
    const clientsHold = { ...scenario, data: { ...scenario.data, location: 'clients' as const } };
    let refusal: unknown;
    await runScenario(
      { scenario: clientsHold, file: 'x.json', raw: {} },
      { outDir: path.join(tmp, 'run2'), progress: false, log: () => undefined },
    ).catch((err: unknown) => {
      refusal = err;
    });
    expect(refusal).to.be.instanceOf(DataError);
    expect((refusal as Error).message).to.include('fedleak client --data PATH');
  });
});
