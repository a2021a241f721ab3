/**
 * `fedleak inspect-model` and `fedleak export-model` as real processes (the built CLI): which attacks
 * apply to each built-in and to models saved in-test with @tensorflow/tfjs; exported folders loaded
 * back by tfjs's own `loadLayersModel` (files read from disk, no tfjs-node) predict fedleak's logits
 * within 1e-5, and fedleak's importer reads back the exact parameters; bad input exits non-zero with
 * one clear line.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { saveLayersModel } from './fixtures/tfjs-save';
import { tf, type Tensor4D } from '../shared/tensor/tf';
import { initBackend } from '../shared/tensor/backend';
import { definitionFor, INFERENCE_FORWARD, modelFromDefinition, unflattenParams, type ModelDefinition } from '../shared/models';
import { modelSchema } from '../shared/models/schema';
import { importTfjsLayersModel } from '../shared/models/import/tfjs-layers';
import { Rng } from '../shared/random';
import { attackNames } from '../server/observer/attacks';
import type { InspectReport } from '../bin/cli/inspect-model';
import { builtinModelEntries } from '../bin/cli/model-source';

const ROOT = path.resolve(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'fedleak.js');

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

function fedleak(args: string[]): Promise<Finished> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

async function inspect(args: string[]): Promise<InspectReport> {
  const r = await fedleak(['inspect-model', ...args, '--json']);
  expect(r.stderr, r.stderr).to.equal('');
  expect(r.code).to.equal(0);
  return JSON.parse(r.stdout) as InspectReport;
}

function byAttack(report: InspectReport): Map<string, InspectReport['applicability']['attacks'][number]> {
  return new Map(report.applicability.attacks.map((a) => [a.attack, a]));
}

/** model.json + one shard in `dir` (created when missing). */
async function saveToFolder(model: tf.LayersModel, dir: string): Promise<string> {
  fs.mkdirSync(dir, { recursive: true });
  return saveLayersModel(model, dir);
}

/** tfjs's own loader on a folder, through a handler that reads the files with Node's fs. */
function loadWithTfjs(dir: string): Promise<tf.LayersModel> {
  return tf.loadLayersModel({
    load: async () => {
      const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8')) as {
        modelTopology: object;
        format: string;
        weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
      };
      const shards = json.weightsManifest.flatMap((g) => g.paths.map((p) => fs.readFileSync(path.join(dir, p))));
      const bytes = new Uint8Array(Buffer.concat(shards));
      return {
        modelTopology: json.modelTopology,
        format: json.format,
        weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
        weightData: bytes.buffer,
      };
    },
  });
}

/** The largest |fedleak logits − tfjs predict| on random images. */
function maxPredictGap(keras: tf.LayersModel, def: ModelDefinition, params: Float32Array, seed: number): number {
  const model = modelFromDefinition(def);
  const [h, w, c] = def.inputShape;
  return tf.tidy(() => {
    const x = tf.randomUniform([3, h, w, c], 0, 1, 'float32', seed) as Tensor4D;
    // predict is inference: batch norm on its moving statistics.
    const ours = model.apply(unflattenParams(params, model.specs), x, INFERENCE_FORWARD);
    const theirs = keras.predict(x) as tf.Tensor;
    expect(theirs.shape).to.deep.equal(ours.shape);
    return tf.max(tf.abs(tf.sub(ours, theirs))).dataSync()[0];
  });
}

describe('fedleak inspect-model', function () {
  this.timeout(120000);
  let dir = '';
  before(async () => {
    await initBackend({ quiet: true });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedleak-inspect-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('lists every registered attack for each built-in; analytic-style readouts apply to mlp only, with the reason', async () => {
    const dense = ['analytic', 'trap-weights', 'cocktail-party'];
    for (const name of ['lenet-zhu', 'mlp', 'convnet']) {
      const report = await inspect([name]);
      const attacks = byAttack(report);
      expect([...attacks.keys()]).to.deep.equal(attackNames());
      for (const gradientMatching of ['dlg', 'idlg', 'inverting-gradients', 'imprint'])
        expect(attacks.get(gradientMatching)?.applies).to.equal(true);
      for (const a of dense) {
        const entry = attacks.get(a);
        expect(entry?.applies, `${a} on ${name}`).to.equal(name === 'mlp');
        if (name === 'mlp') expect(entry?.problem).to.equal(null);
        else expect(entry?.problem).to.match(new RegExp(`model "${name}" has no dense first layer with bias`));
      }
      expect(report.applicability.traits.logitDense).to.equal(name === 'lenet-zhu' ? 'fc' : 'dense2');
      expect(report.applicability.traits.firstDenseWithBias).to.equal(name === 'mlp' ? 'dense1' : null);
    }
  });

  it('gives each attack its declared capabilities and the weakest threat model granting them', async () => {
    const attacks = byAttack(await inspect(['mlp']));
    expect(attacks.get('dlg')).to.include({ weakestThreatModel: 'C' });
    expect(attacks.get('dlg')?.requires).to.deep.equal(['updates', 'architecture', 'hyperparameters']);
    expect(attacks.get('analytic')).to.include({ weakestThreatModel: 'B' });
    expect(attacks.get('trap-weights')?.threatModels).to.deep.equal(['F', 'G', 'H']);
    expect(attacks.get('imprint')).to.include({ weakestThreatModel: 'G' });
  });

  it('lenet-zhu: its layers, output shapes and parameter counts; --shape/--classes/--set change the task', async () => {
    const report = await inspect(['lenet-zhu']);
    expect(report.model.layers.map((l) => [l.name, l.op, l.outputShape.join('x'), l.params])).to.deep.equal([
      ['conv1', 'conv2d', '14x14x12', 312],
      ['conv2', 'conv2d', '7x7x12', 3612],
      ['conv3', 'conv2d', '7x7x12', 3612],
      ['flatten', 'flatten', '588', 0],
      ['fc', 'dense', '10', 5890],
    ]);
    expect(report.model.totalParams).to.equal(13426);
    const mlp = await inspect(['mlp', '--shape', '32,32,3', '--classes', '4', '--set', 'model.hidden=[16,8]']);
    expect(mlp.model.inputShape).to.deep.equal([32, 32, 3]);
    expect(mlp.model.numClasses).to.equal(4);
    expect(mlp.model.totalParams).to.equal(3072 * 16 + 16 + 16 * 8 + 8 + 8 * 4 + 4);
  });

  it('prints a human report: the layer table, properties and why an attack does not apply', async () => {
    const r = await fedleak(['inspect-model', 'convnet']);
    expect(r.code).to.equal(0);
    expect(r.stdout).to.match(/^model convnet: built-in, settings \{"name":"convnet","channels":\[16,32\]/);
    expect(r.stdout).to.match(/input 28×28×1, 10 classes, 320,610 parameters in 8 tensors/);
    expect(r.stdout).to.match(/ {2}conv1 +conv2d +input +28×28×16 +160\n/);
    expect(r.stdout).to.match(
      / {2}analytic +does not apply +needs updates, architecture; weakest threat model B\n +why not: model "convnet" has no dense/,
    );
    expect(r.stdout).to.match(/ {2}dlg +applies +needs updates, architecture, hyperparameters; weakest threat model C\n/);
  });

  it('an imported tfjs model: a biased dense first layer and a softmax output (removed) → analytic applies', async () => {
    const keras = tf.sequential({
      layers: [
        tf.layers.flatten({ inputShape: [5, 4, 1] }),
        tf.layers.dense({ units: 6, activation: 'relu' }),
        tf.layers.dense({ units: 3, activation: 'softmax' }),
      ],
    });
    const file = await saveToFolder(keras, path.join(dir, 'dense-softmax'));
    const report = await inspect([file]);
    expect(report.droppedSoftmax).to.equal(true);
    expect(report.model.inputShape).to.deep.equal([5, 4, 1]);
    expect(report.model.numClasses).to.equal(3);
    expect(report.model.totalParams).to.equal(20 * 6 + 6 + 6 * 3 + 3);
    const attacks = byAttack(report);
    for (const a of attackNames()) expect(attacks.get(a)?.applies, a).to.equal(true);
  });

  it('an imported tfjs model without a dense logit layer: only dlg (which optimises the label) applies', async () => {
    const input = tf.input({ shape: [6, 6, 2] });
    const conv = tf.layers.conv2d({ filters: 3, kernelSize: 3, activation: 'relu' }).apply(input) as tf.SymbolicTensor;
    const flat = tf.layers.flatten().apply(conv) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 4, useBias: false }).apply(flat) as tf.SymbolicTensor;
    const file = await saveToFolder(tf.model({ inputs: input, outputs: out }), path.join(dir, 'no-logit'));
    const report = await inspect([path.dirname(file)]);
    expect(report.applicability.traits.logitDense).to.equal(null);
    const attacks = byAttack(report);
    expect(attacks.get('dlg')?.applies).to.equal(true);
    expect(attacks.get('idlg')?.problem).to.match(
      /does not end in a dense layer with bias and linear activation, and idlg reads the labels/,
    );
    expect(attacks.get('inverting-gradients')?.applies).to.equal(false);
    expect(attacks.get('imprint')?.applies).to.equal(false);
    expect(attacks.get('analytic')?.problem).to.match(/no dense first layer with bias/);
    expect(report.applicability.notes.join('\n')).to.match(/no dense logit layer/);
  });

  it('--plugin: a plug-in attack is judged by its own requires and modelProblem', async () => {
    const file = path.join(dir, 'conv-only.js');
    fs.writeFileSync(
      file,
      `exports.attack = {
        name: 'conv-only',
        run: async () => { throw new Error('not run here'); },
        requires: () => ['updates', 'architecture', 'batchnorm-statistics'],
        modelProblem: (model) => (model.firstDenseLayer ? 'wants a conv first layer, "' + model.name + '" starts dense' : null),
      };\n`,
    );
    const mlp = byAttack(await inspect(['mlp', '--plugin', file])).get('conv-only');
    expect(mlp).to.deep.include({ applies: false, problem: 'wants a conv first layer, "mlp" starts dense', weakestThreatModel: 'E' });
    expect(mlp?.requires).to.deep.equal(['updates', 'architecture', 'batchnorm-statistics']);
    expect(byAttack(await inspect(['lenet-zhu', '--plugin', file])).get('conv-only')?.applies).to.equal(true);
    fs.writeFileSync(file, "exports.attack = { name: 'bad', run: async () => null, requires: ['updates'] };\n");
    const bad = await fedleak(['inspect-model', 'mlp', '--plugin', file]);
    expect(bad.code).to.equal(1);
    expect(bad.stderr).to.match(/--plugin .*conv-only\.js: attack plug-in .*: attack\.requires must be a function/);
  });

  it('bad input: a missing file, an unknown model, a bad --shape, a bad --set → one clear line, exit 1', async () => {
    const cases: [string[], RegExp][] = [
      [
        ['inspect-model', path.join(dir, 'nowhere', 'model.json')],
        /nowhere[\\/]model\.json: no such file \(expected a tfjs model\.json or its folder\)/,
      ],
      [['inspect-model', dir], /model\.json: cannot read \(ENOENT\)/],
      [
        ['inspect-model', 'resnet-9000'],
        /no model "resnet-9000": it is neither a file nor a built-in model\. Built-in models: lenet-zhu, mlp, convnet/,
      ],
      [['inspect-model', 'mlp', '--shape', '28,28'], /--shape 28,28: expected height,width,channels as three positive integers/],
      [['inspect-model', 'mlp', '--classes', '1'], /--classes 1: expected an integer from 2 to 100000/],
      [['inspect-model', 'lenet-zhu', '--set', 'model.hidden=[3]'], /model "lenet-zhu": model: unknown field "hidden"/],
      [['inspect-model', 'mlp', '--set', 'federation.rounds=3'], /--set federation\.rounds=3: only model\.\* fields/],
      [['export-model', 'nope', '--out', path.join(dir, 'x')], /no model "nope"/],
      [['export-model', 'mlp', '--out', path.join(dir, 'x'), '--shape', '0,1,1'], /--shape 0,1,1: expected/],
    ];
    fs.writeFileSync(path.join(dir, 'broken.json'), '{"modelTopology": ');
    cases.push([['inspect-model', path.join(dir, 'broken.json')], /broken\.json: not valid JSON/]);
    for (const [args, message] of cases) {
      const r = await fedleak(args);
      expect(r.code, args.join(' ')).to.equal(1);
      expect(r.stderr).to.match(message);
      expect(r.stderr).not.to.match(/internal error|\n\s+at /);
    }
  });
});

describe('fedleak export-model', function () {
  this.timeout(180000);
  let dir = '';
  before(async () => {
    await initBackend({ quiet: true });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedleak-export-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const cases = [
    { name: 'lenet-zhu', args: ['--shape', '32,32,3', '--classes', '5'], model: {}, shape: [32, 32, 3], classes: 5 },
    { name: 'resnet', args: ['--shape', '16,16,3', '--set', 'model.depth=14'], model: { depth: 14 }, shape: [16, 16, 3], classes: 10 },
    { name: 'convnet-ig', args: ['--shape', '32,32,3', '--set', 'model.width=8'], model: { width: 8 }, shape: [32, 32, 3], classes: 10 },
    {
      name: 'mlp',
      args: ['--set', 'model.hidden=[24,12]', '--set', 'model.activation="tanh"'],
      model: { hidden: [24, 12], activation: 'tanh' },
      shape: [28, 28, 1],
      classes: 10,
    },
    {
      name: 'convnet',
      args: ['--set', 'model.channels=[4,6]', '--set', 'model.hidden=[16]'],
      model: { channels: [4, 6], hidden: [16] },
      shape: [28, 28, 1],
      classes: 10,
    },
    {
      name: 'convnet',
      args: ['--set', 'model.pool=false', '--set', 'model.stride=2', '--set', 'model.channels=[3]'],
      model: { pool: false, stride: 2, channels: [3] },
      shape: [28, 28, 1],
      classes: 10,
    },
  ] as const;

  cases.forEach((c, i) => {
    it(`${c.name} ${c.args.join(' ')}: tfjs loadLayersModel predicts fedleak's logits; the importer reads back the same parameters`, async () => {
      const out = path.join(dir, `${c.name}-${i}`);
      const r = await fedleak(['export-model', c.name, '--out', out, '--seed', '5', ...c.args]);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout.trim().split('\n')).to.deep.equal([path.join(out, 'model.json'), path.join(out, 'group1-shard1of1.bin')]);
      const def = definitionFor(modelSchema.parse({ name: c.name, ...c.model }), [...c.shape], c.classes);
      const params = modelFromDefinition(def).initParams(new Rng(5).fork('model-init'));

      const keras = await loadWithTfjs(out);
      expect(maxPredictGap(keras, def, params, 11 + i)).to.be.below(1e-5);
      keras.dispose();

      const back = importTfjsLayersModel(path.join(out, 'model.json'));
      expect(back.droppedSoftmax).to.equal(false);
      expect(back.definition.params).to.deep.equal(def.params);
      expect(back.params.length).to.equal(params.length);
      expect(Buffer.from(back.params.buffer).equals(Buffer.from(params.buffer))).to.equal(true);
    });
  });

  it('every built-in entry of the registry: its exported folder inspects like the built-in (same traits, same attacks apply)', async () => {
    for (const entry of builtinModelEntries()) {
      const task = ['--shape', '32,32,3', '--classes', '4'];
      const out = path.join(dir, `registry-${entry.name}`);
      const r = await fedleak(['export-model', entry.name, '--out', out, ...task]);
      expect(r.code, r.stderr).to.equal(0);
      const builtin = await inspect([entry.name, ...task]);
      const exported = await inspect([out]);
      expect(exported.model.totalParams, entry.name).to.equal(builtin.model.totalParams);
      expect(exported.applicability.traits, entry.name).to.deep.equal(builtin.applicability.traits);
      const applies = (report: InspectReport) => report.applicability.attacks.map((a) => [a.attack, a.applies]);
      expect(applies(exported), entry.name).to.deep.equal(applies(builtin));
    }
  });

  it('refuses to overwrite a model.json unless --force; a model file is not a built-in to export', async () => {
    const out = path.join(dir, 'twice');
    expect((await fedleak(['export-model', 'mlp', '--out', out])).code).to.equal(0);
    const again = await fedleak(['export-model', 'mlp', '--out', out]);
    expect(again.code).to.equal(1);
    expect(again.stderr).to.match(/--out .*twice: already holds a model\.json; choose another folder or pass --force/);
    expect((await fedleak(['export-model', 'mlp', '--out', out, '--force', '--seed', '2'])).code).to.equal(0);
    const file = await fedleak(['export-model', path.join(out, 'model.json'), '--out', path.join(dir, 'other')]);
    expect(file.code).to.equal(1);
    expect(file.stderr).to.match(/export-model writes built-in models/);
  });
});
