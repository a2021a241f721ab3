/**
 * tfjs LayersModel import: models built and saved with @tensorflow/tfjs in this process (written as
 * model.json + two weight shards, the layout of tfjs's file:// handler), re-imported from the files
 * with Node's fs; the imported model's logits (softmax-ed when the model ended in softmax) equal
 * model.predict within 1e-5.
 */
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tf, type Tensor4D } from '../shared/tensor/tf';
import { initBackend } from '../shared/tensor/backend';
import { initialParamsFor, modelFromDefinition, unflattenParams } from '../shared/models';
import { modelSchema } from '../shared/models/schema';
import { validateScenario } from '../server/scenario/load';
import { runScenario } from '../server/run';
import { importTfjsLayersModel } from '../shared/models/import/tfjs-layers';

/** Saves like tfjs's file:// handler, with the weights split into two shards. */
async function saveToFolder(model: tf.LayersModel, dir: string): Promise<string> {
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      const data = new Uint8Array(a.weightData as ArrayBuffer);
      const cut = 4 * Math.floor(data.byteLength / 8);
      fs.writeFileSync(path.join(dir, 'group1-shard1of2.bin'), data.subarray(0, cut));
      fs.writeFileSync(path.join(dir, 'group1-shard2of2.bin'), data.subarray(cut));
      const json = {
        modelTopology: a.modelTopology,
        format: 'layers-model',
        generatedBy: 'test',
        convertedBy: null,
        weightsManifest: [{ paths: ['group1-shard1of2.bin', 'group1-shard2of2.bin'], weights: a.weightSpecs }],
      };
      fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return path.join(dir, 'model.json');
}

function sequentialModel(): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [9, 8, 2], filters: 3, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 2, strides: 1 }),
      tf.layers.conv2d({ filters: 4, kernelSize: [2, 1], useBias: false, activation: 'tanh' }),
      tf.layers.averagePooling2d({ poolSize: [1, 2] }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 8, activation: 'sigmoid' }),
      tf.layers.dense({ units: 3, activation: 'softmax' }),
    ],
  });
}

function functionalModel(): tf.LayersModel {
  const input = tf.input({ shape: [6, 6, 2] });
  const conv = tf.layers.conv2d({ filters: 2, kernelSize: 3, padding: 'same', activation: 'elu' }).apply(input) as tf.SymbolicTensor;
  const sum = tf.layers.add().apply([input, conv]) as tf.SymbolicTensor;
  const act = tf.layers.activation({ activation: 'selu' }).apply(sum) as tf.SymbolicTensor;
  const flat = tf.layers.flatten().apply(act) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 4 }).apply(flat) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

function branchingModel(): tf.LayersModel {
  const input = tf.input({ shape: [5, 5, 1] });
  const padded = tf.layers
    .zeroPadding2d({
      padding: [
        [1, 0],
        [0, 2],
      ],
    })
    .apply(input) as tf.SymbolicTensor;
  const a = tf.layers.conv2d({ filters: 2, kernelSize: 2, activation: 'softplus' }).apply(padded) as tf.SymbolicTensor;
  const b = tf.layers.conv2d({ filters: 3, kernelSize: 2, activation: 'swish' }).apply(padded) as tf.SymbolicTensor;
  const cat = tf.layers.concatenate().apply([a, b]) as tf.SymbolicTensor;
  const gap = tf.layers.globalAveragePooling2d({}).apply(cat) as tf.SymbolicTensor;
  const re = tf.layers.reshape({ targetShape: [5] }).apply(gap) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 3, activation: 'softmax' }).apply(re) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

interface DepthwiseVariant {
  padding: 'valid' | 'same';
  strides: number | [number, number];
  depthMultiplier: number;
  useBias: boolean;
}

/** Every combination of valid/same, stride 1/2, multiplier 1/2, with/without bias (plus unequal strides). */
function depthwiseVariants(): DepthwiseVariant[] {
  const out: DepthwiseVariant[] = [];
  for (const padding of ['valid', 'same'] as const)
    for (const strides of [1, 2])
      for (const depthMultiplier of [1, 2]) for (const useBias of [true, false]) out.push({ padding, strides, depthMultiplier, useBias });
  out.push({ padding: 'same', strides: [2, 1], depthMultiplier: 2, useBias: true });
  return out;
}

/**
 * Sequential DepthwiseConv2D → Flatten → Dense on 7×6×3 images; a Conv2D after it on every second
 * variant. All weights random (tfjs initialises biases to zero, which would hide a misplaced bias).
 */
function depthwiseModel(v: DepthwiseVariant, index: number): tf.LayersModel {
  const model = tf.sequential({
    layers: [
      tf.layers.depthwiseConv2d({ inputShape: [7, 6, 3], kernelSize: [3, 2], ...v, activation: index % 2 ? 'relu' : 'tanh' }),
      ...(index % 2 ? [tf.layers.conv2d({ filters: 2, kernelSize: 1 })] : []),
      tf.layers.flatten(),
      tf.layers.dense({ units: 3, activation: 'softmax' }),
    ],
  });
  model.setWeights(model.getWeights().map((w, i) => tf.randomNormal(w.shape, 0, 0.5, 'float32', 100 * index + i)));
  return model;
}

function depthwiseCases(): { label: string; build: () => tf.LayersModel; softmax: boolean }[] {
  return depthwiseVariants().map((v, i) => ({
    label: `DepthwiseConv2D ${v.padding}, strides ${JSON.stringify(v.strides)}, depthMultiplier ${v.depthMultiplier}, ${v.useBias ? 'bias' : 'no bias'}`,
    build: () => depthwiseModel(v, i),
    softmax: true,
  }));
}

describe('tfjs LayersModel import (model.json + weight shards)', function () {
  this.timeout(60000);
  let dir = '';
  before(async () => {
    await initBackend({ quiet: true });
  });
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedleak-tfjs-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const c of [
    {
      label: 'Sequential: Conv2D (same, stride 2; no bias) + MaxPooling2D + AveragePooling2D + Flatten + Dense, softmax output',
      build: sequentialModel,
      softmax: true,
    },
    { label: 'functional: residual Add, Activation, Dense logits', build: functionalModel, softmax: false },
    {
      label: 'functional: ZeroPadding2D, two branches, Concatenate, GlobalAveragePooling2D, Reshape',
      build: branchingModel,
      softmax: true,
    },
    ...depthwiseCases(),
  ]) {
    it(c.label, async () => {
      const keras = c.build();
      const imported = importTfjsLayersModel(await saveToFolder(keras, dir));
      expect(imported.droppedSoftmax).to.equal(c.softmax);
      const model = modelFromDefinition(imported.definition);
      const shape = keras.inputs[0].shape.slice(1) as number[];
      expect(model.inputShape).to.deep.equal(shape);
      const weights = keras.getWeights();
      expect(model.specs.map((s) => s.shape)).to.deep.equal(weights.map((w) => w.shape));
      const x = tf.randomNormal([5, shape[0], shape[1], shape[2]], 0, 1, 'float32', 7) as Tensor4D;
      const params = unflattenParams(imported.params, model.specs);
      const logits = model.apply(params, x);
      const ours = c.softmax ? tf.softmax(logits) : logits;
      const theirs = keras.predict(x) as tf.Tensor;
      const diff = tf.max(tf.abs(tf.sub(ours, theirs))).dataSync()[0];
      expect(diff).to.be.below(1e-5);
      tf.dispose([x, logits, ours, theirs, ...params]);
    });
  }

  it('LeakyReLU (its alpha), ELU and a final Softmax layer: parity with model.predict; ELU with another alpha is refused', async () => {
    const keras = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [5, 5, 2], filters: 3, kernelSize: 3 }),
        tf.layers.leakyReLU({ alpha: 0.2 }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 6 }),
        tf.layers.elu(),
        tf.layers.dense({ units: 3 }),
        tf.layers.softmax(),
      ],
    });
    const imported = importTfjsLayersModel(await saveToFolder(keras, dir));
    expect(imported.droppedSoftmax).to.equal(true);
    expect(imported.definition.layers[1].config).to.deep.equal({ activation: 'leakyRelu', alpha: 0.2 });
    const model = modelFromDefinition(imported.definition);
    const x = tf.randomNormal([4, 5, 5, 2], 0, 1, 'float32', 3) as Tensor4D;
    const ours = tf.softmax(model.apply(unflattenParams(imported.params, model.specs), x));
    expect(tf.max(tf.abs(tf.sub(ours, keras.predict(x) as tf.Tensor))).dataSync()[0]).to.be.below(1e-5);
    // tfjs itself builds ELU with alpha 1 only; a Keras file may say otherwise.
    const file = path.join(dir, 'model.json');
    const json = JSON.parse(fs.readFileSync(file, 'utf8')) as {
      modelTopology: { config: { layers: { class_name: string; config: Record<string, unknown> }[] } };
    };
    const elu = json.modelTopology.config.layers.find((l) => l.class_name === 'ELU');
    if (elu) elu.config.alpha = 0.5;
    fs.writeFileSync(file, JSON.stringify(json));
    expect(() => importTfjsLayersModel(file)).to.throw(/\(#\d, ELU\): ELU with alpha 0\.5 is not supported \(1 only\)/);
  });

  it('refuses an unsupported layer with one error naming the layer, its class and what is supported', async () => {
    const keras = tf.sequential({
      layers: [tf.layers.flatten({ inputShape: [4, 4, 1] }), tf.layers.layerNormalization(), tf.layers.dense({ units: 3 })],
    });
    const file = await saveToFolder(keras, dir);
    expect(() => importTfjsLayersModel(file)).to.throw(
      /model\.json layer "layer_normalization_LayerNormalization\d+" \(#1, LayerNormalization\): layer class LayerNormalization is not supported; supported: InputLayer, Dense, Conv2D/,
    );
  });

  it('refuses a DepthwiseConv2D option it cannot reproduce, naming the layer and the option', async () => {
    const file = await saveToFolder(depthwiseModel({ padding: 'same', strides: 1, depthMultiplier: 2, useBias: true }, 0), dir);
    const original = fs.readFileSync(file, 'utf8');
    const withConfig = (change: Record<string, unknown>): void => {
      const json = JSON.parse(original) as { modelTopology: { config: { layers: { config: Record<string, unknown> }[] } } };
      Object.assign(json.modelTopology.config.layers[0].config, change);
      fs.writeFileSync(file, JSON.stringify(json));
    };
    const layer = /model\.json layer "depthwise_conv2d_DepthwiseConv2D\d+" \(#0, DepthwiseConv2D\)/.source;
    withConfig({ dilation_rate: [2, 2] });
    expect(() => importTfjsLayersModel(file)).to.throw(new RegExp(`${layer}: dilation_rate \\[2,2\\] is not supported \\(1 only\\)`));
    withConfig({ data_format: 'channels_first' });
    expect(() => importTfjsLayersModel(file)).to.throw(new RegExp(`${layer}: data_format "channels_first" is not supported`));
    withConfig({ padding: 'causal' });
    expect(() => importTfjsLayersModel(file)).to.throw(
      /layer "depthwise_conv2d_DepthwiseConv2D\d+" \(#0, op depthwiseConv2d\): config: .*padding/,
    );
    withConfig({ depth_multiplier: 0 });
    expect(() => importTfjsLayersModel(file)).to.throw(
      /layer "depthwise_conv2d_DepthwiseConv2D\d+" \(#0, op depthwiseConv2d\): config: .*depthMultiplier/,
    );
  });

  it('names a missing shard and a short weight file', async () => {
    const file = await saveToFolder(sequentialModel(), dir);
    fs.writeFileSync(path.join(dir, 'group1-shard2of2.bin'), Buffer.alloc(8));
    expect(() => importTfjsLayersModel(file)).to.throw(/weights: the shards hold \d+ bytes, the manifest needs \d+/);
    fs.rmSync(path.join(dir, 'group1-shard2of2.bin'));
    expect(() => importTfjsLayersModel(file)).to.throw(/weight shard .*group1-shard2of2\.bin: cannot read \(ENOENT\)/);
  });

  it('a scenario names it (model.name "tfjs-layers"): fedleak run starts from its weights and trains it federated', async () => {
    const keras = tf.sequential({
      layers: [
        tf.layers.flatten({ inputShape: [4, 4, 1] }),
        tf.layers.dense({ units: 6, activation: 'relu' }),
        tf.layers.dense({ units: 3 }),
      ],
    });
    const file = await saveToFolder(keras, dir);
    const config = modelSchema.parse({ name: 'tfjs-layers', path: file });
    const weights = keras.getWeights().map((w) => Array.from(w.dataSync()));
    expect(Array.from(initialParamsFor(config) ?? [])).to.deep.equal(weights.flat());
    const scenario = validateScenario(
      {
        name: 'tfjs-run',
        seed: 2,
        data: { dataset: 'synthetic', shape: [4, 4, 1], classes: 3, size: 60 },
        model: { name: 'tfjs-layers', path: file },
        federation: { clients: 2, clientsPerRound: 2, rounds: 2, batchSize: 4 },
      },
      'test',
    );
    const results = await runScenario(
      { scenario, file: 'tfjs-run.json', raw: {} },
      { outDir: path.join(dir, 'out'), progress: false, log: () => undefined },
    );
    expect(results.rounds.map((r) => r.participants.length)).to.deep.equal([2, 2]);
    expect(results.rounds.every((r) => r.dropped.length === 0)).to.equal(true);
    expect(() => validateScenario({ name: 'x', model: { name: 'tfjs-layers' } }, 'test')).to.throw(
      /model\.path: the path of a tfjs model\.json is required/,
    );
    const wrongTask = {
      name: 'x',
      data: { dataset: 'synthetic', shape: [5, 5, 1], classes: 3, size: 60 },
      model: { name: 'tfjs-layers', path: file },
      federation: { clients: 2, clientsPerRound: 2 },
    };
    await runScenario(
      { scenario: validateScenario(wrongTask, 'test'), file: 'x.json', raw: {} },
      { outDir: path.join(dir, 'out2'), progress: false, log: () => undefined },
    ).then(
      () => expect.fail('a model for 4×4 images must not run on 5×5 data'),
      (err: Error) => expect(err.message).to.match(/model\.path .*model\.json: the model takes \[4,4,1\] images, the data has \[5,5,1\]/),
    );
  });
});
