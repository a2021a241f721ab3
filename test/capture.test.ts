import { expect } from 'chai';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pack } from 'msgpackr';
import { tf } from '../shared/tensor/tf';
import { initBackend } from '../shared/tensor/backend';
import { buildModel, flattenParams, oneHot, unflattenParams } from '../shared/models';
import { attackSchema, modelSchema, type ModelConfig } from '../server/scenario/schema';
import { Rng } from '../shared/random';
import { loadMnist, subset } from '../shared/data';
import { parameterGradients } from '../server/observer/gradient-matching';
import {
  CAPTURE_FORMAT_1,
  captureFileName,
  readCapture,
  writeCapture,
  writeTruth,
  CaptureError,
  type Capture,
} from '../server/capture/capture';
import { definitionFor } from '../shared/models/definition';

const SHAPE: [number, number, number] = [28, 28, 1];
const CLI = path.resolve(__dirname, '..', '..', 'bin', 'fedleak.js');

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'fedleak-capture-'));
}

/** A capture of one client's real fedsgd gradient on a real MNIST digit. */
function realCapture(config: ModelConfig, exampleIndex: number): { capture: Capture; images: Float32Array; labels: number[] } {
  const model = buildModel(config, SHAPE, 10);
  const globalParams = model.initParams(new Rng(11));
  const batch = subset(loadMnist(), [exampleIndex]);
  const labels = Array.from(batch.labels);
  const params = unflattenParams(globalParams, model.specs);
  const update = tf.tidy(() =>
    flattenParams(parameterGradients(model, params, tf.tensor4d(batch.images, [1, ...SHAPE]), oneHot(labels, 10)), model.specs),
  );
  tf.dispose(params);
  const capture: Capture = {
    observed: { round: 1, sender: 'c3', kind: 'gradient', numExamples: 1, update, view: 'plain', bytes: 4 * update.length + 40 },
    payload: {
      round: 1,
      model: definitionFor(config, SHAPE, 10),
      params: globalParams,
      training: { algorithm: 'fedsgd', batchSize: 1, localSteps: 1, learningRate: 0.1, localEpochs: 0 },
    },
    attack: attackSchema.parse({ name: 'idlg', iterations: 5 }),
    seed: 7,
  };
  return { capture, images: batch.images, labels };
}

function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, FEDLEAK_QUIET_BACKEND: '1' } }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

function expectCaptureError(file: string, pattern: RegExp): void {
  let error: unknown = null;
  try {
    readCapture(file);
  } catch (err) {
    error = err;
  }
  expect(error).to.be.instanceOf(CaptureError);
  expect((error as Error).name).to.equal('CaptureError');
  expect((error as Error).message).to.match(pattern);
}

describe('captures', () => {
  const mlp = modelSchema.parse({ name: 'mlp', hidden: [32], activation: 'relu' });
  let dir: string;
  before(async () => {
    await initBackend({ quiet: true });
    dir = tempDir();
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('round-trips every field and both float32 vectors bit for bit', () => {
    const { capture } = realCapture(mlp, 0);
    const file = path.join(dir, 'sub', captureFileName(1, 'c3'));
    writeCapture(file, capture);
    const back = readCapture(file);
    expect(Buffer.from(back.observed.update.buffer).equals(Buffer.from(capture.observed.update.buffer))).to.equal(true);
    expect(Buffer.from(back.payload.params.buffer).equals(Buffer.from(capture.payload.params.buffer))).to.equal(true);
    const strip = (c: Capture) => ({ ...c, observed: { ...c.observed, update: null }, payload: { ...c.payload, params: null } });
    expect(strip(back)).to.deep.equal(strip(capture));
    expect(path.basename(file)).to.equal('round-1-client-c3.msgpack');
  });

  it('rejects a truncated file, a foreign format, bad fields and wrong lengths with CaptureError', () => {
    const { capture } = realCapture(mlp, 1);
    const good = path.join(dir, 'good.msgpack');
    writeCapture(good, capture);
    const bytes = fs.readFileSync(good);
    const truncated = path.join(dir, 'truncated.msgpack');
    fs.writeFileSync(truncated, bytes.subarray(0, bytes.length - 100));
    expectCaptureError(truncated, /truncated or not msgpack/);

    const foreign = path.join(dir, 'foreign.msgpack');
    fs.writeFileSync(foreign, pack({ format: 'fedleak-capture/9', round: 1 }));
    expectCaptureError(foreign, /format "fedleak-capture\/9"; this fedleak reads fedleak-capture\/2 and fedleak-capture\/1/);

    const noFormat = path.join(dir, 'noformat.msgpack');
    fs.writeFileSync(noFormat, pack([1, 2, 3]));
    expectCaptureError(noFormat, /not a fedleak capture/);

    const bin = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    const onDisk = (observed: Record<string, unknown>, payload: Record<string, unknown> = {}) =>
      pack({
        format: 'fedleak-capture/2',
        observed: { ...capture.observed, update: bin(capture.observed.update), ...observed },
        payload: { ...capture.payload, params: bin(capture.payload.params), ...payload },
        attack: capture.attack,
        seed: capture.seed,
      });
    const short = path.join(dir, 'short.msgpack');
    fs.writeFileSync(short, onDisk({ update: bin(capture.observed.update.subarray(0, 10)) }));
    expectCaptureError(short, /observed\.update has 10 values, but the model \(28×28×1 → 10 classes\) has \d+ parameters/);

    const odd = path.join(dir, 'odd.msgpack');
    fs.writeFileSync(odd, onDisk({ update: Buffer.alloc(7) }));
    expectCaptureError(odd, /observed\.update has 7 bytes, not a whole number of float32 values/);

    const badField = path.join(dir, 'badfield.msgpack');
    fs.writeFileSync(badField, onDisk({ round: 0 }));
    expectCaptureError(badField, /invalid fields: observed\.round/);

    expectCaptureError(path.join(dir, 'missing.msgpack'), /no capture file/);
    const cut = { ...capture, observed: { ...capture.observed, update: capture.observed.update.subarray(0, 5) } };
    expect(() => writeCapture(path.join(dir, 'w.msgpack'), cut)).to.throw(CaptureError, /observed\.update has 5 values/);
  });

  it('still reads fedleak-capture/1 files, as the same two records', () => {
    const { capture } = realCapture(mlp, 4);
    const bin = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    const v1 = {
      format: CAPTURE_FORMAT_1,
      round: 1,
      clientId: 'c3',
      view: 'plain',
      updateKind: 'gradient',
      numExamples: 1,
      training: capture.payload.training,
      model: { config: mlp, inputShape: SHAPE, numClasses: 10 },
      attack: capture.attack,
      seed: 7,
      globalParams: bin(capture.payload.params),
      update: bin(capture.observed.update),
    };
    const file = path.join(dir, 'v1.msgpack');
    fs.writeFileSync(file, pack(v1));
    const back = readCapture(file);
    expect(back.observed).to.deep.include({ round: 1, sender: 'c3', kind: 'gradient', numExamples: 1, view: 'plain' });
    expect(back.payload.model).to.deep.equal(capture.payload.model);
    expect(back.payload.training).to.deep.equal(capture.payload.training);
    expect(Buffer.from(back.observed.update.buffer).equals(bin(capture.observed.update))).to.equal(true);
    expect(Buffer.from(back.payload.params.buffer).equals(bin(capture.payload.params))).to.equal(true);
  });

  it('fedleak attack --capture re-attacks offline (analytic) and scores against a truth file', async () => {
    const { capture, images, labels } = realCapture(mlp, 2);
    const file = path.join(dir, 'cli.msgpack');
    const truth = path.join(dir, 'cli.truth.msgpack');
    writeCapture(file, capture);
    writeTruth(truth, { images, labels, count: 1 });
    const out = path.join(dir, 'out');
    const res = await runCli(['attack', '--capture', file, '--attack', 'analytic', '--truth', truth, '--out', out, '-q']);
    expect(res.stderr).to.equal('');
    expect(res.code).to.equal(0);
    expect(res.stdout).to.match(/attack: analytic/);
    const record = JSON.parse(fs.readFileSync(path.join(out, 'attack.json'), 'utf8')) as {
      format: string;
      labels: number[];
      score: { psnr: number; labelAccuracy: number; perImage: { original: number; psnr: number }[] };
    };
    expect(record.format).to.equal('fedleak-attack/1');
    expect(record.score.psnr).to.be.at.least(60);
    expect(record.score.labelAccuracy).to.equal(1);
    expect(record.score.perImage.map((p) => p.original)).to.deep.equal([0]);
    expect(record.score.perImage[0].psnr).to.equal(record.score.psnr);
    expect(record.labels).to.deep.equal(labels);
    const png = fs.readFileSync(path.join(out, 'reconstruction.png'));
    expect(png.subarray(1, 4).toString()).to.equal('PNG');
  });

  it('fedleak attack reports a bad capture or a non-attack override in one line, without a stack', async () => {
    const junk = path.join(dir, 'junk.msgpack');
    fs.writeFileSync(junk, 'not msgpack at all');
    const bad = await runCli(['attack', '--capture', junk]);
    expect(bad.code).to.equal(1);
    expect(bad.stderr).to.match(/^fedleak: .*junk\.msgpack/);
    expect(bad.stderr).not.to.match(/\n\s+at /);

    const { capture } = realCapture(mlp, 3);
    const file = path.join(dir, 'override.msgpack');
    writeCapture(file, capture);
    const res = await runCli(['attack', '--capture', file, '--set', 'federation.rounds=3']);
    expect(res.code).to.equal(1);
    expect(res.stderr).to.match(/only attack\.\* fields can change offline/);
  });
});
