/**
 * The definition → Keras table (shared/models/export/tfjs-layers.ts) on a graph using every op:
 * tfjs's own `loadLayersModel` builds the written model.json, and its predictions equal fedleak's
 * logits within 1e-5 (numeric conv padding as ZeroPadding2D + 'valid' conv, a fused leaky ReLU as
 * its own layer, merges with several inbound layers). An op without an entry is one error naming it.
 */
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tf, type Tensor4D } from '../shared/tensor/tf';
import { initBackend } from '../shared/tensor/backend';
import {
  INFERENCE_FORWARD,
  modelFromDefinition,
  splitFlat,
  unflattenParams,
  MODEL_DEFINITION_FORMAT,
  type ModelDefinition,
} from '../shared/models';
import { OPS } from '../shared/models/graph/ops';
import { KERAS_EXPORTS, tfjsModelJson, writeTfjsLayersModel } from '../shared/models/export/tfjs-layers';
import { Rng } from '../shared/random';

function layer(name: string, op: string, inputs: string[], config: Record<string, unknown>, params: string[] = []) {
  return { name, op, inputs, config, params };
}

/** Every op of OPS at least once, with the export's special cases. */
function everyOpDefinition(): ModelDefinition {
  return {
    format: MODEL_DEFINITION_FORMAT,
    name: 'every-op',
    inputShape: [7, 7, 2],
    numClasses: 3,
    layers: [
      layer('c1', 'conv2d', ['input'], { filters: 3, kernelSize: [3, 3], padding: 1, activation: 'leakyRelu' }, ['c1/kernel', 'c1/bias']),
      layer('c2', 'conv2d', ['input'], { filters: 3, kernelSize: [3, 3], padding: 'same', activation: 'elu' }, ['c2/kernel', 'c2/bias']),
      layer('sum', 'add', ['c1', 'c2'], {}),
      layer('act', 'activation', ['sum'], { activation: 'selu' }),
      layer('mp', 'maxPool2d', ['act'], { poolSize: [2, 2], strides: [1, 1], padding: 'same' }),
      layer('zp', 'zeroPadding2d', ['mp'], {
        padding: [
          [1, 0],
          [0, 1],
        ],
      }),
      layer('ap', 'avgPool2d', ['zp'], { poolSize: [2, 2] }),
      layer('dw', 'depthwiseConv2d', ['ap'], { kernelSize: [3, 3], padding: 1, depthMultiplier: 2, activation: 'tanh' }, [
        'dw/kernel',
        'dw/bias',
      ]),
      layer('c3', 'conv2d', ['dw'], { filters: 2, kernelSize: [1, 1], useBias: false, activation: 'swish' }, ['c3/kernel']),
      layer('cat', 'concatenate', ['ap', 'c3'], {}),
      layer('gap', 'globalAvgPool2d', ['cat'], {}),
      layer('fl', 'flatten', ['c3'], {}),
      layer('cat2', 'concatenate', ['gap', 'fl'], {}),
      layer('rs', 'reshape', ['cat2'], { targetShape: [37] }),
      layer('d1', 'dense', ['rs'], { units: 4, activation: 'relu6' }, ['d1/kernel', 'd1/bias']),
      layer('bn', 'batchNorm', ['d1'], { momentum: 0.9, epsilon: 1e-5 }, ['bn/gamma', 'bn/beta', 'bn/mean', 'bn/variance']),
      layer('do', 'dropout', ['bn'], { rate: 0.25 }),
      layer('rsc', 'rescaling', ['do'], { scale: 0.5, offset: 0.1 }),
      layer('lr', 'activation', ['rsc'], { activation: 'leakyRelu', alpha: 0.1 }),
      layer('d2', 'dense', ['lr'], { units: 3 }, ['d2/kernel', 'd2/bias']),
    ],
    params: [
      { name: 'c1/kernel', shape: [3, 3, 2, 3] },
      { name: 'c1/bias', shape: [3] },
      { name: 'c2/kernel', shape: [3, 3, 2, 3] },
      { name: 'c2/bias', shape: [3] },
      { name: 'dw/kernel', shape: [3, 3, 3, 2] },
      { name: 'dw/bias', shape: [6] },
      { name: 'c3/kernel', shape: [1, 1, 6, 2] },
      { name: 'd1/kernel', shape: [37, 4] },
      { name: 'd1/bias', shape: [4] },
      { name: 'bn/gamma', shape: [4] },
      { name: 'bn/beta', shape: [4] },
      { name: 'bn/mean', shape: [4] },
      { name: 'bn/variance', shape: [4] },
      { name: 'd2/kernel', shape: [4, 3] },
      { name: 'd2/bias', shape: [3] },
    ],
  };
}

function loadWithTfjs(dir: string): Promise<tf.LayersModel> {
  return tf.loadLayersModel({
    load: async () => {
      const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8')) as ReturnType<typeof tfjsModelJson>;
      const data = new Uint8Array(fs.readFileSync(path.join(dir, json.weightsManifest[0].paths[0])));
      return { modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights, weightData: data.buffer };
    },
  });
}

describe('model export to a tfjs LayersModel (Keras topology table)', function () {
  this.timeout(60000);
  let dir = '';
  before(async () => {
    await initBackend({ quiet: true });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedleak-keras-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('a graph with every op: tfjs builds it and predicts fedleak’s logits within 1e-5', async () => {
    const def = everyOpDefinition();
    // normalize is the scenario's data.normalize, never part of an exported built-in (its error: the next test).
    const uncovered = Object.keys(OPS).filter((op) => op !== 'normalize' && !def.layers.some((l) => l.op === op));
    expect(uncovered, 'a new op needs an entry in KERAS_EXPORTS and a layer in everyOpDefinition').to.deep.equal([]);
    const model = modelFromDefinition(def);
    const params = model.initParams(new Rng(4));
    // Batch norm's statistics and affine part away from their neutral 1/0 start, so the export of each shows.
    const bn = model.specs.findIndex((s) => s.name === 'bn/gamma');
    const views = splitFlat(params, model.specs);
    for (let k = bn; k < bn + 4; k++) new Rng(5 + k).fillUniform(views[k], 0.5, 1.5);
    writeTfjsLayersModel(dir, def, params, 'test');
    const json = tfjsModelJson(def, 'test');
    const classes = json.modelTopology.config.layers.map((l) => `${l.name}:${l.class_name}`);
    expect(classes.slice(0, 4)).to.deep.equal(['input:InputLayer', 'c1_pad:ZeroPadding2D', 'c1:Conv2D', 'c1_act:LeakyReLU']);
    expect(json.modelTopology.config.layers.find((l) => l.name === 'sum')?.inbound_nodes).to.deep.equal([
      [
        ['c1_act', 0, 0, {}],
        ['c2', 0, 0, {}],
      ],
    ]);

    const keras = await loadWithTfjs(dir);
    const gap = tf.tidy(() => {
      const x = tf.randomUniform([4, 7, 7, 2], 0, 1, 'float32', 9) as Tensor4D;
      const ours = model.apply(unflattenParams(params, model.specs), x, INFERENCE_FORWARD);
      return tf.max(tf.abs(tf.sub(ours, keras.predict(x) as tf.Tensor))).dataSync()[0];
    });
    expect(gap).to.be.below(1e-5);
    keras.dispose();
  });

  it('an op without an entry is one error naming the layer and the op', () => {
    const saved = KERAS_EXPORTS.globalAvgPool2d;
    delete KERAS_EXPORTS.globalAvgPool2d;
    try {
      expect(() => tfjsModelJson(everyOpDefinition(), 'test')).to.throw(
        /model export: layer "gap" \(#10, op globalAvgPool2d\): no Keras layer for op "globalAvgPool2d"; exportable ops: conv2d, dense/,
      );
    } finally {
      KERAS_EXPORTS.globalAvgPool2d = saved;
    }
  });

  it('refuses a parameter vector of the wrong length', () => {
    expect(() => writeTfjsLayersModel(dir, everyOpDefinition(), new Float32Array(5), 'test')).to.throw(
      /5 parameter values, the definition needs \d+/,
    );
  });
});
